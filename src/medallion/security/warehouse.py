"""SQL on a Databricks SQL warehouse through the SDK's statement execution API, shaped like the few
`SparkSession` calls the security step makes (`sql(...).collect()`, `catalog.tableExists`).

So `medallion security plan -t <target> --warehouse-id <id>` reads a workspace's `information_schema`
from a laptop or a CI runner with the same code the job's task runs on a cluster.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from medallion.errors import MedallionError
from medallion.security.statements import quote_name, sql_string

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

__all__ = ["WarehouseError", "WarehouseSql"]

POLL_SECONDS = 1.0
TIMEOUT_SECONDS = 600


class WarehouseError(MedallionError):
    """A statement the warehouse refused or failed."""


class _Row(dict):
    """A result row: `row["col"]` and `row.asDict()`, as Spark's Row offers."""

    def asDict(self) -> dict[str, Any]:
        return dict(self)


class _Result:
    def __init__(self, rows: list[_Row]):
        self._rows = rows

    def collect(self) -> list[_Row]:
        return self._rows


class _Catalog:
    def __init__(self, warehouse: WarehouseSql):
        self._warehouse = warehouse

    def tableExists(self, name: str) -> bool:
        catalog, schema, table = name.replace("`", "").split(".")
        rows = self._warehouse.sql(
            f"SELECT 1 FROM {quote_name(catalog)}.information_schema.tables "
            f"WHERE table_schema = {sql_string(schema)} AND table_name = {sql_string(table)}"
        ).collect()
        return bool(rows)


class WarehouseSql:
    """Runs statements one at a time on `warehouse_id` and returns their rows (all result chunks)."""

    def __init__(self, client: WorkspaceClient, warehouse_id: str):
        self.client = client
        self.warehouse_id = warehouse_id
        self.catalog = _Catalog(self)

    def sql(self, statement: str) -> _Result:
        from databricks.sdk.service.sql import StatementState  # the SDK loads only when a warehouse is used

        api = self.client.statement_execution
        response = api.execute_statement(
            statement=statement, warehouse_id=self.warehouse_id, wait_timeout="30s"
        )
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while response.status and response.status.state in (StatementState.PENDING, StatementState.RUNNING):
            if time.monotonic() > deadline:
                api.cancel_execution(response.statement_id)
                raise WarehouseError(f"statement did not finish in {TIMEOUT_SECONDS}s: {statement[:80]}")
            time.sleep(POLL_SECONDS)
            response = api.get_statement(response.statement_id)
        state = response.status.state if response.status else None
        if state != StatementState.SUCCEEDED:
            error = response.status.error if response.status else None
            detail = error.message if error and error.message else str(state)
            raise WarehouseError(f"warehouse {self.warehouse_id}: {detail} (statement: {statement[:120]})")
        columns = [c.name for c in (response.manifest.schema.columns or [])] if response.manifest else []
        rows = [_Row(zip(columns, values, strict=True)) for values in _data(response.result)]
        chunk = response.result.next_chunk_index if response.result else None
        while chunk is not None:
            part = api.get_statement_result_chunk_n(response.statement_id, chunk)
            rows += [_Row(zip(columns, values, strict=True)) for values in _data(part)]
            chunk = part.next_chunk_index
        return _Result(rows)


def _data(result: Any) -> list[list[Any]]:
    return (result.data_array or []) if result is not None else []
