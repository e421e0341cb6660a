"""Models of the Knowledge Base category (REFERENCE §4.4, endpoints 24-39)."""

from __future__ import annotations

from typing import ClassVar

import attrs

from ._base import Model, also

__all__ = [
    "Acknowledgement",
    "AffectCount",
    "Doc",
    "DocPage",
    "DocStatus",
    "DocumentChanges",
    "DocumentFile",
    "DocumentResult",
    "FailedDocument",
    "KnowledgeBase",
    "KnowledgeBaseCreated",
    "KnowledgeBaseList",
    "QAChunk",
    "QAPair",
    "TextChunk",
    "UploadedFile",
    "VectorMatch",
    "VectorMatchItem",
]


# ----------------------------------------------------------------------- shared answers


@attrs.frozen
class Acknowledgement(Model):
    """A write acknowledged as ``{"code": 0, "message": "OK"}``."""

    code: int = 0
    message: str | None = None


@attrs.frozen
class AffectCount(Model):
    """A write answered with ``{"affectCount": n}`` (rows affected)."""

    affect_count: int = attrs.field(default=0, alias="affectCount")


# ----------------------------------------------------------------------- request items


@attrs.frozen
class DocumentFile(Model):
    """One file of a document add/update call: by URL or inline base64 (base64 wins).

    ``doc_id`` is required on the update calls and ignored by the add calls. Build one from a
    local file with ``await client.knowledge_base.docs.file_from_path(path)``, or pass a
    ``pathlib.Path`` directly in ``files=[...]``.
    """

    file_name: str | None = None
    file_url: str | None = None
    file_base64: str | None = attrs.field(default=None, repr=False)
    source_url: str | None = None
    doc_id: str | None = None


@attrs.frozen
class QAPair(Model):
    """A question and its answer (``qaList`` items)."""

    question: str
    answer: str


@attrs.frozen
class TextChunk(Model):
    """A chunk appended to a text document: ``content`` (<= 1000 tokens), ``keywords`` (<= 50)."""

    content: str
    keywords: list[str] | None = None


@attrs.frozen
class QAChunk(Model):
    """A Q&A chunk appended to a Q&A document; ``keywords`` at most 50."""

    question: str
    answer: str
    keywords: list[str] | None = None


# ----------------------------------------------------------------------- knowledge bases


@attrs.frozen
class KnowledgeBase(Model):
    """A knowledge base with its counts (``doc`` documents, ``chunk`` chunks, ``token``s)."""

    id: str
    name: str | None = None
    desc: str | None = None
    doc: int | None = None
    chunk: int | None = None
    token: int | None = None
    owner_id: str | None = None
    owner_email: str | None = None


@attrs.frozen
class KnowledgeBaseList(Model):
    """``GET /v1/bot/knowledge/base/page``: every knowledge base of the agent (unpaginated)."""

    knowledge_base: list[KnowledgeBase] = attrs.field(factory=list)


@attrs.frozen
class KnowledgeBaseCreated(Model):
    """``POST /v1/bot/knowledge/base/create``: the new id."""

    knowledge_base_id: str


# ----------------------------------------------------------------------- documents


@attrs.frozen
class Doc(Model):
    """A document of a knowledge base. ``create_time`` / ``update_time`` are epoch seconds."""

    id: str
    name: str | None = None
    format: str | None = None
    source_url: str | None = None
    status: str | None = None
    chunk: int | None = None
    token: int | None = None
    char_count: int | None = None
    create_time: int | None = None
    update_time: int | None = None
    creator_id: str | None = None
    creator_email: str | None = None


@attrs.frozen
class DocPage(Model):
    """One page of ``GET /v1/bot/doc/query/page`` (wire key ``list``) and the ``total``."""

    items: list[Doc] = attrs.field(factory=list, alias="list")
    total: int | None = None


@attrs.frozen
class DocumentResult(Model):
    """A document created or replaced."""

    doc_id: str
    doc_name: str | None = None


@attrs.frozen
class FailedDocument(Model):
    """A document that failed, when the server describes it as an object (the pages' field
    tables type ``failed`` as ``Array<Object>``; their examples send plain names or ids).
    Which keys such an object holds is undocumented: the usual ones are read, all are kept
    in ``raw``."""

    doc_id: str | None = None
    doc_name: str | None = None
    file_name: str | None = None
    name: str | None = None
    reason: str | None = attrs.field(default=None, metadata=also("fail_reason", "message"))

    @property
    def label(self) -> str | None:
        """The document's name or id, whichever the server gave."""
        return self.file_name or self.doc_name or self.name or self.doc_id


@attrs.frozen
class DocumentChanges(Model):
    """``{doc: [...], failed: [...]}``: what was accepted, and what failed.

    ``failed`` holds names (add calls) or ids (update calls) as sent: plain strings, as every
    example shows, or :class:`FailedDocument` objects, as the field tables type them.
    """

    doc: list[DocumentResult] = attrs.field(factory=list)
    failed: list[str | FailedDocument] = attrs.field(factory=list)

    @property
    def failed_labels(self) -> list[str]:
        """The name or id of each failed document, whichever form the server sent."""
        labels = []
        for item in self.failed:
            label = item if isinstance(item, str) else item.label
            if label:
                labels.append(label)
        return labels


@attrs.frozen
class DocStatus(Model):
    """A document's processing status (``AVAILABLE`` when embedded; others unconfirmed).

    The answer is a bare list in the page's example and a ``doc`` array in its field table
    (knowledge/Query_Doc_Status.md): both decode.
    """

    WIRE_LIST_KEYS: ClassVar[tuple[str, ...]] = ("doc",)

    data_id: str
    data_status: str | None = None


@attrs.frozen
class VectorMatchItem(Model):
    """One matching chunk and its score."""

    content: str | None = None
    data_id: str | None = None
    score: float | None = None


@attrs.frozen
class VectorMatch(Model):
    """``POST /v1/vector/match``: ``total`` and the chunks, best first (wire key ``list``)."""

    items: list[VectorMatchItem] = attrs.field(factory=list, alias="list")
    total: int | None = None


@attrs.frozen
class UploadedFile(Model):
    """The legacy single-file upload's answer (``data_id``/``data_name``, or ``id``/``name``)."""

    data_id: str | None = None
    data_name: str | None = None
    id: str | None = None
    name: str | None = None

    @property
    def document_id(self) -> str | None:
        """The new document's id under either spelling."""
        return self.data_id or self.id
