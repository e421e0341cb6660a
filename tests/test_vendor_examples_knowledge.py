"""The vendor's own examples: the Knowledge category (issue 11, items 4 and 5).

Pages (vendor docs repository, under ``docs/knowledge/``): Get_Knowledge_Base_List.md,
Get_Doc_List.md, Add_Text_Docs.md, Update_Text_Docs.md, Add_Spreadsheet_Docs.md,
Update_Spreadsheet_Docs.md, Add_QA_to_Knowledge_Document.md, Add_Chunks_Text.md,
Delete_Docs.md, Query_Doc_Status.md, Re-embed_Failed_Docs.md, Vector_Similarity_Matching.md.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx

from altabots_async import AsyncAltaBots, BadRequestError, InvalidParameterError
from altabots_async.types import DocumentFile
from tests._vendor_examples import (
    assert_contains,
    assert_documented_shape,
    assert_request,
    example,
    last_request,
)

pytestmark = pytest.mark.anyio

KB = "67457fea6f658672d6482542"

# docs/knowledge/Get_Knowledge_Base_List.md, "Response Example" (as printed).
BASES = example("""
{
    "knowledge_base": [
        {
            "id": "xxxxxx",
            "name": "My Knowledge Base",
            "desc": "This is my knowledge base.",
            "doc": 10,
            "chunk": 1000,
            "token": 1000000,
            "owner_id": "xxxxxx",
            "owner_email": "johnlee@AltaBots.ai"
        },
        {
            "id": "xxxxxx",
            "name": "My Knowledge Base 2",
            "desc": "This is my knowledge base 2.",
            "doc": 10,
            "chunk": 1000,
            "token": 1000000,
            "owner_id": "xxxxxx",
            "owner_email": "jasonwong@AltaBots.ai"
        }
    ]
}
""")

# docs/knowledge/Get_Doc_List.md, "Response Example" (as printed).
DOCS = example("""
{
    "list": [
        {
            "id": "xxxxxx",
            "name": "My Doc",
            "format": "pdf",
            "source_url": "https://AltaBots.ai/article_1.pdf",
            "status": "ACTIVE",
            "chunk": 100,
            "token": 1000000,
            "char_count": 10000000,
            "create_time": 1699843200,
            "update_time": 1699843200,
            "creator_id": "xxxxxx",
            "creator_email": "johnlee@AltaBots.ai"
        },
        {
            "id": "xxxxxx",
            "name": "My Doc 2",
            "format": "txt",
            "source_url": "https://AltaBots.ai/article_2.html",
            "status": "ACTIVE",
            "chunk": 100,
            "token": 1000000,
            "char_count": 10000000,
            "create_time": 1699843200,
            "update_time": 1699843200,
            "creator_id": "xxxxxx",
            "creator_email": "johnlee@AltaBots.ai"
        }
    ],
    "total": 100
}
""")


async def test_get_knowledge_base_list_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """``GET /v1/bot/knowledge/base/page`` without parameters; both bases decode."""
    route = router.get("/v1/bot/knowledge/base/page").respond(200, json=BASES)

    bases = await client.knowledge_base.list()

    assert_request(last_request(route), "GET", "/v1/bot/knowledge/base/page", query=[])
    assert [(b.name, b.doc, b.chunk, b.token) for b in bases.knowledge_base] == [
        ("My Knowledge Base", 10, 1000, 1000000),
        ("My Knowledge Base 2", 10, 1000, 1000000),
    ]
    assert bases.to_dict() == BASES


async def test_get_doc_list_example(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """The curl example's query; both documents decode."""
    route = router.get("/v1/bot/doc/query/page").respond(200, json=DOCS)

    page = await client.knowledge_base.docs.list(knowledge_base_id=KB, page=1, page_size=10)

    assert_request(
        last_request(route),
        "GET",
        "/v1/bot/doc/query/page",
        query=[("page", "1"), ("page_size", "10"), ("knowledge_base_id", KB)],
    )
    assert page.total == 100
    assert [(d.name, d.format, d.status) for d in page.items] == [
        ("My Doc", "pdf", "ACTIVE"),
        ("My Doc 2", "txt", "ACTIVE"),
    ]
    assert page.to_dict() == DOCS


# --------------------------------------------------------------------------- text documents

# docs/knowledge/Add_Text_Docs.md, "Request Example" body (as printed).
ADD_TEXT_REQUEST = example("""
{
    "knowledge_base_id": "67457fea6f658672d6482542",
    "chunk_token": 700,
    "splitter": "\\n",
    "files": [
        {
            "file_url": "https://www.AltaBots.ai/docs/article_1.pdf",
            "file_base64": "SGVsbG8sIEJhc2U2NCBFbmNvZGluZyE=",
            "source_url": "https://www.AltaBots.ai/docs/article_1.pdf",
            "file_name": "article_1.pdf"
        }
    ]
}
""")

# docs/knowledge/Add_Text_Docs.md, "Response Example" (as printed).
ADDED_TEXT = example("""
{
    "doc": [
        {
            "doc_id": "xxxxxx",
            "doc_name": "test_1.txt"
        },
        {
            "doc_id": "xxxxxx",
            "doc_name": "test_2.pdf"
        }
    ],
    "failed": [
        "file_1",
        "file_2"
    ]
}
""")

# docs/knowledge/Update_Text_Docs.md, "Request Example" body (as printed).
UPDATE_TEXT_REQUEST = example("""
{
    "chunk_token": 600,
    "splitter": "\\n",
    "files": [
        {
            "doc_id": "675158a5af12af632a4f63f6",
            "file_url": "https://www.AltaBots.ai/doc/article_1.pdf",
            "source_url": "https://www.AltaBots.ai/doc/article_1.pdf",
            "file_name": "article_1.pdf"
        }
    ]
}
""")

# docs/knowledge/Update_Text_Docs.md, "Response Example" (as printed).
UPDATED_TEXT = example("""
{
    "doc": [
        {
            "doc_id": "xxxxxx",
            "doc_name": "test_1.txt"
        },
        {
            "doc_id": "xxxxxx",
            "doc_name": "test_2.pdf"
        }
    ],
    "failed": [
        "xxxxxx",
        "xxxxxx"
    ]
}
""")

# The field tables of both pages type "failed" as Array<Object>: that form decodes too.
FAILED_AS_OBJECTS = {**ADDED_TEXT, "failed": [{"file_name": "file_1"}, {"file_name": "file_2"}]}


@pytest.mark.parametrize("answer", [ADDED_TEXT, FAILED_AS_OBJECTS], ids=["example", "table-form"])
async def test_add_text_docs_example(
    client: AsyncAltaBots, router: respx.MockRouter, answer: dict[str, Any]
) -> None:
    """The request example is what ``add_text`` sends; ``failed`` decodes as the example's
    names and as the table's objects."""
    route = router.post("/v1/bot/doc/text/add").respond(200, json=answer)

    changes = await client.knowledge_base.docs.add_text(
        knowledge_base_id=KB,
        chunk_token=700,
        splitter="\n",
        files=ADD_TEXT_REQUEST["files"],
    )

    assert_request(last_request(route), "POST", "/v1/bot/doc/text/add", body=ADD_TEXT_REQUEST)
    assert [d.doc_name for d in changes.doc] == ["test_1.txt", "test_2.pdf"]
    assert changes.failed_labels == ["file_1", "file_2"]
    assert changes.decode_errors == ()


async def test_update_text_docs_example(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """The request example is what ``update_text`` sends; the failed ids decode."""
    route = router.put("/v1/bot/doc/text/update").respond(200, json=UPDATED_TEXT)

    changes = await client.knowledge_base.docs.update_text(
        chunk_token=600, splitter="\n", files=UPDATE_TEXT_REQUEST["files"]
    )

    assert_request(last_request(route), "PUT", "/v1/bot/doc/text/update", body=UPDATE_TEXT_REQUEST)
    assert changes.failed == ["xxxxxx", "xxxxxx"]
    assert changes.to_dict() == UPDATED_TEXT


@pytest.mark.parametrize(
    ("chunking", "sent"),
    [
        pytest.param({}, {"chunk_token": 600}, id="neither-sends-the-default"),
        pytest.param({"splitter": "\n"}, {"splitter": "\n"}, id="splitter-only"),
        pytest.param({"chunk_token": 300}, {"chunk_token": 300}, id="chunk-token-only"),
        pytest.param(
            {"chunk_token": 300, "splitter": "\n"},
            {"chunk_token": 300, "splitter": "\n"},
            id="both-splitter-wins-server-side",
        ),
    ],
)
@pytest.mark.parametrize("call", ["add_text", "update_text"])
async def test_either_chunk_token_or_splitter_is_always_sent(
    client: AsyncAltaBots,
    router: respx.MockRouter,
    chunking: dict[str, Any],
    sent: dict[str, Any],
    call: str,
) -> None:
    """ "Either maximum token count or delimiter must be provided": every request carries one
    (neither given: the documented default ``chunk_token=600``)."""
    route = router.route(path__regex=r"/v1/bot/doc/text/(add|update)").respond(200, json=ADDED_TEXT)
    item = {"file_url": "https://x.test/a.pdf", "file_name": "a.pdf"}
    if call == "update_text":
        item["doc_id"] = "d1"

    await getattr(client.knowledge_base.docs, call)(files=[item], **chunking)

    body = json.loads(last_request(route).content)
    assert {k: body[k] for k in ("chunk_token", "splitter") if k in body} == sent


@pytest.mark.parametrize("splitter", ["", 5])
async def test_an_empty_or_non_text_splitter_is_refused(
    client: AsyncAltaBots, permits: list[str], splitter: Any
) -> None:
    """An empty (or non-string) splitter provides no delimiter: InvalidParameterError, nothing
    sent."""
    with pytest.raises(InvalidParameterError) as info:
        await client.knowledge_base.docs.add_text(
            files=[{"file_url": "https://x.test/a.pdf", "file_name": "a.pdf"}], splitter=splitter
        )

    assert info.value.field == "splitter"
    assert permits == []


async def test_simulator_requires_chunk_token_or_splitter(sim_client: AsyncAltaBots) -> None:
    """The simulator refuses a text upload that gives neither (40000); with one it answers
    ``{doc, failed}`` in the example's form."""
    item = {"file_base64": "SGVsbG8=", "file_name": "a.txt"}
    with pytest.raises(BadRequestError) as info:
        await sim_client._request(
            "POST", "v1/bot/doc/text/add", cast_to=dict, json={"files": [item]}
        )
    assert info.value.code == 40000

    raw = await sim_client.knowledge_base.docs.with_raw_response.add_text(
        files=[item, {"file_url": "https://x.test/b.exe", "file_name": "b.exe"}]
    )
    assert_documented_shape(raw.body, ADDED_TEXT)


# --------------------------------------------------------------------------- spreadsheets

# docs/knowledge/Add_Spreadsheet_Docs.md, "Request Example" body (as printed).
ADD_SHEET_REQUEST = example("""
{
    "knowledge_base_id": "67457fea6f658672d6482542",
    "chunk_token": 700,
    "header_row": 5,
    "files": [
        {
            "file_url": "https://www.AltaBots.ai/doc/spreadsheet_1.xlsx",
            "file_base64": "SGVsbG8sIEJhc2U2NCBFbmNvZGluZyE=",
            "source_url": "https://www.AltaBots.ai/doc/spreadsheet_1.xlsx",
            "file_name": "spreadsheet_1.xlsx"
        }
    ]
}
""")

# docs/knowledge/Add_Spreadsheet_Docs.md, "Response Example" (as printed).
ADDED_SHEET = example("""
{
    "doc": [
        {
            "doc_id": "xxxxxx",
            "doc_name": "test_1.csv"
        },
        {
            "doc_id": "xxxxxx",
            "doc_name": "test_2.xlsx"
        }
    ],
    "failed": [
        "file_1",
        "file_2"
    ]
}
""")

# docs/knowledge/Update_Spreadsheet_Docs.md, "Request Example" body (as printed; its
# file_name ends in .pdf, and its field table lists no file_name at all).
UPDATE_SHEET_REQUEST = example("""
{
    "knowledge_base_id": "67457fea6f658672d6482542",
    "chunk_token": 700,
    "header_row": 5,
    "files": [
        {
            "doc_id": "67457fea6f658672d6482542",
            "file_url": "https://www.altatech.ai/doc/spreadsheet.xlsx",
            "source_url": "https://www.altatech.ai/doc/spreadsheet.xlsx",
            "file_name": "spreadsheet_1.pdf"
        }
    ]
}
""")

# docs/knowledge/Update_Spreadsheet_Docs.md, "Response Example" (as printed).
UPDATED_SHEET = example("""
{
    "doc": [
        {
            "doc_id": "xxxxxx",
            "doc_name": "test_1.csv"
        },
        {
            "doc_id": "xxxxxx",
            "doc_name": "test_2.xlsx"
        }
    ],
    "failed": [
        "xxxxxx",
        "xxxxxx"
    ]
}
""")


async def test_add_spreadsheet_docs_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """The request example is what ``add_spreadsheet`` sends (no splitter on this page)."""
    route = router.post("/v1/bot/doc/spreadsheet/add").respond(200, json=ADDED_SHEET)

    changes = await client.knowledge_base.docs.add_spreadsheet(
        knowledge_base_id=KB, chunk_token=700, header_row=5, files=ADD_SHEET_REQUEST["files"]
    )

    assert_request(
        last_request(route), "POST", "/v1/bot/doc/spreadsheet/add", body=ADD_SHEET_REQUEST
    )
    assert changes.to_dict() == ADDED_SHEET


async def test_update_spreadsheet_docs_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """The request example is what ``update_spreadsheet`` sends; without ``file_name`` (the
    field table has none) an item is accepted too."""
    route = router.put("/v1/bot/doc/spreadsheet/update").respond(200, json=UPDATED_SHEET)
    item = UPDATE_SHEET_REQUEST["files"][0]

    changes = await client.knowledge_base.docs.update_spreadsheet(
        knowledge_base_id=KB, chunk_token=700, header_row=5, files=[item]
    )
    await client.knowledge_base.docs.update_spreadsheet(
        files=[{k: v for k, v in item.items() if k != "file_name"}]
    )

    first, second = (call.request for call in route.calls)
    assert_request(first, "PUT", "/v1/bot/doc/spreadsheet/update", body=UPDATE_SHEET_REQUEST)
    assert "file_name" not in json.loads(second.content)["files"][0]
    assert changes.failed == ["xxxxxx", "xxxxxx"]


# --------------------------------------------------------------------------- Q&A, chunks

# docs/knowledge/Add_QA_to_Knowledge_Document.md, the three "Request Examples" (as printed).
QA_TEXT_REQUEST = example("""
{
      "purpose": "QA_TEXT",
      "name": "FAQ",
      "knowledge_base_id": "673af861ed69656ac0895b07",
      "qaList": [
        {
          "question": "How to register an account?",
          "answer": "Click the register button at the top right corner of the homepage, fill in your email and password to complete registration."
        },
        {
          "question": "How to reset the password?",
          "answer": "Click forgot password on the login page and follow the instructions to reset."
        }
      ]
}
""")
QA_FILE_REQUEST = example("""
{
      "purpose": "QA_FILE",
      "knowledge_base_id": "673af861ed69656ac0895b07",
      "files": [
        {
          "file_url": "https://example.com/qa.csv",
          "file_name": "qa_data.csv"
        }
      ]
}
""")
FILE_2_QA_REQUEST = example("""
{
      "purpose": "FILE_2_QA",
      "knowledge_base_id": "673af861ed69656ac0895b07",
      "files": [
        {
          "source_url": "https://example.com/product_manual.pdf",
          "file_name": "Product_Manual.pdf"
        }
      ]
}
""")

# docs/knowledge/Add_QA_to_Knowledge_Document.md, "Response Example" (as printed).
ADDED_QA = example("""
{
    "doc": [
        {
            "doc_id": "680d1a2b3c4d5e6f7a8b9c0d",
            "doc_name": "FAQ"
        }
    ],
    "failed": []
}
""")

# docs/knowledge/Add_Chunks_Text.md, request body and "Response Example" (as printed).
CHUNKS_REQUEST = example("""
{
    "doc_id": "675174292b8b977ba6316191",
    "chunks": [
        {
            "content": "This is a chunk.",
            "keywords": ["This","chunk"]
        }
    ]
}
""")
OK = example("""
{
    "code": 0,
    "message": "OK"
}
""")


@pytest.mark.parametrize(
    "request_body",
    [QA_TEXT_REQUEST, QA_FILE_REQUEST, FILE_2_QA_REQUEST],
    ids=["QA_TEXT", "QA_FILE", "FILE_2_QA"],
)
async def test_add_qa_examples(
    client: AsyncAltaBots, router: respx.MockRouter, request_body: dict[str, Any]
) -> None:
    """Each of the three request examples is what ``qa.add`` sends for its purpose."""
    route = router.post("/v1/bot/doc/qa/add").respond(200, json=ADDED_QA)

    changes = await client.knowledge_base.qa.add(
        purpose=request_body["purpose"],
        knowledge_base_id=request_body["knowledge_base_id"],
        name=request_body.get("name"),
        qa_list=request_body.get("qaList"),
        files=request_body.get("files"),
    )

    assert_request(last_request(route), "POST", "/v1/bot/doc/qa/add", body=request_body)
    assert changes.to_dict() == ADDED_QA


async def test_add_chunks_text_example(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """The request example is what ``chunks.add`` sends; ``{code, message}`` comes back."""
    route = router.post("/v1/bot/doc/chunks/add").respond(200, json=OK)

    ack = await client.knowledge_base.chunks.add(CHUNKS_REQUEST["doc_id"], CHUNKS_REQUEST["chunks"])

    assert_request(last_request(route), "POST", "/v1/bot/doc/chunks/add", body=CHUNKS_REQUEST)
    assert ack.to_dict() == OK


# --------------------------------------------------------------------------- delete, status

# docs/knowledge/Delete_Docs.md, "Response Example" (as printed); the request is the curl
# example's URL, ".../v1/bot/doc/batch/delete?doc=67501ddb8cf3c334cd0e8e70,12345ddb8cf3c334cd0e0987".
DELETE_QUERY = b"doc=67501ddb8cf3c334cd0e8e70,12345ddb8cf3c334cd0e0987"

# docs/knowledge/Query_Doc_Status.md, "Response Example" (as printed: a bare array).
STATUS = example("""
[
    {
        "data_id": "65e18b26e121ab08cefb4a53",
        "data_status": "AVAILABLE"
    }
]
""")

# docs/knowledge/Re-embed_Failed_Docs.md, "Response Example" (as printed).
REEMBED = example("""
{
    "affectCount": 0
}
""")


async def test_delete_docs_example(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """``DELETE ...?doc=a,b`` with literal commas, byte for byte the curl example's query."""
    route = router.delete("/v1/bot/doc/batch/delete").respond(200, json=OK)

    ack = await client.knowledge_base.docs.delete(
        ["67501ddb8cf3c334cd0e8e70", "12345ddb8cf3c334cd0e0987"]
    )

    sent = last_request(route)
    assert (sent.method, sent.url.path, sent.url.query) == (
        "DELETE",
        "/v1/bot/doc/batch/delete",
        DELETE_QUERY,
    )
    assert sent.content == b""
    assert ack.to_dict() == OK


async def test_delete_docs_encodes_each_id_but_not_the_separators(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """An id with reserved characters is percent-encoded on its own; the separators stay
    literal commas."""
    route = router.delete("/v1/bot/doc/batch/delete").respond(200, json=OK)

    await client.knowledge_base.docs.delete(["a b", "c&d", "e/f"])

    assert last_request(route).url.query == b"doc=a%20b,c%26d,e%2Ff"


@pytest.mark.parametrize(
    "answer", [STATUS, {"doc": STATUS}], ids=["example-bare-list", "table-doc-array"]
)
async def test_query_doc_status_example(
    client: AsyncAltaBots, router: respx.MockRouter, answer: Any
) -> None:
    """``data_ids`` repeated, as the curl example; the status decodes from the example's
    bare array and from the table's ``doc`` array."""
    route = router.get("/v1/bot/data/detail/list").respond(200, json=answer)

    [status] = await client.knowledge_base.docs.status(
        ["65e18b26e121ab08cefb4a53", "65e18b26e121ab08cefb4a5333"]
    )

    assert_request(
        last_request(route),
        "GET",
        "/v1/bot/data/detail/list",
        query=[
            ("data_ids", "65e18b26e121ab08cefb4a53"),
            ("data_ids", "65e18b26e121ab08cefb4a5333"),
        ],
    )
    assert (status.data_id, status.data_status) == ("65e18b26e121ab08cefb4a53", "AVAILABLE")


async def test_re_embed_failed_docs_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """``POST /v1/bot/data/retry/batch`` with ``{}``; ``affectCount`` comes back."""
    route = router.post("/v1/bot/data/retry/batch").respond(200, json=REEMBED)

    result = await client.knowledge_base.docs.retry_failed()

    assert_request(last_request(route), "POST", "/v1/bot/data/retry/batch", body={})
    assert result.to_dict() == REEMBED


# --------------------------------------------------------------------------- vector match

# docs/knowledge/Vector_Similarity_Matching.md, "Request Example" body (as printed).
VECTOR_REQUEST = example("""
{
        "embedding_rate": "1",
        "prompt": "Please introduce Aurora.",
        "data_ids": [
            "1234567890",
            "1230987654"
        ],
        "top_k": "5"
}
""")

# docs/knowledge/Vector_Similarity_Matching.md, "Response Example" (as printed).
VECTOR = example("""
{
    "total": 2,
    "list": [
        {
            "content": "Test data",
            "data_id": "aS1CNvPK4XCckDKQNj7azC9a",
            "score": 0.75
        },
        {
            "content": "Test data",
            "data_id": "aS1CNvPK4XCckDKQNj7azC9a",
            "score": 0.75
        }
    ]
}
""")


async def test_vector_similarity_matching_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """The request example's fields and values, as the field table types them: the example
    quotes ``embedding_rate`` and ``top_k`` as strings, the table says float and int, and the
    client sends numbers. Both matches decode."""
    route = router.post("/v1/vector/match").respond(200, json=VECTOR)

    result = await client.knowledge_base.vector_match(
        prompt=VECTOR_REQUEST["prompt"],
        top_k=int(VECTOR_REQUEST["top_k"]),
        data_ids=VECTOR_REQUEST["data_ids"],
        embedding_rate=float(VECTOR_REQUEST["embedding_rate"]),
    )

    assert_request(
        last_request(route),
        "POST",
        "/v1/vector/match",
        body={**VECTOR_REQUEST, "top_k": 5, "embedding_rate": 1.0},
    )
    assert result.total == 2
    assert [(m.data_id, m.score) for m in result.items] == [("aS1CNvPK4XCckDKQNj7azC9a", 0.75)] * 2


# --------------------------------------------------------------------------- simulator


async def test_simulator_answers_knowledge_calls_in_the_documented_form(
    sim_client: AsyncAltaBots,
) -> None:
    """Knowledge base list, doc list, spreadsheet and Q&A adds, chunks, delete, status,
    re-embed and vector match answers of the simulator have the examples' keys and kinds."""
    docs = sim_client.knowledge_base.docs
    added = await docs.add_text(
        files=[DocumentFile(file_name="a.txt", file_base64="SGVsbG8gd29ybGQ=")]
    )
    doc_id = added.doc[0].doc_id
    raw = sim_client.knowledge_base.with_raw_response

    bases = await raw.list()
    page = await docs.with_raw_response.list(
        knowledge_base_id=bases.parse().knowledge_base[0].id, page_size=10
    )
    sheet = await docs.with_raw_response.add_spreadsheet(
        files=[{"file_base64": "YSxiCjEsMg==", "file_name": "s.csv"}]
    )
    qa = await sim_client.knowledge_base.qa.with_raw_response.add(
        purpose="QA_TEXT", name="FAQ", qa_list=[{"question": "q", "answer": "a"}]
    )
    chunks = await sim_client.knowledge_base.chunks.with_raw_response.add(
        doc_id, [{"content": "more", "keywords": ["k"]}]
    )
    status = await docs.with_raw_response.status([doc_id])
    reembed = await docs.with_raw_response.retry_failed()
    match = await raw.vector_match(prompt="hello", top_k=1)
    deleted = await docs.with_raw_response.delete([doc_id])

    assert_documented_shape(bases.body, BASES)
    assert_documented_shape(page.body, DOCS)
    assert_documented_shape(sheet.body, ADDED_SHEET)
    assert_documented_shape(qa.body, ADDED_QA)
    assert_documented_shape(chunks.body, OK)
    assert_documented_shape(status.body, STATUS)
    assert_documented_shape(reembed.body, REEMBED)
    assert_documented_shape(match.body, VECTOR)
    assert_documented_shape(deleted.body, OK)
    assert_contains(
        added.to_dict(), {"doc": [{"doc_id": doc_id, "doc_name": "a.txt"}], "failed": []}
    )
