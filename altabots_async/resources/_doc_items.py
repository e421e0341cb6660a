"""Request items of the document calls: files (URL, base64, local path), Q&A pairs, chunks.

Each helper validates its items against REFERENCE §4.4 and returns the wire dicts; a local path
is read, type- and size-checked, and base64-encoded (:func:`load_document`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from .._checks import InvalidParameterError, check_count, check_length, compact, require_text
from .._files import MIB, encode_base64, read_upload
from ..types.knowledge import DocumentFile, QAPair

TEXT_DOC_LIMITS: dict[str, int] = {
    "pdf": 30 * MIB,
    "txt": 10 * MIB,
    "md": 10 * MIB,
    "doc": 10 * MIB,
    "docx": 10 * MIB,
}
"""Text documents: pdf up to 30 MB, the other types up to 10 MB."""
SPREADSHEET_LIMITS: dict[str, int] = {"csv": 10 * MIB, "xls": 10 * MIB, "xlsx": 10 * MIB}
"""Spreadsheets: csv, xls, xlsx up to 10 MB."""

MAX_FILES_PER_CALL = 20
MAX_FILES_TEXT_UPDATE = 200
MAX_KEYWORDS = 50
QA_PURPOSES = ("QA_TEXT", "QA_FILE", "FILE_2_QA")

FileItem: TypeAlias = "DocumentFile | Mapping[str, Any] | os.PathLike[str]"
"""A ``files=[...]`` item: a :class:`DocumentFile`, a dict of its wire fields, or a local path."""

_FILE_FIELDS = ("doc_id", "file_url", "file_base64", "file_name", "source_url")


def _extension(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def _type_error(field: str, ext: str, limits: Mapping[str, int]) -> InvalidParameterError:
    accepted = ", ".join(limits)
    return InvalidParameterError(
        field, f"file type {ext or '(none)'!r} is not accepted; use one of {accepted}"
    )


def _decoded_size(text: str) -> int:
    stripped = text.strip()
    return len(stripped) * 3 // 4 - stripped[-2:].count("=")


def _check_url(field: str, value: str | None, *, allow_clear: bool = False) -> None:
    if value is None or (allow_clear and value in ("", "NULL")):
        return
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise InvalidParameterError(field, "must be an http(s) URL")


async def load_document(
    path: os.PathLike[str] | str,
    *,
    limits: Mapping[str, int],
    field: str = "file",
    doc_id: str | None = None,
    source_url: str | None = None,
    file_name: str | None = None,
) -> DocumentFile:
    """Read a local document, check its type and size, and encode it as ``file_base64``."""
    name = os.path.basename(os.fspath(path)) if file_name is None else file_name
    ext = _extension(name)
    if ext not in limits:
        raise _type_error(field, ext, limits)
    upload = await read_upload(path, field=field, max_bytes=limits[ext], filename=name)
    return DocumentFile(
        file_name=upload.filename,
        file_base64=encode_base64(upload.content),
        source_url=source_url,
        doc_id=doc_id,
    )


def _as_document(field: str, item: Any) -> DocumentFile:
    if isinstance(item, DocumentFile):
        return item
    if isinstance(item, Mapping):
        unknown = set(item) - set(_FILE_FIELDS)
        if unknown:
            raise InvalidParameterError(field, f"unknown keys {sorted(unknown)}")
        return DocumentFile(
            file_name=item.get("file_name"),
            file_url=item.get("file_url"),
            file_base64=item.get("file_base64"),
            source_url=item.get("source_url"),
            doc_id=item.get("doc_id"),
        )
    raise InvalidParameterError(
        field, f"expected a DocumentFile, a dict or a path, got {type(item).__name__}"
    )


async def document_items(
    files: Sequence[FileItem] | None,
    *,
    limits: Mapping[str, int],
    max_count: int,
    update: bool,
    name_required: bool = True,
) -> list[dict[str, Any]]:
    """Validate ``files`` (loading local paths) and return the wire items."""
    check_count("files", files, low=1, high=max_count)
    items: list[dict[str, Any]] = []
    for index, raw in enumerate(files or ()):
        field = f"files[{index}]"
        if isinstance(raw, os.PathLike):
            doc = await load_document(raw, limits=limits, field=field)
        else:
            doc = _as_document(field, raw)
        if update:
            require_text(f"{field}.doc_id", doc.doc_id)
        if doc.file_url is None and doc.file_base64 is None:
            raise InvalidParameterError(field, "needs file_url or file_base64")
        if name_required or doc.file_name is not None:
            require_text(f"{field}.file_name", doc.file_name)
            check_length(f"{field}.file_name", doc.file_name, 1, 200)
        _check_url(f"{field}.file_url", doc.file_url)
        _check_url(f"{field}.source_url", doc.source_url, allow_clear=update)
        if doc.file_base64 is not None:
            ext = _extension(doc.file_name or "")
            if doc.file_name is not None and ext not in limits:
                raise _type_error(f"{field}.file_name", ext, limits)
            limit = limits.get(ext, max(limits.values()))
            size = _decoded_size(doc.file_base64)
            if size > limit:
                raise InvalidParameterError(
                    f"{field}.file_base64",
                    f"file is {size} bytes, more than the {limit}-byte limit",
                )
        items.append(
            compact(
                doc_id=doc.doc_id if update else None,
                file_url=doc.file_url,
                file_base64=doc.file_base64,
                file_name=doc.file_name,
                source_url=doc.source_url,
            )
        )
    return items


def keywords_item(field: str, keywords: Sequence[str] | None) -> list[str] | None:
    if keywords is None:
        return None
    check_count(field, keywords, high=MAX_KEYWORDS)
    return [require_text(f"{field}[{i}]", word) for i, word in enumerate(keywords)]


def qa_list_items(
    qa_list: Sequence[QAPair | Mapping[str, Any]] | None,
) -> list[dict[str, str]]:
    check_count("qaList", qa_list, low=1, high=10_000)
    pairs = []
    for index, pair in enumerate(qa_list or ()):
        question = pair.question if isinstance(pair, QAPair) else pair.get("question")
        answer = pair.answer if isinstance(pair, QAPair) else pair.get("answer")
        pairs.append(
            {
                "question": require_text(f"qaList[{index}].question", question),
                "answer": require_text(f"qaList[{index}].answer", answer),
            }
        )
    return pairs


def qa_file_items(files: Sequence[Mapping[str, Any] | DocumentFile] | None, *, update: bool) -> Any:
    check_count("files", files, low=1, high=MAX_FILES_PER_CALL)
    items = []
    for index, raw in enumerate(files or ()):
        field = f"files[{index}]"
        doc = _as_document(field, raw)
        if update:
            require_text(f"{field}.doc_id", doc.doc_id)
        if doc.file_url is None and doc.source_url is None:
            raise InvalidParameterError(field, "needs file_url or source_url")
        _check_url(f"{field}.file_url", doc.file_url)
        _check_url(f"{field}.source_url", doc.source_url)
        require_text(f"{field}.file_name", doc.file_name)
        check_length(f"{field}.file_name", doc.file_name, 1, 200)
        items.append(
            compact(
                doc_id=doc.doc_id if update else None,
                file_url=doc.file_url,
                source_url=doc.source_url,
                file_name=doc.file_name,
            )
        )
    return items


def field_of(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
