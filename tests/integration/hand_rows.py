"""Hand-written rows and a spec-rows-only table, added to the demo lakehouse (`demo_job.py`).

The rows are the point-in-time cases (a dimension change and a delete around each order), dated
2023, before any generated order, so the gold rows of those dates come from them alone. The kiosk
table is added by editing spec files only (a bronze source, columns, a merge table and a gold SQL
file): no Python, no YAML. One job run builds them with the demo data; each test asserts on its part.
"""

from __future__ import annotations

import json
from pathlib import Path

CUSTOMERS = """customer_id,first_name,last_name,email,country,city,segment,signup_date,updated_at,operation
C1,Ada,Lane,ada@example.org,GB,Leeds,consumer,2023-11-01,2023-11-01 09:00:00,I
C1,Ada,Lane,ada@example.org,GB,Leeds,vip,2023-11-01,2023-11-10 12:00:00,U
C2,Bo,Kim,bo@example.org,DE,Berlin,business,2023-11-02,2023-11-02 09:00:00,I
C2,Bo,Kim,bo@example.org,DE,Berlin,business,2023-11-02,2023-11-12 00:00:00,D
"""
PRODUCTS = """product_id,product_name,category,brand,unit_price,updated_at,operation
P1,Lamp,Home,Acme,10.00,2023-11-01 00:00:00,I
P1,Lamp,Lighting,Acme,12.00,2023-11-08 00:00:00,U
"""
LINES = """order_id,line_number,product_id,quantity,unit_price,discount
O1,1,P1,1,10.00,0
O2,1,P1,2,12.00,0
O3,1,P1,4,12.00,0
O4,1,P1,8,12.00,0
"""
ORDERS = [
    # before C1 became vip (and before P1 moved category)
    {"order_id": "O1", "customer_id": "C1", "order_ts": "2023-11-05 10:00:00", "status": "delivered"},
    # after both changes
    {"order_id": "O2", "customer_id": "C1", "order_ts": "2023-11-11 10:00:00", "status": "delivered"},
    # C2 while it existed, then after its delete
    {"order_id": "O3", "customer_id": "C2", "order_ts": "2023-11-11 10:00:00", "status": "delivered"},
    {"order_id": "O4", "customer_id": "C2", "order_ts": "2023-11-13 10:00:00", "status": "delivered"},
]
HAND_WRITTEN_BEFORE = "2024-01-01"  # every hand-written order is older; every generated one is not

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


def add_kiosk_specs(specs: Path) -> None:
    """The kiosk table's spec rows and gold SQL file, appended to a project's specs."""
    for file, lines in KIOSK_SPEC_ROWS.items():
        with (specs / file).open("a") as handle:
            handle.write("".join(line + "\n" for line in lines))
    (specs / "gold" / "kiosks_per_city.sql").write_text(KIOSK_SQL)


def write_hand_rows(landing: Path) -> None:
    """The point-in-time rows and the kiosks as landing files beside the generated ones."""
    for folder, name, text in (
        ("customers", "customers_9001_20231113.csv", CUSTOMERS),
        ("products", "products_9001_20231113.csv", PRODUCTS),
        ("order_lines", "order_lines_9001_20231113.csv", LINES),
        ("kiosks", "kiosks_0001.csv", KIOSKS),
    ):
        (landing / folder).mkdir(parents=True, exist_ok=True)
        (landing / folder / name).write_text(text)
    (landing / "orders").mkdir(parents=True, exist_ok=True)
    orders = [{**o, "channel": "web", "updated_at": o["order_ts"]} for o in ORDERS]
    (landing / "orders" / "orders_9001_20231113.json").write_text(
        "".join(json.dumps(o) + "\n" for o in orders)
    )
