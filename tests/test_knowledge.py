"""The Knowledge Base category: exact requests, example responses, validation, pagination and
simulator round trips (REFERENCE §4.4, endpoints 24-39)."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from altabots_async import AsyncAltaBots, BadRequestError
from altabots_async._checks import InvalidParameterError
from altabots_async.resources.knowledge import KnowledgeBaseResource
from altabots_async.testing import Simulator
from altabots_async.types.knowledge import (
    Acknowledgement,
    AffectCount,
    DocPage,
    DocumentChanges,
    DocumentFile,
    KnowledgeBaseCreated,
    KnowledgeBaseList,
    QAChunk,
    QAPair,
    TextChunk,
    UploadedFile,
    VectorMatch,
)

pytestmark = pytest.mark.anyio

BASE = "https://altatech.ai/"
KEY = "sk-test"
KB = "65a1b2c3d4e5f60718293a4b"
DOC = "65a1b2c3d4e5f60718293a4c"
B64 = base64.b64encode(b"hello world").decode()

Call = Callable[[KnowledgeBaseResource], Awaitable[Any]]


# router, permits, client, clock, sim, sim_client: shared fixtures in tests/_api_fixtures.py

# ----------------------------------------------------------------------------- reference examples

DOC_ROW = {
    "id": DOC,
    "name": "guide.pdf",
    "format": "pdf",
    "source_url": "https://example.com/guide",
    "status": "ACTIVE",
    "chunk": 3,
    "token": 900,
    "char_count": 4000,
    "create_time": 1700000000,
    "update_time": 1700000100,
    "creator_id": "u1",
    "creator_email": "a@example.com",
}
CHANGES = {"doc": [{"doc_id": DOC, "doc_name": "guide.pdf"}], "failed": []}
OK = {"code": 0, "message": "OK"}

CASES = [
    pytest.param(
        lambda k: k.create(name="Docs", desc="Product docs", graph_enable=False),
        "POST",
        "/v1/bot/knowledge/base/create",
        None,
        {"name": "Docs", "desc": "Product docs", "graph_enable": False},
        {"knowledge_base_id": KB},
        lambda r: isinstance(r, KnowledgeBaseCreated) and r.knowledge_base_id == KB,
        id="24-create",
    ),
    pytest.param(
        lambda k: k.list(),
        "GET",
        "/v1/bot/knowledge/base/page",
        [],
        None,
        {
            "knowledge_base": [
                {
                    "id": KB,
                    "name": "Docs",
                    "desc": "d",
                    "doc": 2,
                    "chunk": 10,
                    "token": 500,
                    "owner_id": "o",
                    "owner_email": "o@example.com",
                }
            ]
        },
        lambda r: isinstance(r, KnowledgeBaseList) and r.knowledge_base[0].doc == 2,
        id="25-list",
    ),
    pytest.param(
        lambda k: k.docs.list(knowledge_base_id=KB, page=2, page_size=10),
        "GET",
        "/v1/bot/doc/query/page",
        [("knowledge_base_id", KB), ("page", "2"), ("page_size", "10")],
        None,
        {"list": [DOC_ROW], "total": 11},
        lambda r: isinstance(r, DocPage) and r.total == 11 and r.items[0].status == "ACTIVE",
        id="26-doc-list",
    ),
    pytest.param(
        lambda k: k.docs.add_text(
            knowledge_base_id=KB,
            files=[
                DocumentFile(file_name="a.pdf", file_url="https://x.test/a.pdf"),
                {"file_name": "b.md", "file_base64": B64, "source_url": "https://x.test/b"},
            ],
            chunk_token=300,
            splitter="\n",
        ),
        "POST",
        "/v1/bot/doc/text/add",
        None,
        {
            "knowledge_base_id": KB,
            "files": [
                {"file_url": "https://x.test/a.pdf", "file_name": "a.pdf"},
                {"file_base64": B64, "file_name": "b.md", "source_url": "https://x.test/b"},
            ],
            "chunk_token": 300,
            "splitter": "\n",
        },
        {"doc": [{"doc_id": DOC, "doc_name": "a.pdf"}], "failed": ["b.md"]},
        lambda r: isinstance(r, DocumentChanges) and r.failed == ["b.md"],
        id="27-text-add",
    ),
    pytest.param(
        lambda k: k.docs.update_text(
            files=[{"doc_id": DOC, "file_url": "https://x.test/a.pdf", "source_url": "NULL"}]
        ),
        "PUT",
        "/v1/bot/doc/text/update",
        None,
        {
            "files": [{"doc_id": DOC, "file_url": "https://x.test/a.pdf", "source_url": "NULL"}],
            "chunk_token": 600,  # neither chunk_token nor splitter given: the documented default
        },
        CHANGES,
        lambda r: r.doc[0].doc_id == DOC,
        id="28-text-update",
    ),
    pytest.param(
        lambda k: k.docs.add_spreadsheet(
            files=[{"file_name": "p.csv", "file_url": "https://x.test/p.csv"}],
            header_row=2,
            chunk_token=600,
        ),
        "POST",
        "/v1/bot/doc/spreadsheet/add",
        None,
        {
            "files": [{"file_url": "https://x.test/p.csv", "file_name": "p.csv"}],
            "chunk_token": 600,
            "header_row": 2,
        },
        CHANGES,
        lambda r: isinstance(r, DocumentChanges),
        id="29-sheet-add",
    ),
    pytest.param(
        lambda k: k.docs.update_spreadsheet(
            knowledge_base_id=KB,
            files=[{"doc_id": DOC, "file_name": "p.csv", "file_url": "https://x.test/p.csv"}],
        ),
        "PUT",
        "/v1/bot/doc/spreadsheet/update",
        None,
        {
            "knowledge_base_id": KB,
            "files": [{"doc_id": DOC, "file_url": "https://x.test/p.csv", "file_name": "p.csv"}],
        },
        CHANGES,
        lambda r: r.doc[0].doc_name == "guide.pdf",
        id="30-sheet-update",
    ),
    pytest.param(
        lambda k: k.qa.add(purpose="QA_TEXT", name="FAQ", qa_list=[QAPair("Hours?", "9-5")]),
        "POST",
        "/v1/bot/doc/qa/add",
        None,
        {"purpose": "QA_TEXT", "name": "FAQ", "qaList": [{"question": "Hours?", "answer": "9-5"}]},
        CHANGES,
        lambda r: isinstance(r, DocumentChanges),
        id="31-qa-add",
    ),
    pytest.param(
        lambda k: k.qa.update(doc_id=DOC, qa_list=[{"question": "q", "answer": "a"}]),
        "PUT",
        "/v1/bot/doc/qa/update",
        None,
        {"doc_id": DOC, "qaList": [{"question": "q", "answer": "a"}]},
        CHANGES,
        lambda r: isinstance(r, DocumentChanges),
        id="32-qa-update",
    ),
    pytest.param(
        lambda k: k.qa.add_chunks(DOC, [QAChunk("q", "a", keywords=["k"])]),
        "POST",
        "/v1/bot/doc/qa/chunks/add",
        None,
        {"doc_id": DOC, "chunks": [{"question": "q", "answer": "a", "keywords": ["k"]}]},
        OK,
        lambda r: isinstance(r, Acknowledgement) and r.code == 0,
        id="33-qa-chunks",
    ),
    pytest.param(
        lambda k: k.chunks.add(DOC, [TextChunk("Opening hours are 9-5.")]),
        "POST",
        "/v1/bot/doc/chunks/add",
        None,
        {"doc_id": DOC, "chunks": [{"content": "Opening hours are 9-5."}]},
        OK,
        lambda r: r.message == "OK",
        id="34-chunks",
    ),
    pytest.param(
        lambda k: k.docs.delete(["a1", "b2"]),
        "DELETE",
        "/v1/bot/doc/batch/delete",
        [("doc", "a1,b2")],
        None,
        OK,
        lambda r: isinstance(r, Acknowledgement),
        id="35-delete",
    ),
    pytest.param(
        lambda k: k.docs.status(["a1", "b2"]),
        "GET",
        "/v1/bot/data/detail/list",
        [("data_ids", "a1"), ("data_ids", "b2")],
        None,
        [{"data_id": "a1", "data_status": "AVAILABLE"}, {"data_id": "b2", "data_status": "X"}],
        lambda r: [s.data_status for s in r] == ["AVAILABLE", "X"],
        id="36-status",
    ),
    pytest.param(
        lambda k: k.docs.retry_failed(),
        "POST",
        "/v1/bot/data/retry/batch",
        None,
        {},
        {"affectCount": 3},
        lambda r: isinstance(r, AffectCount) and r.affect_count == 3,
        id="37-retry",
    ),
    pytest.param(
        lambda k: k.vector_match(
            prompt="refunds", top_k=3, data_ids=["a", "b"], embedding_rate=0.5
        ),
        "POST",
        "/v1/vector/match",
        None,
        {"prompt": "refunds", "top_k": 3, "data_ids": ["a", "b"], "embedding_rate": 0.5},
        {"total": 1, "list": [{"content": "Refunds take 5 days", "data_id": "a", "score": 0.87}]},
        lambda r: isinstance(r, VectorMatch) and r.items[0].score == 0.87,
        id="38-vector",
    ),
]


@pytest.mark.parametrize(("call", "method", "path", "query", "sent", "answer", "check"), CASES)
async def test_request_and_example_response(
    client: AsyncAltaBots,
    router: respx.MockRouter,
    permits: list[str],
    call: Call,
    method: str,
    path: str,
    query: list[tuple[str, str]] | None,
    sent: Any,
    answer: Any,
    check: Callable[[Any], bool],
) -> None:
    """Each endpoint sends the exact method, path, query or body through the scheduler (one
    permit), and parses the example."""
    route = router.route(method=method, path=path).respond(200, json=answer)

    result = await call(client.knowledge_base)

    assert route.call_count == 1
    assert permits == ["request"]
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {KEY}"
    if sent is None:
        assert request.url.params.multi_items() == (query or [])
        assert request.content == b""
    else:
        assert request.url.params.multi_items() == []
        assert json.loads(request.content) == sent
    assert check(result)


async def test_legacy_upload_is_multipart(
    client: AsyncAltaBots, router: respx.MockRouter, tmp_path: Path, permits: list[str]
) -> None:
    """Endpoint 39 sends one multipart ``file`` part named by the base name only."""
    path = tmp_path / "guide.md"
    path.write_bytes(b"# Guide")
    route = router.post("/v1/bot/data/file/upload").respond(
        200, json={"data_id": DOC, "data_name": "guide.md"}
    )

    result = await client.knowledge_base.upload_file(path)

    request = route.calls.last.request
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert b'name="file"; filename="guide.md"' in request.content
    assert b"# Guide" in request.content
    assert str(tmp_path).encode() not in request.content
    assert isinstance(result, UploadedFile)
    assert result.document_id == DOC
    assert permits == ["request"]


async def test_error_code_maps_to_exception(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """A 40332 body raises BadRequestError carrying the code."""
    router.post("/v1/vector/match").respond(200, json={"code": 40332, "message": "too many"})

    with pytest.raises(BadRequestError) as info:
        await client.knowledge_base.vector_match(prompt="x", top_k=1)

    assert info.value.code == 40332


# ----------------------------------------------------------------------------- validation

BAD_CALLS = [
    pytest.param(lambda k: k.create(name="", desc="d"), "name", id="create-name"),
    pytest.param(lambda k: k.docs.list(knowledge_base_id=KB, page_size=9), "page_size", id="ps"),
    pytest.param(lambda k: k.docs.list(knowledge_base_id=KB, page=0), "page", id="page"),
    pytest.param(
        lambda k: k.docs.add_text(
            files=[{"file_name": f"{i}.md", "file_url": "https://x/a"} for i in range(21)]
        ),
        "files",
        id="21-files",
    ),
    pytest.param(lambda k: k.docs.add_text(files=[]), "files", id="no-files"),
    pytest.param(
        lambda k: k.docs.add_text(files=[{"file_name": "x" * 201, "file_url": "https://x/a"}]),
        "files[0].file_name",
        id="name-201",
    ),
    pytest.param(
        lambda k: k.docs.add_text(files=[{"file_name": "a.md"}]), "files[0]", id="no-source"
    ),
    pytest.param(
        lambda k: k.docs.add_text(
            files=[{"file_name": "a.md", "file_url": "https://x/a"}], chunk_token=1001
        ),
        "chunk_token",
        id="chunk-token",
    ),
    pytest.param(
        lambda k: k.docs.add_text(files=[{"file_name": "a.exe", "file_base64": B64}]),
        "files[0].file_name",
        id="bad-type",
    ),
    pytest.param(
        lambda k: k.docs.add_text(
            files=[{"file_name": "a.md", "file_base64": "A" * (11 * 1024 * 1024 * 4 // 3)}]
        ),
        "files[0].file_base64",
        id="md-over-10mb",
    ),
    pytest.param(
        lambda k: k.docs.add_text(
            files=[{"file_name": "a.md", "file_url": "https://x/a", "source_url": "ftp://x"}]
        ),
        "files[0].source_url",
        id="source-url",
    ),
    pytest.param(
        lambda k: k.docs.update_text(
            files=[{"doc_id": f"d{i}", "file_url": "https://x/a"} for i in range(201)]
        ),
        "files",
        id="201-updates",
    ),
    pytest.param(
        lambda k: k.docs.update_text(files=[{"file_url": "https://x/a"}]),
        "files[0].doc_id",
        id="update-no-id",
    ),
    pytest.param(
        lambda k: k.docs.add_spreadsheet(
            files=[{"file_name": "a.csv", "file_url": "https://x/a"}], header_row=6
        ),
        "header_row",
        id="header-row",
    ),
    pytest.param(lambda k: k.qa.add(purpose="QA"), "purpose", id="qa-purpose"),
    pytest.param(lambda k: k.qa.add(purpose="QA_TEXT", qa_list=[]), "name", id="qa-name"),
    pytest.param(lambda k: k.qa.add(purpose="QA_TEXT", name="n"), "qaList", id="qa-list"),
    pytest.param(lambda k: k.qa.add(purpose="QA_FILE"), "files", id="qa-files"),
    pytest.param(lambda k: k.qa.update(), "doc_id", id="qa-update-neither"),
    pytest.param(lambda k: k.qa.add_chunks(DOC, []), "chunks", id="qa-chunks-empty"),
    pytest.param(
        lambda k: k.chunks.add(DOC, [TextChunk("c", keywords=["k"] * 51)]),
        "chunks[0].keywords",
        id="51-keywords",
    ),
    pytest.param(lambda k: k.chunks.add("", [TextChunk("c")]), "doc_id", id="chunk-doc"),
    pytest.param(lambda k: k.docs.delete([]), "doc", id="delete-none"),
    pytest.param(lambda k: k.docs.delete(["a,b"]), "doc[0]", id="delete-comma"),
    pytest.param(lambda k: k.docs.status([]), "data_ids", id="status-none"),
    pytest.param(lambda k: k.vector_match(prompt="", top_k=1), "prompt", id="vm-prompt"),
    pytest.param(lambda k: k.vector_match(prompt="p", top_k=11), "top_k", id="vm-top-k"),
    pytest.param(lambda k: k.vector_match(prompt="p", top_k=0), "top_k", id="vm-top-k-0"),
    pytest.param(
        lambda k: k.vector_match(prompt="p", data_ids=[str(i) for i in range(11)]),
        "data_ids",
        id="vm-11-ids",
    ),
    pytest.param(
        lambda k: k.vector_match(prompt="p", embedding_rate=1.5), "embedding_rate", id="vm-rate"
    ),
    pytest.param(lambda k: k.upload_file(b"x", filename="a.exe"), "file", id="upload-type"),
]


@pytest.mark.parametrize(("call", "field"), BAD_CALLS)
async def test_validation_raises_before_any_request(
    client: AsyncAltaBots, router: respx.MockRouter, call: Call, field: str
) -> None:
    """A documented limit broken locally raises a ValueError naming the field; nothing is sent."""
    with pytest.raises(InvalidParameterError) as info:
        await call(client.knowledge_base)

    assert info.value.field == field
    assert isinstance(info.value, ValueError)
    assert router.calls.call_count == 0


# ----------------------------------------------------------------------------- pagination


def _doc(index: int) -> dict[str, Any]:
    return {**DOC_ROW, "id": f"doc{index}"}


@pytest.mark.parametrize(("total", "pages"), [(0, 1), (7, 1), (25, 3), (30, 3)])
async def test_docs_list_all_walks_every_page(
    client: AsyncAltaBots, router: respx.MockRouter, total: int, pages: int
) -> None:
    """list_all walks 0, 1 and many pages, stopping at the total."""
    rows = [_doc(i) for i in range(total)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        size = int(request.url.params["page_size"])
        return httpx.Response(
            200, json={"list": rows[(page - 1) * size : page * size], "total": total}
        )

    route = router.get("/v1/bot/doc/query/page").mock(side_effect=answer)

    ids = [
        d.id async for d in client.knowledge_base.docs.list_all(knowledge_base_id=KB, page_size=10)
    ]

    assert ids == [row["id"] for row in rows]
    assert route.call_count == pages


async def test_docs_list_all_is_lazy(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """The next page is requested only once the current one is used up."""
    rows = [_doc(i) for i in range(20)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={"list": rows[(page - 1) * 10 : page * 10], "total": 20})

    route = router.get("/v1/bot/doc/query/page").mock(side_effect=answer)
    iterator = aiter(client.knowledge_base.docs.list_all(knowledge_base_id=KB, page_size=10))

    assert route.call_count == 0
    for _ in range(10):
        await anext(iterator)
    assert route.call_count == 1
    await anext(iterator)
    assert route.call_count == 2
    for _ in range(9):
        await anext(iterator)
    with pytest.raises(StopAsyncIteration):
        await anext(iterator)
    assert route.call_count == 2


async def test_list_all_of_unpaginated_bases(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """The knowledge-base pager makes one request and yields every base."""
    route = router.get("/v1/bot/knowledge/base/page").respond(
        200, json={"knowledge_base": [{"id": "a"}, {"id": "b"}]}
    )

    ids = [kb.id async for kb in client.knowledge_base.list_all()]

    assert ids == ["a", "b"]
    assert route.call_count == 1


# ----------------------------------------------------------------------------- simulator


async def test_round_trip_documents(
    sim_client: AsyncAltaBots, sim: Simulator, tmp_path: Path
) -> None:
    """A base is created and listed; docs added (path and base64) are listed, embedded,
    replaced, chunked, searched and deleted."""
    kb = sim_client.knowledge_base
    created = await kb.create(name="Docs", desc="Product docs")
    bases = (await kb.list()).knowledge_base
    assert created.knowledge_base_id in [b.id for b in bases]

    guide = tmp_path / "guide.md"
    guide.write_text("Refunds are paid within five days of a return.")
    added = await kb.docs.add_text(
        knowledge_base_id=created.knowledge_base_id,
        files=[
            guide,
            DocumentFile(
                file_name="hours.txt",
                file_base64=base64.b64encode(b"Opening hours nine to five").decode(),
            ),
        ],
    )
    assert [d.doc_name for d in added.doc] == ["guide.md", "hours.txt"]
    page = await kb.docs.list(knowledge_base_id=created.knowledge_base_id, page_size=10)
    assert page.total == 2
    assert {d.status for d in page.items} == {"ACTIVE"}
    ids = [d.doc_id for d in added.doc]
    assert [s.data_status for s in await kb.docs.status(ids)] == ["AVAILABLE", "AVAILABLE"]

    updated = await kb.docs.update_text(
        files=[{"doc_id": ids[1], "file_base64": base64.b64encode(b"Hours: 8 to 6").decode()}]
    )
    assert updated.doc[0].doc_id == ids[1]
    assert (await kb.chunks.add(ids[1], [TextChunk("Closed on Sunday")])).code == 0

    hits = await kb.vector_match(prompt="When are refunds paid?", top_k=2)
    assert hits.items[0].data_id == ids[0]
    assert hits.items[0].score is not None
    assert hits.items[0].score > hits.items[1].score  # type: ignore[operator]
    assert hits == await kb.vector_match(prompt="When are refunds paid?", top_k=2)

    await kb.docs.delete([ids[0]])
    after = await kb.docs.list(knowledge_base_id=created.knowledge_base_id, page_size=10)
    assert [d.id for d in after.items] == [ids[1]]
    assert sim.over_quota_count() == 0


async def test_round_trip_paginated_docs(sim_client: AsyncAltaBots) -> None:
    """25 documents come back over three pages of 10 with the total."""
    kb = sim_client.knowledge_base
    created = await kb.create(name="Many", desc="d")
    for batch in range(2):
        files = [
            {"file_name": f"{batch}-{i}.txt", "file_url": "https://x.test/f"}
            for i in range(20 if batch == 0 else 5)
        ]
        await kb.docs.add_text(knowledge_base_id=created.knowledge_base_id, files=files)

    names = [
        d.name
        async for d in kb.docs.list_all(knowledge_base_id=created.knowledge_base_id, page_size=10)
    ]

    assert len(names) == 25
    assert len(set(names)) == 25


async def test_round_trip_qa_and_upload(sim_client: AsyncAltaBots) -> None:
    """A Q&A doc is added, replaced and extended; a legacy upload lands in the default base."""
    kb = sim_client.knowledge_base
    added = await kb.qa.add(purpose="QA_TEXT", name="FAQ", qa_list=[QAPair("Hours?", "9-5")])
    doc_id = added.doc[0].doc_id
    replaced = await kb.qa.update(doc_id=doc_id, qa_list=[QAPair("Hours?", "8-6")])
    assert replaced.doc[0].doc_id == doc_id
    assert (await kb.qa.add_chunks(doc_id, [QAChunk("Parking?", "Yes")])).code == 0
    hits = await kb.vector_match(prompt="parking", top_k=1, data_ids=[doc_id])
    assert hits.items[0].content == "Parking? Yes"

    uploaded = await kb.upload_file(b"Legacy text document", filename="notes.txt")
    bases = (await kb.list()).knowledge_base
    default = next(b for b in bases if b.name == "Default")
    assert default.doc == 2
    assert uploaded.document_id is not None
    assert (await kb.docs.retry_failed()).affect_count == 0


async def test_simulator_error_codes(sim_client: AsyncAltaBots) -> None:
    """The simulator answers 40332 for >10 docs and 40000 for bad input."""
    with pytest.raises(BadRequestError) as info:
        await sim_client._request(
            "POST",
            "v1/vector/match",
            cast_to=dict,
            json={"prompt": "p", "top_k": 1, "data_ids": [str(i) for i in range(11)]},
        )
    assert info.value.code == 40332

    with pytest.raises(BadRequestError) as info:
        await sim_client._request(
            "GET", "v1/bot/doc/query/page", cast_to=dict, params={"knowledge_base_id": "x"}
        )
    assert info.value.code == 40000

    with pytest.raises(BadRequestError) as info:
        await sim_client.knowledge_base.chunks.add("missing", [TextChunk("c")])
    assert info.value.code == 40000


async def test_round_trip_spreadsheets_and_qa_files(sim_client: AsyncAltaBots) -> None:
    """Spreadsheets are added and replaced in place; Q&A files are added and renamed."""
    kb = sim_client.knowledge_base
    csv = base64.b64encode(b"sku,price\nA1,10\nB2,20\n").decode()
    added = await kb.docs.add_spreadsheet(
        files=[{"file_name": "prices.csv", "file_base64": csv}], header_row=1
    )
    doc_id = added.doc[0].doc_id
    replaced = await kb.docs.update_spreadsheet(
        files=[{"doc_id": doc_id, "file_name": "prices-2.csv", "file_url": "https://x.test/p"}]
    )
    assert [(d.doc_id, d.doc_name) for d in replaced.doc] == [(doc_id, "prices-2.csv")]
    missing = await kb.docs.update_spreadsheet(
        files=[{"doc_id": "missing", "file_name": "x.csv", "file_url": "https://x.test/x"}]
    )
    assert missing.failed == ["missing"]

    qa = await kb.qa.add(
        purpose="QA_FILE", files=[{"file_name": "faq.csv", "file_url": "https://x.test/faq"}]
    )
    qa_id = qa.doc[0].doc_id
    renamed = await kb.qa.update(
        files=[{"doc_id": qa_id, "file_name": "faq-2.csv", "source_url": "https://x.test/f2"}]
    )
    assert renamed.doc[0].doc_name == "faq-2.csv"
    default = next(b for b in (await kb.list()).knowledge_base if b.name == "Default")
    names = {d.name async for d in kb.docs.list_all(knowledge_base_id=default.id)}
    assert names == {"prices-2.csv", "faq-2.csv"}
