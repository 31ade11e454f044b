"""Dashboards from `specs/dashboards/*.json`: Lakeview `.lvdash.json` files and the bundle's dashboard,
alert and refresh resources (`lvdash`, `resources`, `build`), and a local HTML preview (`preview`)."""
