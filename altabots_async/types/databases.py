"""Models of the Database category (REFERENCE §4.9, endpoints 55-61)."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from ._base import Model, StrList, also

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
class TableField(Model):
    """A column: ``type`` is ``TEXT``, ``INT``, ``FLOAT``, ``DATETIME`` or ``BOOLEAN``."""

    name: str
    type: str
    description: str | None = None
    required: bool | None = None
    unique: bool | None = None


@attrs.frozen
class Table(Model):
    """A table of the agent's database (list view)."""

    table_id: str
    name: str | None = None
    description: str | None = None
    field_number: int | None = None
    record_count: int | None = None


@attrs.frozen
class TableList(Model):
    """``POST /v1/database/tables/page``: the tables (unpaginated)."""

    tables: list[Table] = attrs.field(factory=list)


@attrs.frozen
class TableCreated(Model):
    """The id of a table just created: ``data`` of the answer, a bare id in practice; the
    page types it "object" (database/Create_Database_Table.md), so ``{"table_id"}`` or
    ``{"id"}`` decode too."""

    WIRE_BARE: ClassVar[str | None] = "table_id"

    table_id: str = attrs.field(metadata=also("id"))


@attrs.frozen
class ImportTasks(Model):
    """The ids of the asynchronous import tasks (poll ``import_results``): ``data`` of the
    answer, a list of ids in the example (database/Add_Table_Data.md; typed "object" in its
    table); a single id decodes too."""

    WIRE_BARE: ClassVar[str | None] = "task_ids"

    task_ids: StrList = attrs.field(factory=lambda: StrList([]), metadata=also("ids"))


@attrs.frozen
class ImportFailure(Model):
    """Rows that failed to import and why (``row`` null when the whole import was refused)."""

    row: Any = None
    row_number_start: int | None = None
    row_number_end: int | None = None
    fail_reason: str | None = None


@attrs.frozen
class ImportResult(Model):
    """Progress of one import task; ``status`` e.g. ``AVAILABLE`` or ``FAIL``."""

    id: str
    progress: float | None = None
    status: str | None = None
    total_count: int | None = None
    success_count: int | None = None
    fail_count: int | None = None
    fail_detail: list[ImportFailure] = attrs.field(factory=list)


@attrs.frozen
class TableInfo(Model):
    """A table's definition as returned with its records (``field_count``: the example's
    spelling; ``fieldCount``, the field table's, decodes too)."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    field_count: int | None = attrs.field(default=None, metadata=also("fieldCount"))
    fields: list[TableField] = attrs.field(factory=list)
    bot_id: str | None = None
    project_id: str | None = None
    owner_id: str | None = None


@attrs.frozen
class Record(Model):
    """A row: ``value`` maps field names to values; times in epoch milliseconds."""

    id: str
    value: dict[str, Any] = attrs.field(factory=dict)
    created_at: int | None = None
    updated_at: int | None = None


@attrs.frozen
class RecordPage(Model):
    """One page of rows with the table definition and ``total_count``."""

    records: list[Record] = attrs.field(factory=list)
    total_count: int | None = None
    table_info: TableInfo | None = attrs.field(default=None, metadata=also("tableInfo"))


@attrs.frozen
class RecordUpdateFailure(Model):
    """An update item that failed, and why. ``fail_reason`` is a string in the page's example
    and an array in its field table (database/Update_Table_Data.md): kept as sent;
    :attr:`fail_reasons` is always a list."""

    upsert_data: Any = None
    fail_reason: str | list[str] | None = None

    @property
    def fail_reasons(self) -> list[str]:
        """The reason(s), as a list whatever the wire form."""
        if self.fail_reason is None:
            return []
        return [self.fail_reason] if isinstance(self.fail_reason, str) else self.fail_reason


@attrs.frozen
class RecordUpdateResult(Model):
    """The outcome of an update/upsert call."""

    total_count: int | None = attrs.field(
        default=None, alias="totalCount", metadata=also("total_count")
    )
    success_count: int | None = None
    fail_count: int | None = None
    fail_detail: list[RecordUpdateFailure] = attrs.field(factory=list)
