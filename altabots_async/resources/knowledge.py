"""The Knowledge Base category: ``client.knowledge_base`` (REFERENCE §4.4, endpoints 24-39)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .._checks import (
    InvalidParameterError,
    check_ids,
    check_int_range,
    check_number_range,
    compact,
    require_text,
)
from .._files import FileInput, read_upload, request_multipart
from .._pagination import AsyncPager, Page
from ..types.knowledge import (
    KnowledgeBase,
    KnowledgeBaseCreated,
    KnowledgeBaseList,
    UploadedFile,
    VectorMatch,
)
from ._base import Resource
from .knowledge_docs import TEXT_DOC_LIMITS, ChunksResource, DocsResource, QAResource

MAX_VECTOR_DATA_IDS = 10
UPLOAD_EXTENSIONS = ("pdf", "doc", "docx", "md", "txt")


@attrs.define
class KnowledgeBaseResource(Resource):
    """``client.knowledge_base``: knowledge bases, vector search, and the document
    sub-resources ``.docs``, ``.qa`` and ``.chunks``."""

    @property
    def docs(self) -> DocsResource:
        """Documents: list, add, replace, delete, status, re-embed."""
        return DocsResource(self._client)

    @property
    def qa(self) -> QAResource:
        """Q&A documents and Q&A chunks."""
        return QAResource(self._client)

    @property
    def chunks(self) -> ChunksResource:
        """Text chunks appended to a document."""
        return ChunksResource(self._client)

    async def create(
        self,
        *,
        name: str,
        desc: str,
        graph_enable: bool | None = None,
        access_control_enabled: bool | None = None,
        kg_ner_extraction_user_prompt: str | None = None,
    ) -> KnowledgeBaseCreated:
        """Create a knowledge base (``POST /v1/bot/knowledge/base/create``).

        GPTBots only (not on the AltaBots pages).

        Example: ``kb = await client.knowledge_base.create(name="Docs", desc="Product docs")``
        """
        require_text("name", name)
        require_text("desc", desc)
        if kg_ner_extraction_user_prompt is not None and not graph_enable:
            raise InvalidParameterError(
                "kg_ner_extraction_user_prompt", "only applies with graph_enable=True"
            )
        body = compact(
            name=name,
            desc=desc,
            graph_enable=graph_enable,
            access_control_enabled=access_control_enabled,
            kg_ner_extraction_user_prompt=kg_ner_extraction_user_prompt,
        )
        return await self._client._request(
            "POST", "v1/bot/knowledge/base/create", cast_to=KnowledgeBaseCreated, json=body
        )

    async def list(self) -> KnowledgeBaseList:
        """Every knowledge base of the agent (unpaginated).

        Example: ``kbs = (await client.knowledge_base.list()).knowledge_base``
        """
        return await self._client._request(
            "GET", "v1/bot/knowledge/base/page", cast_to=KnowledgeBaseList
        )

    def list_all(self) -> AsyncPager[KnowledgeBase]:
        """The knowledge bases as a pager (one request: the endpoint is not paginated).

        Example: ``async for kb in client.knowledge_base.list_all(): ...``
        """

        async def fetch(_: int) -> Page[KnowledgeBase]:
            items = (await self.list()).knowledge_base
            return Page(items, 1, max(len(items), 1), len(items))

        return AsyncPager(fetch)

    async def vector_match(
        self,
        *,
        prompt: str,
        top_k: int = 5,
        data_ids: Sequence[str] | None = None,
        embedding_rate: float | None = None,
    ) -> VectorMatch:
        """Similarity search over the agent's documents (``top_k`` 1-10, <= 10 ``data_ids``).

        Example: ``hits = await client.knowledge_base.vector_match(prompt="refunds", top_k=3)``
        """
        require_text("prompt", prompt)
        check_int_range("top_k", top_k, 1, 10)
        ids = check_ids("data_ids", data_ids, low=0, high=MAX_VECTOR_DATA_IDS)
        check_number_range("embedding_rate", embedding_rate, 0.0, 1.0)
        body = compact(
            prompt=prompt,
            top_k=top_k,
            data_ids=ids if data_ids is not None else None,
            embedding_rate=embedding_rate,
        )
        return await self._client._request(
            "POST", "v1/vector/match", cast_to=VectorMatch, json=body, idempotent=True
        )

    async def upload_file(self, file: FileInput, *, filename: str | None = None) -> UploadedFile:
        """Upload one document as multipart (legacy; pdf, doc, docx, md, txt; split every
        600 tokens).

        GPTBots only (not on the AltaBots pages).

        Example: ``doc = await client.knowledge_base.upload_file("guide.pdf")``
        """
        ext = (filename or (file if isinstance(file, str) else "")).rpartition(".")[2].lower()
        limit = TEXT_DOC_LIMITS.get(ext, max(TEXT_DOC_LIMITS.values()))
        upload = await read_upload(
            file,
            max_bytes=limit,
            filename=filename,
            default_name="document.txt",
            allowed_extensions=UPLOAD_EXTENSIONS,
        )
        limit = TEXT_DOC_LIMITS[upload.filename.rpartition(".")[2].lower()]
        if len(upload.content) > limit:
            raise InvalidParameterError(
                "file", f"file is {len(upload.content)} bytes, more than the {limit}-byte limit"
            )
        return await request_multipart(
            self._client, "POST", "v1/bot/data/file/upload", cast_to=UploadedFile, upload=upload
        )
