"""Just enough multipart/form-data parsing for ``files.create`` uploads."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

__all__ = ["parse_multipart"]


def parse_multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """Return form fields as strings, and files as ``{"filename", "content_type", "content"}``."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    fields: dict[str, Any] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        filename = part.get_filename()
        if filename is None:
            fields[str(name)] = payload.decode("utf-8", errors="replace")
        else:
            fields[str(name)] = {
                "filename": filename,
                "content_type": part.get_content_type(),
                "content": payload.decode("utf-8", errors="replace"),
            }
    return fields
