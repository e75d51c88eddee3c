"""A small JSON Schema validator for graders, so structured-output evals need no extra package.

It covers the keywords structured outputs use (type, properties, required,
additionalProperties, items, enum, const, numeric and length bounds, pattern,
anyOf/allOf/oneOf). A schema using anything else (``$ref``, ``format``, ...) is handed
to the ``jsonschema`` package when it is installed, and refused with a clear error
when it is not: a silently ignored keyword would pass outputs it should fail.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from typing import Any

from thinllm.errors import ConfigurationError

__all__ = ["compile_schema"]

SUPPORTED = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "anyOf",
        "allOf",
        "oneOf",
        "title",
        "description",
        "default",
        "examples",
        "$schema",
    }
)

_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}

Validator = Callable[[Any], list[str]]


def compile_schema(schema: Mapping[str, Any]) -> Validator:
    """A function returning the list of problems (empty when ``value`` is valid)."""
    unknown = _unknown_keywords(schema)
    if not unknown:
        return lambda value: _validate(value, schema, "$")
    try:
        jsonschema: Any = importlib.import_module("jsonschema")
    except ImportError:
        raise ConfigurationError(
            f"JSON schema keyword(s) {', '.join(sorted(unknown))} need the jsonschema "
            "package (pip install jsonschema), or simplify the schema"
        ) from None
    checker = jsonschema.Draft202012Validator(dict(schema))

    def validate(value: Any) -> list[str]:
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
            for e in checker.iter_errors(value)
        ]

    return validate


def _unknown_keywords(schema: Any) -> set[str]:
    if not isinstance(schema, Mapping):
        return set()
    out = {str(k) for k in schema if k not in SUPPORTED}
    for key in ("items", "additionalProperties"):
        out |= _unknown_keywords(schema.get(key))
    for sub in (schema.get("properties") or {}).values():
        out |= _unknown_keywords(sub)
    for key in ("anyOf", "allOf", "oneOf"):
        for sub in schema.get(key) or ():
            out |= _unknown_keywords(sub)
    return out


def _validate(value: Any, schema: Mapping[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    kind = schema.get("type")
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        if not any(_TYPES[k](value) for k in kinds):
            return [f"{path}: expected {' or '.join(kinds)}, got {_json_type(value)}"]
    if "const" in schema and value != schema["const"]:
        problems.append(f"{path}: must be {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: must be one of {list(schema['enum'])!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        problems += _bounds(value, schema, path)
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            problems.append(f"{path}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append(f"{path}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{path}: does not match {schema['pattern']!r}")
    if isinstance(value, dict):
        problems += _object(value, schema, path)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            problems.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(f"{path}: more than {schema['maxItems']} items")
        if isinstance(schema.get("items"), Mapping):
            for i, item in enumerate(value):
                problems += _validate(item, schema["items"], f"{path}[{i}]")
    for sub in schema.get("allOf") or ():
        problems += _validate(value, sub, path)
    if "anyOf" in schema and not any(not _validate(value, s, path) for s in schema["anyOf"]):
        problems.append(f"{path}: matches none of anyOf")
    if "oneOf" in schema and sum(not _validate(value, s, path) for s in schema["oneOf"]) != 1:
        problems.append(f"{path}: must match exactly one of oneOf")
    return problems


def _bounds(value: float, schema: Mapping[str, Any], path: str) -> list[str]:
    out = []
    if "minimum" in schema and value < schema["minimum"]:
        out.append(f"{path}: below minimum {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        out.append(f"{path}: above maximum {schema['maximum']}")
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        out.append(f"{path}: must be > {schema['exclusiveMinimum']}")
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        out.append(f"{path}: must be < {schema['exclusiveMaximum']}")
    return out


def _object(value: dict[str, Any], schema: Mapping[str, Any], path: str) -> list[str]:
    out = []
    properties: Mapping[str, Any] = schema.get("properties") or {}
    out += [f"{path}.{n}: required" for n in schema.get("required") or () if n not in value]
    for name, item in value.items():
        if name in properties:
            out += _validate(item, properties[name], f"{path}.{name}")
            continue
        extra = schema.get("additionalProperties", True)
        if extra is False:
            out.append(f"{path}.{name}: not allowed")
        elif isinstance(extra, Mapping):
            out += _validate(item, extra, f"{path}.{name}")
    return out


def _json_type(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _TYPES[name](value):
            return name
    return type(value).__name__
