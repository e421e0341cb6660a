"""The Database category: ``client.databases`` (REFERENCE §4.9, endpoints 55-61; vendor pages
``docs/database/*.md``)."""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .._checks import (
    InvalidParameterError,
    check_choice,
    check_count,
    check_identifier,
    check_ids,
    check_int_range,
    compact,
    require_text,
)
from .._pagination import AsyncPager, Page
from ..types.databases import (
    ImportResult,
    ImportTasks,
    Record,
    RecordPage,
    RecordUpdateResult,
    Table,
    TableCreated,
    TableField,
    TableList,
)
from ..types.knowledge import Acknowledgement
from ._base import Resource

NAME_MAX = 32
DESCRIPTION_MAX = 128
FIELD_TYPES = ("TEXT", "INT", "FLOAT", "DATETIME", "BOOLEAN")
MAX_IMPORT_ROWS = 1000
MAX_UPDATE_ITEMS = 100
MAX_DELETE_ITEMS = 1000
MAX_UNIQUE_VALUE = 256
MAX_UPDATE_BODY_BYTES = 5 * 1024 * 1024
"""Update Table Data: "the total JSON request body size for updates is limited to 5MB"."""
_FIELD_NAME = re.compile(r"[a-z0-9_]+")


def _field_items(fields: Sequence[TableField | Mapping[str, Any]]) -> builtins.list[Any]:
    check_count("fields", fields, low=1, high=1000)
    items = []
    names: set[str] = set()
    for index, raw in enumerate(fields):
        where = f"fields[{index}]"
        if isinstance(raw, TableField):
            data: Mapping[str, Any] = attrs.asdict(raw)
        elif isinstance(raw, Mapping):
            data = raw
        else:
            raise InvalidParameterError(where, "expected a TableField or a dict")
        name = require_text(f"{where}.name", data.get("name"), max_length=NAME_MAX)
        if _FIELD_NAME.fullmatch(name) is None:
            raise InvalidParameterError(f"{where}.name", "must hold only a-z, 0-9 and _")
        if name in names:
            raise InvalidParameterError(f"{where}.name", f"duplicate field name {name!r}")
        names.add(name)
        require_text(f"{where}.description", data.get("description"), max_length=DESCRIPTION_MAX)
        require_text(f"{where}.type", data.get("type"))
        check_choice(f"{where}.type", data.get("type"), FIELD_TYPES)
        items.append(
            compact(
                name=name,
                description=data.get("description"),
                type=data.get("type"),
                required=data.get("required"),
                unique=data.get("unique"),
            )
        )
    return items


def _check_filter(where: str, filter_: Any) -> None:
    """A filter is a non-empty mapping of field names (strings) to values."""
    if filter_ is None:
        return
    if not isinstance(filter_, Mapping) or not filter_:
        raise InvalidParameterError(where, "must map one or more field names to values")
    for key in filter_:
        require_text(f"{where} key", key)


def _selector(where: str, item: Any, *, need_fields: bool) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise InvalidParameterError(where, "expected a dict")
    record_id, filter_ = item.get("record_id"), item.get("filter")
    if record_id is None and not filter_:
        raise InvalidParameterError(where, "needs record_id or filter")
    if filter_ is not None and not isinstance(filter_, Mapping):
        raise InvalidParameterError(f"{where}.filter", "must be a mapping")
    out = compact(record_id=record_id, filter=dict(filter_) if filter_ else None)
    if need_fields:
        updated = item.get("updated_fields")
        if not isinstance(updated, Mapping) or not updated:
            raise InvalidParameterError(f"{where}.updated_fields", "must be a non-empty mapping")
        out["updated_fields"] = dict(updated)
    return out


@attrs.define
class DatabasesResource(Resource):
    """``client.databases``: tables and their rows."""

    async def list_tables(self, *, agent_id: str) -> TableList:
        """The agent's tables (a read sent as POST).

        GPTBots only (not on the AltaBots pages).

        Example: ``tables = (await client.databases.list_tables(agent_id=bot_id)).tables``
        """
        require_text("agent_id", agent_id)
        return await self._client._request(
            "POST",
            "v1/database/tables/page",
            cast_to=TableList,
            json={"agent_id": agent_id},
            idempotent=True,
        )

    def list_tables_all(self, *, agent_id: str) -> AsyncPager[Table]:
        """The tables as a pager (one request: the endpoint is not paginated).

        GPTBots only (not on the AltaBots pages).

        Example: ``async for t in client.databases.list_tables_all(agent_id=bot_id): ...``
        """
        require_text("agent_id", agent_id)

        async def fetch(_: int) -> Page[Table]:
            items = (await self.list_tables(agent_id=agent_id)).tables
            return Page(items, 1, max(len(items), 1), len(items))

        return AsyncPager(fetch)

    async def create_table(
        self,
        *,
        name: str,
        description: str,
        fields: Sequence[TableField | Mapping[str, Any]],
    ) -> TableCreated:
        """Create a table: ``name`` <= 32 of ``[a-z][a-z0-9_]*``, ``description`` <= 128; each
        field a ``name`` (<= 32 of ``[a-z0-9_]``), a ``description`` (required, <= 128: it
        helps the model understand the table) and a ``type`` (database/Create_Database_Table.md).

        Example: ``t = await client.databases.create_table(name="orders", description="Orders",
        fields=[TableField("order_no", "TEXT", "Order number", unique=True)])``
        """
        check_identifier("name", name, max_length=NAME_MAX)
        require_text("description", description, max_length=DESCRIPTION_MAX)
        body = {"name": name, "description": description, "fields": _field_items(fields)}
        return await self._client._request(
            "POST", "v1/database/create-table", cast_to=TableCreated, json=body
        )

    async def import_records(
        self, *, table_id: str, records: Sequence[Mapping[str, Any]]
    ) -> ImportTasks:
        """Add up to 1000 rows as an asynchronous import; poll :meth:`import_results`.

        Example: ``tasks = await client.databases.import_records(table_id=t, records=[{...}])``
        """
        require_text("table_id", table_id)
        check_count("records", records, low=1, high=MAX_IMPORT_ROWS)
        for index, row in enumerate(records):
            if not isinstance(row, Mapping) or not row:
                raise InvalidParameterError(f"records[{index}]", "must be a non-empty mapping")
        return await self._client._request(
            "POST",
            "v1/database/import/records",
            cast_to=ImportTasks,
            json={"table_id": table_id, "records": [dict(row) for row in records]},
        )

    async def import_results(self, task_ids: Sequence[str]) -> builtins.list[ImportResult]:
        """Status of import tasks (``ids`` repeated in the query).

        Example: ``[r] = await client.databases.import_results(tasks.task_ids)``
        """
        ids = check_ids("ids", task_ids, high=1000)
        return await self._client._request(
            "GET",
            "v1/database/query/import-results",
            cast_to=builtins.list[ImportResult],
            params={"ids": ids},
        )

    async def list_records(
        self,
        *,
        table_id: str,
        page: int = 1,
        page_size: int = 20,
        filter: Mapping[str, Any] | None = None,  # the API field name
        keyword: str | None = None,
    ) -> RecordPage:
        """One page of rows (page size 1-100), optionally filtered.

        ``filter`` maps field names to values; every pair must match (the page's example
        filters on two unique fields at once). ``keyword`` is a fuzzy search; both may be
        given (database/Retrieve_Database_Records.md).

        Example: ``p = await client.databases.list_records(table_id=t, page_size=50)``
        """
        require_text("table_id", table_id)
        check_int_range("page", page, 1, 1_000_000)
        check_int_range("page_size", page_size, 1, 100)
        _check_filter("filter", filter)
        if keyword is not None:
            require_text("keyword", keyword)
        body = compact(
            table_id=table_id,
            page=page,
            page_size=page_size,
            filter=dict(filter) if filter is not None else None,
            keyword=keyword,
        )
        return await self._client._request(
            "POST", "v1/database/records/page", cast_to=RecordPage, json=body, idempotent=True
        )

    def list_records_all(
        self,
        *,
        table_id: str,
        page_size: int = 100,
        filter: Mapping[str, Any] | None = None,  # the API field name
        keyword: str | None = None,
    ) -> AsyncPager[Record]:
        """Every row, page after page, fetched lazily.

        Example: ``async for row in client.databases.list_records_all(table_id=t): ...``
        """
        require_text("table_id", table_id)
        check_int_range("page_size", page_size, 1, 100)

        async def fetch(number: int) -> Page[Record]:
            result = await self.list_records(
                table_id=table_id,
                page=number,
                page_size=page_size,
                filter=filter,
                keyword=keyword,
            )
            return Page(result.records, number, page_size, result.total_count)

        return AsyncPager(fetch)

    async def update_records(
        self,
        *,
        table_id: str,
        update_data: Sequence[Mapping[str, Any]],
        is_create: bool | None = None,
    ) -> RecordUpdateResult:
        """Update up to 100 rows, each ``{record_id | filter, updated_fields}`` (``record_id``
        wins); ``is_create`` inserts rows that no filter matched (upsert). The JSON body may be
        at most 5 MB (database/Update_Table_Data.md).

        Example: ``await client.databases.update_records(table_id=t,
        update_data=[{"record_id": r, "updated_fields": {"qty": 2}}])``
        """
        require_text("table_id", table_id)
        check_count("update_data", update_data, low=1, high=MAX_UPDATE_ITEMS)
        items = [
            _selector(f"update_data[{i}]", item, need_fields=True)
            for i, item in enumerate(update_data)
        ]
        body = compact(table_id=table_id, is_create=is_create, update_data=items)
        size = len(json.dumps(body, ensure_ascii=False, default=str).encode())
        if size > MAX_UPDATE_BODY_BYTES:
            raise InvalidParameterError(
                "update_data", f"the JSON body is {size} bytes, over the 5 MB limit"
            )
        return await self._client._request(
            "POST", "v2/database/update/record", cast_to=RecordUpdateResult, json=body
        )

    async def delete_records(
        self, *, table_id: str, delete_data: Sequence[Mapping[str, Any]]
    ) -> Acknowledgement:
        """Delete up to 1000 rows, each ``{record_id}`` or ``{filter: {...}}``.

        Example: ``await client.databases.delete_records(table_id=t,
        delete_data=[{"record_id": r}])``
        """
        require_text("table_id", table_id)
        check_count("delete_data", delete_data, low=1, high=MAX_DELETE_ITEMS)
        items = [
            _selector(f"delete_data[{i}]", item, need_fields=False)
            for i, item in enumerate(delete_data)
        ]
        return await self._client._request(
            "POST",
            "v2/database/delete/record",
            cast_to=Acknowledgement,
            json={"table_id": table_id, "delete_data": items},
        )
