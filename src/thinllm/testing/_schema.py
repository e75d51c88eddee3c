"""Produce a minimal value that satisfies a simple JSON schema.

Used when a structured-output request arrives and no reply was scripted, so code that
parses the reply into its model still gets something valid: strings ``"x"``, numbers
``0``, booleans ``false``, arrays ``[]``, objects with every listed property.
"""

from __future__ import annotations

from typing import Any

__all__ = ["minimal_value"]


def minimal_value(schema: Any, root: Any = None, depth: int = 0) -> Any:
    """Return a small JSON value valid for ``schema`` (``$ref`` into ``$defs`` supported)."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > 20:
        return None
    if "$ref" in schema:
        return minimal_value(_resolve(root, schema["$ref"]), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if options:
            non_null = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return minimal_value((non_null or options)[0], root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and "properties" in schema:
        kind = "object"
    if kind == "object":
        props = schema.get("properties", {})
        return {name: minimal_value(sub, root, depth + 1) for name, sub in props.items()}
    if kind == "array":
        count = int(schema.get("minItems", 0))
        return [minimal_value(schema.get("items", {}), root, depth + 1) for _ in range(count)]
    if kind == "string":
        return "x" * max(1, int(schema.get("minLength", 1)))
    if kind in ("number", "integer"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        if low is None:
            return 0
        return int(low) + (1 if "exclusiveMinimum" in schema else 0)
    if kind == "boolean":
        return False
    return None


def _resolve(root: Any, ref: str) -> Any:
    node = root
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node
