"""Models of the Database category (REFERENCE §4.9, endpoints 55-61)."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = [
    "ImportFailure",
    "ImportResult",
    "ImportTasks",
    "Record",
    "RecordPage",
    "RecordUpdateFailure",
    "RecordUpdateResult",
    "Table",
    "TableCreated",
    "TableField",
    "TableInfo",
    "TableList",
]


@attrs.frozen
class TableField:
    """A column: ``type`` is ``TEXT``, ``INT``, ``FLOAT``, ``DATETIME`` or ``BOOLEAN``."""

    name: str
    type: str
    description: str | None = None
    required: bool | None = None
    unique: bool | None = None


@attrs.frozen
class Table:
    """A table of the agent's database (list view)."""

    table_id: str
    name: str | None = None
    description: str | None = None
    field_number: int | None = None
    record_count: int | None = None


@attrs.frozen
class TableList:
    """``POST /v1/database/tables/page``: the tables (unpaginated)."""

    tables: list[Table] = attrs.field(factory=list)


@attrs.frozen
class TableCreated:
    """The id of a table just created."""

    table_id: str


@attrs.frozen
class ImportTasks:
    """The ids of the asynchronous import tasks (poll ``import_results``)."""

    task_ids: list[str] = attrs.field(factory=list)


@attrs.frozen
class ImportFailure:
    """Rows that failed to import and why (``row`` null when the whole import was refused)."""

    row: Any = None
    row_number_start: int | None = None
    row_number_end: int | None = None
    fail_reason: str | None = None


@attrs.frozen
class ImportResult:
    """Progress of one import task; ``status`` e.g. ``AVAILABLE`` or ``FAIL``."""

    id: str
    progress: float | None = None
    status: str | None = None
    total_count: int | None = None
    success_count: int | None = None
    fail_count: int | None = None
    fail_detail: list[ImportFailure] = attrs.field(factory=list)


@attrs.frozen
class TableInfo:
    """A table's definition as returned with its records."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    field_count: int | None = None
    fields: list[TableField] = attrs.field(factory=list)
    bot_id: str | None = None
    project_id: str | None = None
    owner_id: str | None = None


@attrs.frozen
class Record:
    """A row: ``value`` maps field names to values; times in epoch milliseconds."""

    id: str
    value: dict[str, Any] = attrs.field(factory=dict)
    created_at: int | None = None
    updated_at: int | None = None


@attrs.frozen
class RecordPage:
    """One page of rows with the table definition and ``total_count``."""

    records: list[Record] = attrs.field(factory=list)
    total_count: int | None = None
    table_info: TableInfo | None = None


@attrs.frozen
class RecordUpdateFailure:
    """An update item that failed, and why."""

    upsert_data: Any = None
    fail_reason: str | None = None


@attrs.frozen
class RecordUpdateResult:
    """The outcome of an update/upsert call."""

    total_count: int | None = attrs.field(default=None, alias="totalCount")
    success_count: int | None = None
    fail_count: int | None = None
    fail_detail: list[RecordUpdateFailure] = attrs.field(factory=list)
