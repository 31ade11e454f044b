"""One small lakehouse built once by the bundle's job and read by several tests.

It holds hand-written rows for the point-in-time cases (a dimension change and a delete around
each order) and a table added purely through spec rows (kiosks: a bronze source, columns, a merge
table and a gold SQL file). Building it is one job run; each test asserts on its own part.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from project_files import copy_bundle

from medallion.bundle import load_bundle
from medallion.runtime.runner import JobRunResult, run_job

CUSTOMERS = """customer_id,first_name,last_name,email,country,city,segment,signup_date,updated_at,operation
C1,Ada,Lane,ada@example.org,GB,Leeds,consumer,2024-01-01,2024-01-01 09:00:00,I
C1,Ada,Lane,ada@example.org,GB,Leeds,vip,2024-01-01,2024-01-10 12:00:00,U
C2,Bo,Kim,bo@example.org,DE,Berlin,business,2024-01-02,2024-01-02 09:00:00,I
C2,Bo,Kim,bo@example.org,DE,Berlin,business,2024-01-02,2024-01-12 00:00:00,D
"""
PRODUCTS = """product_id,product_name,category,brand,unit_price,updated_at,operation
P1,Lamp,Home,Acme,10.00,2024-01-01 00:00:00,I
P1,Lamp,Lighting,Acme,12.00,2024-01-08 00:00:00,U
"""
LINES = """order_id,line_number,product_id,quantity,unit_price,discount
O1,1,P1,1,10.00,0
O2,1,P1,2,12.00,0
O3,1,P1,4,12.00,0
O4,1,P1,8,12.00,0
"""
ORDERS = [
    # before C1 became vip (and before P1 moved category)
    {"order_id": "O1", "customer_id": "C1", "order_ts": "2024-01-05 10:00:00", "status": "delivered"},
    # after both changes
    {"order_id": "O2", "customer_id": "C1", "order_ts": "2024-01-11 10:00:00", "status": "delivered"},
    # C2 while it existed, then after its delete
    {"order_id": "O3", "customer_id": "C2", "order_ts": "2024-01-11 10:00:00", "status": "delivered"},
    {"order_id": "O4", "customer_id": "C2", "order_ts": "2024-01-13 10:00:00", "status": "delivered"},
]

# A new source added by editing spec files only (no Python, no YAML).
KIOSK_SPEC_ROWS = {
    "bronze_sources.csv": ["kiosks,csv,kiosks,header=true,Kiosk master"],
    "columns.csv": [
        "bronze,kiosks,kiosk_id,string,,true,",
        "bronze,kiosks,city,string,,true,",
        "bronze,kiosks,changed_at,string,,true,",
        "silver,dim_kiosk,kiosk_id,string,,false,",
        "silver,dim_kiosk,city,string,upper(city),true,",
        "silver,dim_kiosk,changed_at,timestamp,,false,",
    ],
    "incremental_load_patterns.csv": ["dim_kiosk,kiosks,merge,kiosk_id,changed_at,,,Kiosks"],
    "gold_tables.csv": ["kiosks_per_city,kiosks_per_city.sql,Kiosks per city,,"],
}
KIOSK_SQL = "SELECT city, count(*) AS kiosks FROM ${silver}.dim_kiosk GROUP BY city\n"
KIOSKS = (
    "kiosk_id,city,changed_at\nK1,berlin,2024-01-01 00:00:00\nK2,paris,2024-01-01 00:00:00\n"
    "K3,berlin,2024-01-01 00:00:00\nK2,berlin,2024-01-02 00:00:00\n"
)


@dataclass(frozen=True)
class SmallJob:
    result: JobRunResult
    schemas: dict[str, str]  # layer -> schema name


def build_small_job(spark, project_root: Path, folder: Path) -> SmallJob:
    """Copy the project, add the kiosk spec rows and the landing files, run the job once."""
    project = copy_bundle(project_root, folder / "project")
    specs = project / "specs"
    for file, lines in KIOSK_SPEC_ROWS.items():
        with (specs / file).open("a") as handle:
            handle.write("".join(line + "\n" for line in lines))
    (specs / "gold" / "kiosks_per_city.sql").write_text(KIOSK_SQL)

    schemas = {layer: f"small_{layer}" for layer in ("bronze", "silver", "gold", "ops")}
    with pytest.MonkeyPatch.context() as patch:
        for layer, schema in schemas.items():
            patch.setenv(f"BUNDLE_VAR_{layer}_schema", schema)
        bundle = load_bundle(project)
        landing = Path(bundle.resolve_variables("dev", local=True)["landing_root"])
        _write_landing(landing)
        result = run_job(spark, bundle, "dev", echo=lambda *_: None)
    return SmallJob(result, schemas)


def _write_landing(landing: Path) -> None:
    for folder, name, text in (
        ("customers", "customers_0001_20240113.csv", CUSTOMERS),
        ("products", "products_0001_20240113.csv", PRODUCTS),
        ("order_lines", "order_lines_0001_20240113.csv", LINES),
        ("kiosks", "kiosks_0001.csv", KIOSKS),
    ):
        (landing / folder).mkdir(parents=True, exist_ok=True)
        (landing / folder / name).write_text(text)
    (landing / "orders").mkdir(parents=True, exist_ok=True)
    orders = [{**o, "channel": "web", "updated_at": o["order_ts"]} for o in ORDERS]
    (landing / "orders" / "orders_0001_20240113.json").write_text(
        "".join(json.dumps(o) + "\n" for o in orders)
    )
