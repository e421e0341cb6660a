"""Knowledge-base endpoints (REFERENCE §4.4): bases, documents, chunks, status, vector search.

State in ``ctx.store.data["knowledge"]``: ``bases`` (id -> base) and ``docs`` (id -> doc, in
insertion order). A ``Default`` base exists from the start; calls without
``knowledge_base_id`` use it. Documents are embedded at once (status ``ACTIVE`` in lists,
``AVAILABLE`` in the status query). Text is read from ``file_base64`` (UTF-8) or made up from
the URL, and split into chunks of ``chunk_token`` words (or on ``splitter``). Vector match
scores each chunk by the share of prompt words it contains, best first, ties by position.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from .._http import Context, Response, RouteTable
from ._common import (
    bad,
    extension,
    guard_deleted_agent,
    int_field,
    multipart,
    page_args,
    paginate,
    str_field,
)
from .analytics import record_credits

__all__ = ["routes"]

routes = RouteTable()

TOO_MANY_DOCS = 40332
INDEXING_CREDITS = 0.1
TEXT_TYPES = ("pdf", "txt", "md", "doc", "docx")
SHEET_TYPES = ("csv", "xls", "xlsx")
UPLOAD_TOO_LARGE = 40382
UNSUPPORTED_TYPE = 40380
_WORD = re.compile(r"\w+")


def _kb(ctx: Context) -> dict[str, Any]:
    state: dict[str, Any] | None = ctx.store.data.get("knowledge")
    if state is None:
        default_id = ctx.state.new_id()
        state = {
            "default": default_id,
            "bases": {
                default_id: {"id": default_id, "name": "Default", "desc": "Default knowledge base"}
            },
            "docs": {},
        }
        ctx.store.data["knowledge"] = state
    return state


def _base_id(ctx: Context, body: dict[str, Any]) -> str:
    state = _kb(ctx)
    kb_id = body.get("knowledge_base_id") or state["default"]
    if kb_id not in state["bases"]:
        raise bad("knowledge base not found")
    return str(kb_id)


def _split(text: str, chunk_token: int, splitter: str | None) -> list[str]:
    if splitter:
        return [part.strip() for part in text.split(splitter) if part.strip()]
    words = text.split()
    return [" ".join(words[i : i + chunk_token]) for i in range(0, len(words), chunk_token)]


def _doc_text(item: dict[str, Any], name: str) -> str:
    encoded = item.get("file_base64")
    if encoded:
        try:
            return base64.b64decode(encoded, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            raise bad(f"file_base64 of {name} is not valid base64") from None
    return f"Simulated content of {name} fetched from {item.get('file_url')}"


def _store_doc(
    ctx: Context,
    *,
    kb_id: str,
    name: str,
    kind: str,
    chunks: list[dict[str, Any]],
    source_url: str | None,
    doc_id: str | None = None,
) -> dict[str, Any]:
    docs: dict[str, dict[str, Any]] = _kb(ctx)["docs"]
    now = int(ctx.now)
    old = docs.get(doc_id) if doc_id else None
    doc = {
        "id": doc_id or ctx.state.new_id(),
        "knowledge_base_id": kb_id,
        "name": name,
        "format": extension(name) or kind,
        "kind": kind,
        "source_url": source_url or "",
        "status": "ACTIVE",
        "chunks": chunks,
        "create_time": old["create_time"] if old else now,
        "update_time": now,
        "creator_id": ctx.store.agent["bot_id"],
        "creator_email": "api@example.com",
    }
    docs[doc["id"]] = doc
    record_credits(ctx, "knowledge_doc_indexing", INDEXING_CREDITS)
    return doc


def _chunk_text(chunk: dict[str, Any]) -> str:
    if "content" in chunk:
        return str(chunk["content"])
    return f"{chunk.get('question', '')} {chunk.get('answer', '')}"


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    text = " ".join(_chunk_text(c) for c in doc["chunks"])
    return {
        "id": doc["id"],
        "name": doc["name"],
        "format": doc["format"],
        "source_url": doc["source_url"],
        "status": doc["status"],
        "chunk": len(doc["chunks"]),
        "token": len(text.split()),
        "char_count": len(text),
        "create_time": doc["create_time"],
        "update_time": doc["update_time"],
        "creator_id": doc["creator_id"],
        "creator_email": doc["creator_email"],
    }


def _files(body: dict[str, Any], high: int) -> list[dict[str, Any]]:
    files = body.get("files")
    if not isinstance(files, list) or not files:
        raise bad("files is required")
    if len(files) > high:
        raise bad(f"at most {high} files per call")
    for item in files:
        if not isinstance(item, dict):
            raise bad("files items must be objects")
    return files


def _add_or_update(ctx: Context, *, kind: str, update: bool) -> Response:
    body = ctx.request.json_object()
    types = SHEET_TYPES if kind == "spreadsheet" else TEXT_TYPES
    files = _files(body, 200 if update and kind == "text" else 20)
    if kind == "text" and body.get("chunk_token") is None and not body.get("splitter"):
        raise bad("either chunk_token or splitter must be provided")
    chunk_token = int_field(body.get("chunk_token"), "chunk_token", 1, 1000, default=600)
    if kind == "spreadsheet":
        int_field(body.get("header_row"), "header_row", 1, 5, default=1)
    splitter = body.get("splitter") if kind == "text" else None
    if splitter is not None and not isinstance(splitter, str):
        raise bad("splitter must be a string")
    docs: dict[str, dict[str, Any]] = _kb(ctx)["docs"]
    done: list[dict[str, str]] = []
    failed: list[str] = []
    for item in files:
        doc_id = item.get("doc_id")
        if update and (not isinstance(doc_id, str) or doc_id not in docs):
            failed.append(str(doc_id))
            continue
        old = docs[doc_id] if update and isinstance(doc_id, str) else None
        name = item.get("file_name") or (old["name"] if old else None)
        if not isinstance(name, str) or not 1 <= len(name) <= 200:
            raise bad("file_name must be 1-200 characters")
        if not item.get("file_url") and not item.get("file_base64"):
            raise bad("file_url or file_base64 is required")
        if extension(name) not in types:
            failed.append(str(doc_id) if update else name)
            continue
        text = _doc_text(item, name)
        chunks = [{"content": part} for part in _split(text, chunk_token, splitter)]
        source = item.get("source_url")
        if update and source in (None, ""):
            source = old["source_url"] if old else None
        elif source == "NULL":
            source = ""
        kb_id = old["knowledge_base_id"] if old else _base_id(ctx, body)
        doc = _store_doc(
            ctx, kb_id=kb_id, name=name, kind=kind, chunks=chunks, source_url=source, doc_id=doc_id
        )
        done.append({"doc_id": doc["id"], "doc_name": doc["name"]})
    return Response.json({"doc": done, "failed": failed})


@routes.post("/v1/bot/knowledge/base/create")
async def base_create(ctx: Context) -> Response:
    """Create a knowledge base (``name`` and ``desc`` required)."""
    body = ctx.request.json_object()
    name, desc = str_field(body, "name"), str_field(body, "desc")
    kb_id = ctx.state.new_id()
    _kb(ctx)["bases"][kb_id] = {"id": kb_id, "name": name, "desc": desc}
    return Response.json({"knowledge_base_id": kb_id})


@routes.get("/v1/bot/knowledge/base/page")
async def base_list(ctx: Context) -> Response:
    """Every knowledge base with its doc, chunk and token counts."""
    state = _kb(ctx)
    rows = []
    for base in state["bases"].values():
        docs = [_public(d) for d in state["docs"].values() if d["knowledge_base_id"] == base["id"]]
        rows.append(
            {
                **base,
                "doc": len(docs),
                "chunk": sum(d["chunk"] for d in docs),
                "token": sum(d["token"] for d in docs),
                "owner_id": ctx.store.agent["bot_id"],
                "owner_email": "owner@example.com",
            }
        )
    return Response.json({"knowledge_base": rows})


@routes.get("/v1/bot/doc/query/page")
async def doc_list(ctx: Context) -> Response:
    """One page (10-100) of a knowledge base's documents, oldest first, with ``total``."""
    kb_id = ctx.request.query_one("knowledge_base_id")
    if not kb_id:
        raise bad("knowledge_base_id is required")
    page, size = page_args(ctx.request, 10, 100)
    state = _kb(ctx)
    if kb_id not in state["bases"]:
        raise bad("knowledge base not found")
    docs = [_public(d) for d in state["docs"].values() if d["knowledge_base_id"] == kb_id]
    return Response.json({"list": paginate(docs, page, size), "total": len(docs)})


@routes.post("/v1/bot/doc/text/add")
async def text_add(ctx: Context) -> Response:
    """Add text documents (<= 20)."""
    return _add_or_update(ctx, kind="text", update=False)


@routes.put("/v1/bot/doc/text/update")
async def text_update(ctx: Context) -> Response:
    """Replace text documents (<= 200), keeping ids; unknown ids are reported as failed."""
    return _add_or_update(ctx, kind="text", update=True)


@routes.post("/v1/bot/doc/spreadsheet/add")
async def sheet_add(ctx: Context) -> Response:
    """Add spreadsheets (<= 20)."""
    return _add_or_update(ctx, kind="spreadsheet", update=False)


@routes.put("/v1/bot/doc/spreadsheet/update")
async def sheet_update(ctx: Context) -> Response:
    """Replace spreadsheets (<= 20), keeping ids."""
    return _add_or_update(ctx, kind="spreadsheet", update=True)


def _qa_pairs(body: dict[str, Any]) -> list[dict[str, Any]]:
    pairs = body.get("qaList")
    if not isinstance(pairs, list) or not pairs:
        raise bad("qaList is required")
    for pair in pairs:
        if not isinstance(pair, dict) or not pair.get("question") or not pair.get("answer"):
            raise bad("each qaList item needs question and answer")
    return [{"question": p["question"], "answer": p["answer"]} for p in pairs]


@routes.post("/v1/bot/doc/qa/add")
async def qa_add(ctx: Context) -> Response:
    """Add a Q&A document: QA_TEXT from qaList, QA_FILE / FILE_2_QA from files."""
    body = ctx.request.json_object()
    purpose = body.get("purpose")
    kb_id = _base_id(ctx, body)
    if purpose == "QA_TEXT":
        name = str_field(body, "name") or ""
        doc = _store_doc(
            ctx, kb_id=kb_id, name=name, kind="qa", chunks=_qa_pairs(body), source_url=None
        )
        return Response.json({"doc": [{"doc_id": doc["id"], "doc_name": name}], "failed": []})
    if purpose not in ("QA_FILE", "FILE_2_QA"):
        raise bad("purpose must be QA_TEXT, QA_FILE or FILE_2_QA")
    done = []
    for item in _files(body, 20):
        name = str_field(item, "file_name") or ""
        url = item.get("file_url") or item.get("source_url")
        pairs = [{"question": f"What is in {name}?", "answer": f"See {url}"}]
        doc = _store_doc(ctx, kb_id=kb_id, name=name, kind="qafile", chunks=pairs, source_url=url)
        done.append({"doc_id": doc["id"], "doc_name": name})
    return Response.json({"doc": done, "failed": []})


@routes.put("/v1/bot/doc/qa/update")
async def qa_update(ctx: Context) -> Response:
    """Replace a Q&A document's pairs (doc_id + qaList) or its file (files)."""
    body = ctx.request.json_object()
    docs: dict[str, dict[str, Any]] = _kb(ctx)["docs"]
    if "doc_id" in body:
        doc_id = str_field(body, "doc_id") or ""
        if doc_id not in docs or docs[doc_id]["kind"] not in ("qa", "qafile"):
            return Response.json({"doc": [], "failed": [doc_id]})
        docs[doc_id]["chunks"] = _qa_pairs(body)
        docs[doc_id]["update_time"] = int(ctx.now)
        return Response.json(
            {"doc": [{"doc_id": doc_id, "doc_name": docs[doc_id]["name"]}], "failed": []}
        )
    done, failed = [], []
    for item in _files(body, 20):
        file_doc_id = item.get("doc_id")
        if not isinstance(file_doc_id, str) or file_doc_id not in docs:
            failed.append(str(file_doc_id))
            continue
        doc = docs[file_doc_id]
        doc.update(name=item.get("file_name") or doc["name"], update_time=int(ctx.now))
        done.append({"doc_id": file_doc_id, "doc_name": doc["name"]})
    return Response.json({"doc": done, "failed": failed})


def _append_chunks(ctx: Context, kinds: tuple[str, ...], keys: tuple[str, ...]) -> Response:
    body = ctx.request.json_object()
    doc_id = str_field(body, "doc_id") or ""
    doc = _kb(ctx)["docs"].get(doc_id)
    if doc is None or doc["kind"] not in kinds:
        raise bad("document not found or of the wrong type")
    chunks = body.get("chunks")
    if not isinstance(chunks, list) or not chunks:
        raise bad("chunks is required")
    new = []
    for chunk in chunks:
        if not isinstance(chunk, dict) or any(not chunk.get(key) for key in keys):
            raise bad(f"each chunk needs {' and '.join(keys)}")
        keywords = chunk.get("keywords") or []
        if not isinstance(keywords, list) or len(keywords) > 50:
            raise bad("keywords: at most 50")
        new.append({**{key: chunk[key] for key in keys}, "keywords": keywords})
    doc["chunks"].extend(new)
    doc["update_time"] = int(ctx.now)
    return Response.json({"code": 0, "message": "OK"})


@routes.post("/v1/bot/doc/chunks/add")
async def chunks_add(ctx: Context) -> Response:
    """Append text chunks to a text or spreadsheet document."""
    return _append_chunks(ctx, ("text", "spreadsheet"), ("content",))


@routes.post("/v1/bot/doc/qa/chunks/add")
async def qa_chunks_add(ctx: Context) -> Response:
    """Append Q&A chunks to a Q&A document."""
    return _append_chunks(ctx, ("qa", "qafile"), ("question", "answer"))


@routes.delete("/v1/bot/doc/batch/delete")
async def doc_delete(ctx: Context) -> Response:
    """Delete the documents named in ``doc=a,b`` (unknown ids are ignored)."""
    ids = ctx.request.query_all("doc")
    if not ids:
        raise bad("doc is required")
    docs = _kb(ctx)["docs"]
    for doc_id in ids:
        docs.pop(doc_id, None)
    return Response.json({"code": 0, "message": "OK"})


@routes.get("/v1/bot/data/detail/list")
async def doc_status(ctx: Context) -> Response:
    """Status of each document in ``data_ids`` (40000 for an unknown id)."""
    ids = ctx.request.query_all("data_ids")
    if not ids:
        raise bad("data_ids is required")
    docs = _kb(ctx)["docs"]
    for doc_id in ids:
        if doc_id not in docs:
            raise bad(f"document {doc_id} not found")
    return Response.json([{"data_id": doc_id, "data_status": "AVAILABLE"} for doc_id in ids])


@routes.post("/v1/bot/data/retry/batch")
async def retry_failed(ctx: Context) -> Response:
    """Re-embed failed documents (none fail in the simulator unless a test marks them)."""
    count = 0
    for doc in _kb(ctx)["docs"].values():
        if doc["status"] == "FAIL":
            doc["status"] = "ACTIVE"
            count += 1
    return Response.json({"affectCount": count})


@routes.post("/v1/vector/match")
async def vector_match(ctx: Context) -> Response:
    """Score every chunk by the share of prompt words it holds; best ``top_k`` first."""
    body = ctx.request.json_object()
    prompt = str_field(body, "prompt") or ""
    top_k = int_field(body.get("top_k"), "top_k", 1, 10)
    data_ids = body.get("data_ids") or []
    if not isinstance(data_ids, list):
        raise bad("data_ids must be an array")
    if len(data_ids) > 10:
        raise bad("at most 10 documents per query", TOO_MANY_DOCS)
    rate = body.get("embedding_rate", 1)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise bad("embedding_rate must be between 0 and 1")
    words = {w.lower() for w in _WORD.findall(prompt)}
    scored = []
    for position, doc in enumerate(_kb(ctx)["docs"].values()):
        if data_ids and doc["id"] not in data_ids:
            continue
        for index, chunk in enumerate(doc["chunks"]):
            text = _chunk_text(chunk)
            found = {w.lower() for w in _WORD.findall(text)}
            score = round(len(words & found) / max(len(words), 1), 4)
            scored.append((-score, position, index, text, doc["id"], score))
    scored.sort()
    hits = [{"content": t, "data_id": d, "score": s} for *_, t, d, s in scored[:top_k]]
    return Response.json({"total": len(hits), "list": hits})


@routes.post("/v1/bot/data/file/upload")
async def file_upload(ctx: Context) -> Response:
    """Legacy multipart upload of one document into the default knowledge base."""
    _, files = multipart(ctx.request)
    upload = files.get("file")
    if upload is None:
        raise bad("file is required")
    ext = extension(upload.filename)
    if ext not in TEXT_TYPES:
        raise bad("unsupported data type", UNSUPPORTED_TYPE)
    limit = (30 if ext == "pdf" else 10) * 1024 * 1024
    if len(upload.content) > limit:
        raise bad("file too large", UPLOAD_TOO_LARGE)
    text = upload.content.decode("utf-8", "replace")
    chunks = [{"content": part} for part in _split(text, 600, None)]
    doc = _store_doc(
        ctx,
        kb_id=_kb(ctx)["default"],
        name=upload.filename,
        kind="text",
        chunks=chunks,
        source_url=None,
    )
    return Response.json({"data_id": doc["id"], "data_name": doc["name"]})


guard_deleted_agent(routes)
