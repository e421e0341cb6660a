"""Helpers shared by the simulator's endpoint modules: argument checks and multipart bodies."""

from __future__ import annotations

import email.parser
import email.policy
import functools
from collections.abc import Mapping
from typing import Any

import attrs

from .._http import Context, Handler, HTTPError, Request, Response, RouteTable

__all__ = [
    "BAD_PARAM",
    "FormFile",
    "bad",
    "guard_deleted_agent",
    "int_field",
    "multipart",
    "page_args",
    "str_field",
]

BAD_PARAM = 40000


def bad(message: str, code: int = BAD_PARAM, status: int = 400) -> HTTPError:
    """An error to raise from a handler; by default 400 / 40000 "invalid parameter"."""
    return HTTPError(status, code, message)


def str_field(data: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    """A non-blank string field of a JSON body or form (40000 when missing and required)."""
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise bad(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise bad(f"{name} must be a string")
    return value


def int_field(value: Any, name: str, low: int, high: int, *, default: int | None = None) -> int:
    """An int (numbers and numeric strings accepted) in ``low``..``high``; 40000 otherwise."""
    if value is None or value == "":
        if default is None:
            raise bad(f"{name} is required")
        return default
    if isinstance(value, bool):
        raise bad(f"{name} must be an integer")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise bad(f"{name} must be an integer") from None
    if not low <= number <= high:
        raise bad(f"{name} must be between {low} and {high}")
    return number


def page_args(request: Request, low: int, high: int) -> tuple[int, int]:
    """``page`` (>= 1) and ``page_size`` (``low``..``high``) from the query string."""
    page = int_field(request.query_one("page"), "page", 1, 10**9)
    size = int_field(request.query_one("page_size"), "page_size", low, high)
    return page, size


def paginate(items: list[Any], page: int, size: int) -> list[Any]:
    """The slice of ``items`` on page ``page`` of ``size``."""
    start = (page - 1) * size
    return items[start : start + size]


@attrs.frozen
class FormFile:
    """A file part of a multipart body."""

    filename: str
    content: bytes


def multipart(request: Request) -> tuple[dict[str, str], dict[str, FormFile]]:
    """Parse a ``multipart/form-data`` body into (text fields, file parts); 40000 otherwise."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise bad("multipart/form-data body expected")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    if not message.is_multipart():
        raise bad("malformed multipart body")
    fields: dict[str, str] = {}
    files: dict[str, FormFile] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = FormFile(filename, data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


def extension(filename: str) -> str:
    """The lower-case extension of ``filename`` without the dot ("" when none)."""
    _, dot, ext = filename.rpartition(".")
    return ext.lower() if dot else ""


AGENT_DELETED = 20059


def guard_deleted_agent(table: RouteTable) -> RouteTable:
    """Wrap every handler of ``table`` so that a deleted agent answers 20059 (HTTP 404)."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(ctx: Context) -> Response:
            if ctx.store.agent_deleted:
                return Response.error(404, AGENT_DELETED, "Agent has been deleted")
            return await handler(ctx)

        return guarded

    table.entries = [(method, path, wrap(handler)) for method, path, handler in table.entries]
    return table
