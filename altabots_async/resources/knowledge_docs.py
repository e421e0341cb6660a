"""Documents of a knowledge base: ``client.knowledge_base.docs``, ``.qa`` and ``.chunks``."""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import attrs

from .._checks import (
    InvalidParameterError,
    check_choice,
    check_count,
    check_ids,
    check_int_range,
    compact,
    require_text,
)
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
from ._doc_items import (
    MAX_FILES_PER_CALL,
    MAX_FILES_TEXT_UPDATE,
    QA_PURPOSES,
    SPREADSHEET_LIMITS,
    TEXT_DOC_LIMITS,
    FileItem,
    document_items,
    field_of,
    keywords_item,
    load_document,
    qa_file_items,
    qa_list_items,
)

__all__ = ["SPREADSHEET_LIMITS", "TEXT_DOC_LIMITS", "ChunksResource", "DocsResource", "QAResource"]

DEFAULT_CHUNK_TOKEN = 600
"""The documented default of ``chunk_token``, sent when neither it nor ``splitter`` is given."""


def _chunking(chunk_token: int | None, splitter: str | None) -> dict[str, Any]:
    """``chunk_token`` and/or ``splitter`` for the text-document calls.

    The pages say "either maximum token count or delimiter must be provided" (both: the
    delimiter wins) and also that ``chunk_token`` defaults to 600: when neither is given,
    the documented default is sent so that every request satisfies the rule
    (knowledge/Add_Text_Docs.md, knowledge/Update_Text_Docs.md).
    """
    check_int_range("chunk_token", chunk_token, 1, 1000)
    if splitter is not None and (not isinstance(splitter, str) or not splitter):
        raise InvalidParameterError("splitter", "must be a non-empty string")
    if chunk_token is None and splitter is None:
        chunk_token = DEFAULT_CHUNK_TOKEN
    return compact(chunk_token=chunk_token, splitter=splitter)


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

        Chunking: ``chunk_token`` (1-1000 tokens) and/or ``splitter`` (wins when both are
        given); neither given: ``chunk_token=600`` is sent, the documented default (the page
        requires one of the two).

        Example: ``await client.knowledge_base.docs.add_text(files=[Path("faq.md")])``
        """
        chunking = _chunking(chunk_token, splitter)
        items = await document_items(
            files, limits=TEXT_DOC_LIMITS, max_count=MAX_FILES_PER_CALL, update=False
        )
        body = compact(knowledge_base_id=knowledge_base_id, files=items, **chunking)
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

        Chunking as :meth:`add_text` (one of ``chunk_token`` / ``splitter``; neither: 600).

        Example: ``await client.knowledge_base.docs.update_text(files=[{"doc_id": d, ...}])``
        """
        chunking = _chunking(chunk_token, splitter)
        items = await document_items(
            files,
            limits=TEXT_DOC_LIMITS,
            max_count=MAX_FILES_TEXT_UPDATE,
            update=True,
            name_required=False,
        )
        body = compact(files=items, **chunking)
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
        """Replace spreadsheets, keeping their ids (<= 20 per call; ``doc_id`` each;
        ``file_name`` optional: the page's field table does not list it).

        Example: ``await client.knowledge_base.docs.update_spreadsheet(files=[...])``
        """
        check_int_range("chunk_token", chunk_token, 1, 1000)
        check_int_range("header_row", header_row, 1, 5)
        items = await document_items(
            files,
            limits=SPREADSHEET_LIMITS,
            max_count=MAX_FILES_PER_CALL,
            update=True,
            name_required=False,
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
        """Delete documents.

        The ids travel as one query parameter, separated by literal commas, exactly as the
        page's example (``?doc=id1,id2``; knowledge/Delete_Docs.md): each id is
        percent-encoded on its own, the separating commas are not (an encoded ``%2C`` is a
        different URI, RFC 3986 §2.2). The page's field table calls ``doc`` an array in the
        "Request Body", but a DELETE carries none and the example sends the query.

        Example: ``await client.knowledge_base.docs.delete([doc_id])``
        """
        ids = check_ids("doc", doc_ids, high=10_000)
        for index, value in enumerate(ids):
            if "," in value:
                raise InvalidParameterError(f"doc[{index}]", "must not contain a comma")
        query = ",".join(quote(value, safe="") for value in ids)
        return await self._client._request(
            "DELETE", f"v1/bot/doc/batch/delete?doc={query}", cast_to=Acknowledgement
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
            pairs = qa_list_items(qa_list)
        else:
            files_items = qa_file_items(files, update=False)
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

        Not on the AltaBots pages of the vendor's docs repository (REFERENCE saw it on the live
        site; GPTBots documents it).

        Example: ``await client.knowledge_base.qa.update(doc_id=d, qa_list=[QAPair("q", "a")])``
        """
        if (doc_id is None) == (files is None):
            raise InvalidParameterError("doc_id", "give either doc_id with qa_list, or files")
        body: dict[str, Any]
        if doc_id is not None:
            require_text("doc_id", doc_id)
            body = {"doc_id": doc_id, "qaList": qa_list_items(qa_list)}
        else:
            body = {"files": qa_file_items(files, update=True)}
        body.update(compact(knowledge_base_id=knowledge_base_id))
        return await self._client._request(
            "PUT", "v1/bot/doc/qa/update", cast_to=DocumentChanges, json=body
        )

    async def add_chunks(
        self, doc_id: str, chunks: Sequence[QAChunk | Mapping[str, Any]]
    ) -> Acknowledgement:
        """Append Q&A chunks to a Q&A document.

        Not on the AltaBots pages of the vendor's docs repository (REFERENCE saw it on the live
        site; GPTBots documents it).

        Example: ``await client.knowledge_base.qa.add_chunks(doc_id, [QAChunk("q", "a")])``
        """
        require_text("doc_id", doc_id)
        check_count("chunks", chunks, low=1, high=10_000)
        items = []
        for index, chunk in enumerate(chunks):
            field = f"chunks[{index}]"
            items.append(
                compact(
                    question=require_text(f"{field}.question", field_of(chunk, "question")),
                    answer=require_text(f"{field}.answer", field_of(chunk, "answer")),
                    keywords=keywords_item(f"{field}.keywords", field_of(chunk, "keywords")),
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
                    content=require_text(f"{field}.content", field_of(chunk, "content")),
                    keywords=keywords_item(f"{field}.keywords", field_of(chunk, "keywords")),
                )
            )
        return await self._client._request(
            "POST",
            "v1/bot/doc/chunks/add",
            cast_to=Acknowledgement,
            json={"doc_id": doc_id, "chunks": items},
        )
