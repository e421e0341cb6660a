"""Documents of a knowledge base: ``client.knowledge_base.docs``, ``.qa`` and ``.chunks``."""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import attrs

from .._checks import (
    InvalidParameterError,
    check_choice,
    check_count,
    check_ids,
    check_int_range,
    check_length,
    compact,
    require_text,
)
from .._files import MIB, encode_base64, read_upload
from .._pagination import AsyncPager, Page
from ..types.knowledge import (
    Acknowledgement,
    AffectCount,
    Doc,
    DocPage,
    DocStatus,
    DocumentChanges,
    DocumentFile,
    QAChunk,
    QAPair,
    TextChunk,
)
from ._base import Resource

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
        return DocumentFile(**{key: item.get(key) for key in _FILE_FIELDS})
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
) -> builtins.list[dict[str, Any]]:
    """Validate ``files`` (loading local paths) and return the wire items."""
    check_count("files", files, low=1, high=max_count)
    items: builtins.list[dict[str, Any]] = []
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


def _keywords(field: str, keywords: Sequence[str] | None) -> builtins.list[str] | None:
    if keywords is None:
        return None
    check_count(field, keywords, high=MAX_KEYWORDS)
    return [require_text(f"{field}[{i}]", word) for i, word in enumerate(keywords)]


def _qa_list(qa_list: Sequence[QAPair | Mapping[str, Any]] | None) -> builtins.list[dict[str, str]]:
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


def _qa_files(files: Sequence[Mapping[str, Any] | DocumentFile] | None, *, update: bool) -> Any:
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


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


@attrs.define
class DocsResource(Resource):
    """``client.knowledge_base.docs``: list, add, replace, delete documents; their status."""

    async def list(self, *, knowledge_base_id: str, page: int = 1, page_size: int = 20) -> DocPage:
        """One page of a knowledge base's documents (page size 10-100).

        Example: ``page = await client.knowledge_base.docs.list(knowledge_base_id=kb_id)``
        """
        require_text("knowledge_base_id", knowledge_base_id)
        check_int_range("page", page, 1, 1_000_000)
        check_int_range("page_size", page_size, 10, 100)
        params = {"knowledge_base_id": knowledge_base_id, "page": page, "page_size": page_size}
        return await self._client._request(
            "GET", "v1/bot/doc/query/page", cast_to=DocPage, params=params
        )

    def list_all(self, *, knowledge_base_id: str, page_size: int = 100) -> AsyncPager[Doc]:
        """Every document of a knowledge base, page after page, fetched lazily.

        Example: ``async for doc in client.knowledge_base.docs.list_all(knowledge_base_id=k): ...``
        """
        require_text("knowledge_base_id", knowledge_base_id)
        check_int_range("page_size", page_size, 10, 100)

        async def fetch(number: int) -> Page[Doc]:
            result = await self.list(
                knowledge_base_id=knowledge_base_id, page=number, page_size=page_size
            )
            return Page(result.items, number, page_size, result.total)

        return AsyncPager(fetch)

    async def file_from_path(
        self,
        path: os.PathLike[str] | str,
        *,
        spreadsheet: bool = False,
        doc_id: str | None = None,
        source_url: str | None = None,
        file_name: str | None = None,
    ) -> DocumentFile:
        """Read a local file (type and size checked) into a base64 :class:`DocumentFile`.

        Example: ``f = await client.knowledge_base.docs.file_from_path("guide.pdf")``
        """
        limits = SPREADSHEET_LIMITS if spreadsheet else TEXT_DOC_LIMITS
        return await load_document(
            path, limits=limits, doc_id=doc_id, source_url=source_url, file_name=file_name
        )

    async def add_text(
        self,
        *,
        files: Sequence[FileItem],
        knowledge_base_id: str | None = None,
        chunk_token: int | None = None,
        splitter: str | None = None,
    ) -> DocumentChanges:
        """Add text documents (pdf, txt, md, doc, docx; <= 20 per call) by URL or base64.

        Example: ``await client.knowledge_base.docs.add_text(files=[Path("faq.md")])``
        """
        check_int_range("chunk_token", chunk_token, 1, 1000)
        items = await document_items(
            files, limits=TEXT_DOC_LIMITS, max_count=MAX_FILES_PER_CALL, update=False
        )
        body = compact(
            knowledge_base_id=knowledge_base_id,
            files=items,
            chunk_token=chunk_token,
            splitter=splitter,
        )
        return await self._client._request(
            "POST", "v1/bot/doc/text/add", cast_to=DocumentChanges, json=body
        )

    async def update_text(
        self,
        *,
        files: Sequence[FileItem],
        chunk_token: int | None = None,
        splitter: str | None = None,
    ) -> DocumentChanges:
        """Replace text documents, keeping their ids (<= 200 per call; ``doc_id`` each).

        Example: ``await client.knowledge_base.docs.update_text(files=[{"doc_id": d, ...}])``
        """
        check_int_range("chunk_token", chunk_token, 1, 1000)
        items = await document_items(
            files,
            limits=TEXT_DOC_LIMITS,
            max_count=MAX_FILES_TEXT_UPDATE,
            update=True,
            name_required=False,
        )
        body = compact(files=items, chunk_token=chunk_token, splitter=splitter)
        return await self._client._request(
            "PUT", "v1/bot/doc/text/update", cast_to=DocumentChanges, json=body
        )

    async def add_spreadsheet(
        self,
        *,
        files: Sequence[FileItem],
        knowledge_base_id: str | None = None,
        chunk_token: int | None = None,
        header_row: int | None = None,
    ) -> DocumentChanges:
        """Add spreadsheets (csv, xls, xlsx <= 10 MB; <= 20 per call); ``header_row`` 1-5.

        Example: ``await client.knowledge_base.docs.add_spreadsheet(files=[Path("p.csv")])``
        """
        check_int_range("chunk_token", chunk_token, 1, 1000)
        check_int_range("header_row", header_row, 1, 5)
        items = await document_items(
            files, limits=SPREADSHEET_LIMITS, max_count=MAX_FILES_PER_CALL, update=False
        )
        body = compact(
            knowledge_base_id=knowledge_base_id,
            files=items,
            chunk_token=chunk_token,
            header_row=header_row,
        )
        return await self._client._request(
            "POST", "v1/bot/doc/spreadsheet/add", cast_to=DocumentChanges, json=body
        )

    async def update_spreadsheet(
        self,
        *,
        files: Sequence[FileItem],
        knowledge_base_id: str | None = None,
        chunk_token: int | None = None,
        header_row: int | None = None,
    ) -> DocumentChanges:
        """Replace spreadsheets, keeping their ids (<= 20 per call; ``doc_id`` each).

        Example: ``await client.knowledge_base.docs.update_spreadsheet(files=[...])``
        """
        check_int_range("chunk_token", chunk_token, 1, 1000)
        check_int_range("header_row", header_row, 1, 5)
        items = await document_items(
            files, limits=SPREADSHEET_LIMITS, max_count=MAX_FILES_PER_CALL, update=True
        )
        body = compact(
            knowledge_base_id=knowledge_base_id,
            files=items,
            chunk_token=chunk_token,
            header_row=header_row,
        )
        return await self._client._request(
            "PUT", "v1/bot/doc/spreadsheet/update", cast_to=DocumentChanges, json=body
        )

    async def delete(self, doc_ids: Sequence[str]) -> Acknowledgement:
        """Delete documents (sent as one comma-separated ``doc=a,b``).

        Example: ``await client.knowledge_base.docs.delete([doc_id])``
        """
        ids = check_ids("doc", doc_ids, high=10_000)
        for index, value in enumerate(ids):
            if "," in value:
                raise InvalidParameterError(f"doc[{index}]", "must not contain a comma")
        return await self._client._request(
            "DELETE",
            "v1/bot/doc/batch/delete",
            cast_to=Acknowledgement,
            params={"doc": ",".join(ids)},
        )

    async def status(self, data_ids: Sequence[str]) -> builtins.list[DocStatus]:
        """Processing status of documents (``AVAILABLE`` once embedded).

        Example: ``[s] = await client.knowledge_base.docs.status([doc_id])``
        """
        ids = check_ids("data_ids", data_ids, high=10_000)
        return await self._client._request(
            "GET",
            "v1/bot/data/detail/list",
            cast_to=builtins.list[DocStatus],
            params={"data_ids": ids},
        )

    async def retry_failed(self) -> AffectCount:
        """Queue every document that failed to embed for another try.

        Example: ``n = (await client.knowledge_base.docs.retry_failed()).affect_count``
        """
        return await self._client._request(
            "POST", "v1/bot/data/retry/batch", cast_to=AffectCount, json={}
        )


@attrs.define
class QAResource(Resource):
    """``client.knowledge_base.qa``: Q&A documents and their chunks."""

    async def add(
        self,
        *,
        purpose: str,
        knowledge_base_id: str | None = None,
        name: str | None = None,
        qa_list: Sequence[QAPair | Mapping[str, Any]] | None = None,
        files: Sequence[Mapping[str, Any] | DocumentFile] | None = None,
        header_row: int | None = None,
        chunk_token: int | None = None,
        splitter: str | None = None,
    ) -> DocumentChanges:
        """Add a Q&A document: ``QA_TEXT`` (``name`` + ``qa_list``), ``QA_FILE`` (CSV files) or
        ``FILE_2_QA`` (documents converted to Q&A).

        Example: ``await client.knowledge_base.qa.add(purpose="QA_TEXT", name="FAQ",
        qa_list=[QAPair("Hours?", "9-5")])``
        """
        check_choice("purpose", purpose, QA_PURPOSES)
        check_int_range("header_row", header_row, 1, 5)
        check_int_range("chunk_token", chunk_token, 1, 1000)
        pairs = files_items = None
        if purpose == "QA_TEXT":
            require_text("name", name)
            pairs = _qa_list(qa_list)
        else:
            files_items = _qa_files(files, update=False)
        body = compact(
            purpose=purpose,
            knowledge_base_id=knowledge_base_id,
            name=name,
            qaList=pairs,
            files=files_items,
            header_row=header_row,
            chunk_token=chunk_token,
            splitter=splitter,
        )
        return await self._client._request(
            "POST", "v1/bot/doc/qa/add", cast_to=DocumentChanges, json=body
        )

    async def update(
        self,
        *,
        doc_id: str | None = None,
        qa_list: Sequence[QAPair | Mapping[str, Any]] | None = None,
        files: Sequence[Mapping[str, Any] | DocumentFile] | None = None,
        knowledge_base_id: str | None = None,
    ) -> DocumentChanges:
        """Replace a Q&A document: ``doc_id`` + ``qa_list``, or ``files`` (each with ``doc_id``).

        Example: ``await client.knowledge_base.qa.update(doc_id=d, qa_list=[QAPair("q", "a")])``
        """
        if (doc_id is None) == (files is None):
            raise InvalidParameterError("doc_id", "give either doc_id with qa_list, or files")
        body: dict[str, Any]
        if doc_id is not None:
            require_text("doc_id", doc_id)
            body = {"doc_id": doc_id, "qaList": _qa_list(qa_list)}
        else:
            body = {"files": _qa_files(files, update=True)}
        body.update(compact(knowledge_base_id=knowledge_base_id))
        return await self._client._request(
            "PUT", "v1/bot/doc/qa/update", cast_to=DocumentChanges, json=body
        )

    async def add_chunks(
        self, doc_id: str, chunks: Sequence[QAChunk | Mapping[str, Any]]
    ) -> Acknowledgement:
        """Append Q&A chunks to a Q&A document.

        Example: ``await client.knowledge_base.qa.add_chunks(doc_id, [QAChunk("q", "a")])``
        """
        require_text("doc_id", doc_id)
        check_count("chunks", chunks, low=1, high=10_000)
        items = []
        for index, chunk in enumerate(chunks):
            field = f"chunks[{index}]"
            items.append(
                compact(
                    question=require_text(f"{field}.question", _field(chunk, "question")),
                    answer=require_text(f"{field}.answer", _field(chunk, "answer")),
                    keywords=_keywords(f"{field}.keywords", _field(chunk, "keywords")),
                )
            )
        return await self._client._request(
            "POST",
            "v1/bot/doc/qa/chunks/add",
            cast_to=Acknowledgement,
            json={"doc_id": doc_id, "chunks": items},
        )


@attrs.define
class ChunksResource(Resource):
    """``client.knowledge_base.chunks``: append text chunks to a document."""

    async def add(
        self, doc_id: str, chunks: Sequence[TextChunk | Mapping[str, Any]]
    ) -> Acknowledgement:
        """Append chunks (``content`` <= 1000 tokens, <= 50 ``keywords``) to a text document.

        Example: ``await client.knowledge_base.chunks.add(doc_id, [TextChunk("Opening hours...")])``
        """
        require_text("doc_id", doc_id)
        check_count("chunks", chunks, low=1, high=10_000)
        items = []
        for index, chunk in enumerate(chunks):
            field = f"chunks[{index}]"
            items.append(
                compact(
                    content=require_text(f"{field}.content", _field(chunk, "content")),
                    keywords=_keywords(f"{field}.keywords", _field(chunk, "keywords")),
                )
            )
        return await self._client._request(
            "POST",
            "v1/bot/doc/chunks/add",
            cast_to=Acknowledgement,
            json={"doc_id": doc_id, "chunks": items},
        )
