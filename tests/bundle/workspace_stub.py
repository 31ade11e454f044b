"""A fake Databricks workspace on 127.0.0.1 for driving the real Databricks CLI offline.

`databricks bundle validate|plan|deploy` (DATABRICKS_BUNDLE_ENGINE=direct) talks to a workspace
over plain REST.  This server answers the endpoints those commands use, keeps just enough state
that a second deploy sees what the first one created, and records every call so a test can
assert what a real workspace would have received.  Standard library only.

Anything it does not know is recorded with ``unhandled=True`` and answered 404 with a
Databricks-style ``{"error_code": "NOT_FOUND"}`` body, so a missing endpoint is easy to spot.

    with WorkspaceStub() as ws:
        env = {"DATABRICKS_HOST": ws.host, "DATABRICKS_TOKEN": "dummy", ...}
        subprocess.run(["databricks", "bundle", "deploy"], env=env, check=True)
        assert ws.calls("POST", "/api/2.2/jobs/create") and not ws.unhandled
"""

from __future__ import annotations

import itertools
import json
import posixpath
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

METASTORE_ID = "11111111-2222-4333-8444-555555555555"
WORKSPACE_ID = "1234567890123456"
UC = "/api/2.1/unity-catalog"
OCTETS = "application/octet-stream"


class ApiError(Exception):
    """Raised by a handler to answer with a Databricks error body."""

    def __init__(self, status: int, error_code: str, message: str):
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


def _not_found(message: str) -> ApiError:
    # The SDK maps RESOURCE_DOES_NOT_EXIST to ErrResourceDoesNotExist, which the CLI treats as "gone".
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", message)


def _ws_key(path: str) -> str:
    """/Workspace/Users/x and /Users/x name the same object in a real workspace."""
    path = posixpath.normpath("/" + path.lstrip("/"))
    if path == "/Workspace" or path.startswith("/Workspace/"):
        return path.removeprefix("/Workspace") or "/"
    return path


def _now_ms() -> int:
    return int(time.time() * 1000)


class WorkspaceStub:
    """Threaded HTTP server faking one workspace; use as a context manager."""

    def __init__(self, user_name="deployer@example.com", groups=("users", "data-engineers"), catalogs=None):
        """catalogs limits which catalogs exist (None: every name does).  Seed `service_principals`
        (display name -> application id) for `lookup: service_principal` variables."""
        groups = [{"display": g, "value": str(100 + i), "type": "direct"} for i, g in enumerate(groups)]
        emails = [{"value": user_name, "primary": True, "type": "work"}]
        self.user = dict(id="1000000000000001", userName=user_name, displayName=user_name.split("@")[0])
        self.user.update(active=True, emails=emails, groups=groups)
        self.service_principals = {"deployer-sp": "11111111-2222-3333-4444-555555555555"}
        self.catalogs = None if catalogs is None else set(catalogs)
        self.requests: list[dict] = []  # {method, path, query, body, status, unhandled}
        self.files: dict[str, dict] = {}  # workspace key -> {data, object_type, object_id, path, modified_at}
        self.dirs: dict[str, int] = {}  # workspace key -> object_id
        self.jobs: dict[int, dict] = {}
        self.runs: dict[int, dict] = {}
        self.permissions: dict[str, list] = {}  # "/jobs/123", "/directories/45" -> access_control_list
        self.schemas: dict[str, dict] = {}  # full name -> SchemaInfo
        self.volumes: dict[str, dict] = {}  # full name -> VolumeInfo
        # SQL warehouses: `information_schema.<view>` rows a statement reads, served in chunks.
        self.information_schema: dict[str, list[dict]] = {}
        self.chunk_rows = 2
        self.statements: dict[str, list[list]] = {}  # statement id -> result chunks
        self.warehouses = [
            {"id": "0123456789abcdef", "name": "Serverless Starter Warehouse", "state": "RUNNING"}
        ]
        self.dashboards: dict[str, dict] = {}  # dashboard id -> Dashboard (serialized_dashboard included)
        self.alerts: dict[str, dict] = {}  # alert id -> AlertV2
        self._ids = itertools.count(1001)
        self._lock = threading.RLock()
        for d in ("/", "/Users", "/Shared", f"/Users/{user_name}"):
            self.dirs[d] = next(self._ids)
        self._route_table = [(m, re.compile(p), h) for m, p, h in self._routes()]
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.host = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    # ----------------------------------------------------------------- public API
    def __enter__(self) -> WorkspaceStub:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def calls(self, method: str | None = None, path_prefix: str = "") -> list[dict]:
        """Recorded requests matching a method (None = any) and a path prefix."""
        reqs = [r for r in list(self.requests) if r["path"].startswith(path_prefix)]
        return [r for r in reqs if method in (None, r["method"])]

    @property
    def unhandled(self) -> list[dict]:
        return [r for r in list(self.requests) if r.get("unhandled")]

    # ----------------------------------------------------------------- routing
    def _routes(self):
        """(method, path regex, handler(query, body, *groups)); the first full match wins."""
        return [
            # The SDK's host discovery: without it every command warns "failed to fetch host metadata".
            ("GET", r"/\.well-known/databricks-config", self._host_metadata),
            ("GET", r"/api/2\.0/preview/scim/v2/Me", lambda q, b: self.user),
            ("GET", r"/api/2\.0/preview/scim/v2/ServicePrincipals", self._sp_list),
            ("POST", r"/telemetry-ext", self._telemetry),
            ("GET", r"/api/2\.0/workspace-conf", lambda q, b: dict.fromkeys(q["keys"].split(","))),
            # Workspace tree and files
            ("GET", r"/api/2\.0/workspace/get-status", lambda q, b: self._object_info(q["path"])),
            ("GET", r"/api/2\.0/workspace/list", self._ws_list),
            ("POST", r"/api/2\.0/workspace/mkdirs", lambda q, b: self._mkdirs(b["path"]) or {}),
            ("POST", r"/api/2\.0/workspace/delete", self._ws_delete),
            ("GET", r"/api/2\.0/workspace/export", lambda q, b: self._file(q["path"])["data"]),
            ("POST", r"/api/2\.0/workspace-files/import-file/(.+)", self._import_file),
            ("GET", r"/api/2\.0/workspace-files/(.+)", lambda q, b, path: self._file(path)["data"]),
            # Jobs and runs (the SDK uses 2.2; 2.1 kept for older callers)
            ("POST", r"/api/2\.[12]/jobs/create", self._job_create),
            ("GET", r"/api/2\.[012]/jobs/get", lambda q, b: self._job(q["job_id"])),
            ("POST", r"/api/2\.[12]/jobs/reset", self._job_reset),
            ("POST", r"/api/2\.[12]/jobs/delete", lambda q, b: self._delete(self.jobs, int(b["job_id"]))),
            ("GET", r"/api/2\.[12]/jobs/list", self._job_list),
            ("POST", r"/api/2\.[12]/jobs/run-now", self._run_now),
            ("GET", r"/api/2\.[12]/jobs/runs/list", self._runs_list),
            ("GET", r"/api/2\.[12]/jobs/runs/get", lambda q, b: self._get(self.runs, int(q["run_id"]))),
            # Permissions: /api/2.0/permissions/{type}/{id}; type may contain a slash (sql/warehouses)
            ("GET", r"/api/2\.0/permissions/(.+)/([^/]+)", self._perm_get),
            ("PUT", r"/api/2\.0/permissions/(.+)/([^/]+)", self._perm_set),
            # Unity Catalog; schemas and volumes are keyed by full name
            ("GET", rf"{UC}/catalogs/([^/]+)", self._catalog_get),
            ("POST", rf"{UC}/schemas", lambda q, b: self._uc_create(self.schemas, b, "catalog_name", "name")),
            ("GET", rf"{UC}/schemas/([^/]+)", lambda q, b, name: self._get(self.schemas, name)),
            ("PATCH", rf"{UC}/schemas/([^/]+)", lambda q, b, name: self._uc_update(self.schemas, name, b)),
            ("DELETE", rf"{UC}/schemas/([^/]+)", lambda q, b, name: self._delete(self.schemas, name)),
            ("POST", rf"{UC}/volumes", self._volume_create),
            ("GET", rf"{UC}/volumes/([^/]+)", lambda q, b, name: self._get(self.volumes, name)),
            ("PATCH", rf"{UC}/volumes/([^/]+)", lambda q, b, name: self._uc_update(self.volumes, name, b)),
            ("DELETE", rf"{UC}/volumes/([^/]+)", lambda q, b, name: self._delete(self.volumes, name)),
            # SQL warehouses (the bundle's `lookup: warehouse`), Lakeview dashboards, alerts (v2)
            ("GET", r"/api/2\.0/sql/warehouses", lambda q, b: {"warehouses": self.warehouses}),
            ("POST", r"/api/2\.0/lakeview/dashboards", self._dashboard_create),
            ("GET", r"/api/2\.0/lakeview/dashboards/([^/]+)", lambda q, b, i: self._get(self.dashboards, i)),
            ("PATCH", r"/api/2\.0/lakeview/dashboards/([^/]+)", self._dashboard_update),
            (
                "DELETE",
                r"/api/2\.0/lakeview/dashboards/([^/]+)",
                lambda q, b, i: self._delete(self.dashboards, i),
            ),
            ("POST", r"/api/2\.0/lakeview/dashboards/([^/]+)/published", self._dashboard_publish),
            ("GET", r"/api/2\.0/lakeview/dashboards/([^/]+)/published", self._dashboard_published),
            ("POST", r"/api/2\.0/alerts", self._alert_create),
            ("GET", r"/api/2\.0/alerts/([^/]+)", lambda q, b, i: self._get(self.alerts, i)),
            ("PATCH", r"/api/2\.0/alerts/([^/]+)", self._alert_update),
            ("DELETE", r"/api/2\.0/alerts/([^/]+)", lambda q, b, i: self._delete(self.alerts, i)),
            # SQL statement execution (information_schema reads only)
            ("POST", r"/api/2\.0/sql/statements/?", self._statement_execute),
            ("GET", r"/api/2\.0/sql/statements/([^/]+)/result/chunks/(\d+)", self._statement_chunk),
        ]

    def _dispatch(self, method: str, path: str, query: dict, body) -> tuple[int, bytes, bool]:
        """(status, encoded body, handled).  Encodes under the lock: handlers return stored dicts."""
        for m, pattern, handler in self._route_table:
            match = pattern.fullmatch(path)
            if m == method and match:
                with self._lock:
                    try:
                        payload = handler(query, body, *match.groups())
                    except ApiError as e:
                        return e.status, _error(e.error_code, e.message), True
                    except (KeyError, ValueError, TypeError) as e:  # malformed request
                        return 400, _error("INVALID_PARAMETER_VALUE", repr(e)), True
                    return 200, payload if isinstance(payload, bytes) else json.dumps(payload).encode(), True
        return 404, _error("NOT_FOUND", f"No stub for {method} {path}"), False

    @staticmethod
    def _get(store: dict, key):
        if key not in store:
            raise _not_found(f"'{key}' does not exist.")
        return store[key]

    def _delete(self, store: dict, key) -> dict:
        self._get(store, key)  # 404 when missing
        del store[key]
        return {}

    def _host_metadata(self, q, b):
        meta = dict(oidc_endpoint=f"{self.host}/oidc", workspace_id=WORKSPACE_ID, cloud="AWS")
        return {**meta, "host_type": "WORKSPACE_HOST"}

    def _telemetry(self, q, b):
        return {"errors": [], "numProtoSuccess": len(b.get("protoLogs", []))}

    def _sp_list(self, q, b):
        """SCIM list filtered by `displayName eq 'x'`; the SDK pages by startIndex until a page is empty."""
        wanted = re.findall(r"displayName eq '([^']*)'", q.get("filter", ""))
        sps = [{"id": a, "displayName": n, "applicationId": a} for n, a in self.service_principals.items()]
        sps = [sp for sp in sps if sp["displayName"] in wanted and int(q.get("startIndex", 1)) <= 1]
        return {"Resources": sps, "totalResults": len(sps), "startIndex": 1}

    # ----------------------------------------------------------------- workspace tree
    def _object_info(self, path: str) -> dict:
        key = _ws_key(path)
        if key in self.dirs:
            return {"object_type": "DIRECTORY", "path": path, "object_id": self.dirs[key]}
        if key in self.files:
            info = {k: v for k, v in self.files[key].items() if k != "data"}
            info["size"] = len(self.files[key]["data"])
            return {**info, "language": "PYTHON"} if info["object_type"] == "NOTEBOOK" else info
        raise _not_found(f"Path ({path}) doesn't exist.")

    def _file(self, path: str) -> dict:
        """Raw bytes come back from /workspace/export?direct_download=true and GET /workspace-files/{path}
        (the CLI reads remote state, e.g. state/resources.json and deploy.lock, both ways)."""
        return self._get(self.files, _ws_key(path))

    def _mkdirs(self, path: str) -> None:
        key = _ws_key(path)
        if key in self.files:
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Path ({path}) already exists as a file.")
        while key not in self.dirs:
            self.dirs[key] = next(self._ids)
            key = posixpath.dirname(key)

    def _ws_list(self, q, b):
        info = self._object_info(q["path"])
        if info["object_type"] != "DIRECTORY":
            return {"objects": [info]}
        key, prefix = _ws_key(q["path"]), "/Workspace" if q["path"].startswith("/Workspace") else ""
        children = [k for k in [*self.dirs, *self.files] if k != key and posixpath.dirname(k) == key]
        return {"objects": [self._object_info(prefix + k) for k in sorted(children)]}

    def _ws_delete(self, q, b):
        key = _ws_key(b["path"])
        if key not in self.dirs and key not in self.files:
            raise _not_found(f"Path ({b['path']}) doesn't exist.")
        inside = [k for k in [*self.dirs, *self.files] if k.startswith(key.rstrip("/") + "/")]
        if inside and not b.get("recursive"):
            raise ApiError(400, "DIRECTORY_NOT_EMPTY", f"Folder ({b['path']}) is not empty.")
        for k in [*inside, key]:
            self.dirs.pop(k, None)
            self.files.pop(k, None)
        return {}

    def _import_file(self, q, body: bytes, path: str):
        """As the real API: 404 when the parent folder is missing (the CLI then mkdirs and retries),
        409 when the file exists and overwrite is false, and notebooks lose their .py extension."""
        path = "/" + path.lstrip("/")
        key, object_type = _ws_key(path), "FILE"
        if posixpath.dirname(key) not in self.dirs:
            raise _not_found(f"The parent folder ({posixpath.dirname(path)}) does not exist.")
        if key.endswith(".py") and body.startswith(b"# Databricks notebook source"):
            object_type, key, path = "NOTEBOOK", key[:-3], path[:-3]
        if key in self.files and q.get("overwrite") != "true":
            raise ApiError(409, "RESOURCE_ALREADY_EXISTS", f"File already exists at ({path}).")
        object_id = self.files[key]["object_id"] if key in self.files else next(self._ids)
        self.files[key] = dict(data=body, object_type=object_type, path=path, object_id=object_id)
        self.files[key]["modified_at"] = _now_ms()
        return {}

    # ----------------------------------------------------------------- jobs
    def _job(self, job_id) -> dict:
        return self._get(self.jobs, int(job_id))

    def _job_create(self, q, settings):
        """Settings are echoed back by jobs/get; the creator becomes IS_OWNER, as in a real workspace."""
        job_id, me = next(self._ids), self.user["userName"]
        job = dict(job_id=job_id, creator_user_name=me, run_as_user_name=me, created_time=_now_ms())
        self.jobs[job_id] = {**job, "settings": {"email_notifications": {}, **settings}}
        self.permissions[f"/jobs/{job_id}"] = [_acl_entry({"user_name": me, "permission_level": "IS_OWNER"})]
        return {"job_id": job_id}

    def _job_reset(self, q, b):
        self._job(b["job_id"])["settings"] = {"email_notifications": {}, **b["new_settings"]}
        return {}

    def _job_list(self, q, b):
        name = q.get("name")  # jobs/list?name= is how the SDK looks a job up by name
        jobs = [j for j in self.jobs.values() if name in (None, j["settings"].get("name"))]
        return {"jobs": jobs, "has_more": False}

    def _run_now(self, q, b):
        """Runs finish at once, successfully (`bundle run` polls runs/get until TERMINATED)."""
        job, run_id, now = self._job(b["job_id"]), next(self._ids), _now_ms()
        run = dict(run_id=run_id, job_id=job["job_id"], run_name=job["settings"].get("name"), start_time=now)
        run.update(end_time=now, run_page_url=f"{self.host}/#job/run/{run_id}")
        run["state"] = {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS", "state_message": ""}
        run["status"] = {"state": "TERMINATED", "termination_details": {"code": "SUCCESS"}}
        self.runs[run_id] = run
        return {"run_id": run_id, "number_in_job": run_id}

    def _runs_list(self, q, b):
        job_id = q.get("job_id")
        runs = [r for r in self.runs.values() if job_id in (None, str(r["job_id"]))]
        return {"runs": runs, "has_more": False}

    # ----------------------------------------------------------------- permissions
    def _perm_get(self, q, b, object_type: str, object_id: str):
        singular = {"jobs": "job", "directories": "directory", "notebooks": "notebook", "files": "file"}
        acl = self.permissions.get(f"/{object_type}/{object_id}", [])
        kind = singular.get(object_type, object_type)
        return {"object_id": f"/{object_type}/{object_id}", "object_type": kind, "access_control_list": acl}

    def _perm_set(self, q, b, object_type: str, object_id: str):
        """PUT replaces the direct ACL.  A job must have exactly one IS_OWNER (the real API refuses
        otherwise); the CLI turns the deploying identity's CAN_MANAGE into IS_OWNER itself."""
        acl = [_acl_entry(e) for e in b.get("access_control_list", [])]
        owners = [e for e in acl if e["all_permissions"][0]["permission_level"] == "IS_OWNER"]
        if object_type == "jobs" and len(owners) != 1:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "The job must have exactly one owner.")
        self.permissions[f"/{object_type}/{object_id}"] = acl
        return self._perm_get(q, b, object_type, object_id)

    # ----------------------------------------------------------------- unity catalog
    def _catalog_get(self, q, b, name: str):
        """Bundles create schemas in catalogs the workspace already has."""
        if self.catalogs is not None and name not in self.catalogs:
            raise ApiError(404, "CATALOG_DOES_NOT_EXIST", f"Catalog '{name}' does not exist.")
        return dict(name=name, full_name=name, catalog_type="MANAGED_CATALOG", metastore_id=METASTORE_ID)

    def _uc_create(self, store: dict, b: dict, *name_parts: str) -> dict:
        full_name = ".".join(b[p] for p in name_parts)
        if full_name in store:
            raise ApiError(409, "ALREADY_EXISTS", f"'{full_name}' already exists")
        self._catalog_get({}, {}, b["catalog_name"])
        me, now = self.user["userName"], _now_ms()
        store[full_name] = {**b, "full_name": full_name, "owner": me, "metastore_id": METASTORE_ID}
        store[full_name].update(created_at=now, updated_at=now, created_by=me, updated_by=me)
        return store[full_name]

    def _volume_create(self, q, b):
        """Managed volumes get a storage_location from the server (the CLI treats it as a backend default)."""
        vol = self._uc_create(self.volumes, b, "catalog_name", "schema_name", "name")
        vol["volume_id"] = f"vol-{next(self._ids)}"
        vol.setdefault("storage_location", f"s3://metastore/{METASTORE_ID}/volumes/{vol['volume_id']}")
        return vol

    def _uc_update(self, store: dict, full_name: str, b: dict) -> dict:
        """PATCH merges the given fields; new_name renames (the store key is the full name)."""
        obj = self._get(store, full_name)
        obj.update({k: v for k, v in b.items() if k not in ("new_name", "full_name", "name")})
        if b.get("new_name"):
            del store[full_name]
            obj["name"], obj["full_name"] = b["new_name"], full_name.rsplit(".", 1)[0] + "." + b["new_name"]
            store[obj["full_name"]] = obj
        obj.update(updated_at=_now_ms(), updated_by=self.user["userName"])
        return obj

    # ----------------------------------------------------------------- HTTP plumbing
    def _dashboard_create(self, q, b):
        dashboard_id = f"{next(self._ids):032x}"
        path = f"{b.get('parent_path', '/Shared')}/{b['display_name']}.lvdash.json"
        self._mkdirs(b.get("parent_path", "/Shared"))
        dashboard = dict(b, dashboard_id=dashboard_id, path=path, lifecycle_state="ACTIVE", etag="1")
        dashboard.update(create_time="2026-01-01T00:00:00Z", update_time="2026-01-01T00:00:00Z")
        self.dashboards[dashboard_id] = dashboard
        return dashboard

    def _dashboard_update(self, q, b, dashboard_id: str):
        dashboard = self._get(self.dashboards, dashboard_id)
        dashboard.update(b, etag=str(int(dashboard["etag"]) + 1))
        return dashboard

    def _dashboard_publish(self, q, b, dashboard_id: str):
        dashboard = self._get(self.dashboards, dashboard_id)
        dashboard["published"] = {
            "warehouse_id": b.get("warehouse_id"),
            "embed_credentials": b.get("embed_credentials"),
        }
        return dict(
            dashboard["published"],
            display_name=dashboard["display_name"],
            revision_create_time="2026-01-01T00:00:00Z",
        )

    def _dashboard_published(self, q, b, dashboard_id: str):
        dashboard = self._get(self.dashboards, dashboard_id)
        if "published" not in dashboard:
            raise _not_found(f"dashboard {dashboard_id} is not published")
        return dict(dashboard["published"], display_name=dashboard["display_name"])

    def _alert_create(self, q, b):
        alert_id = f"{next(self._ids):08x}-0000-4000-8000-000000000000"
        self.alerts[alert_id] = dict(b, id=alert_id, lifecycle_state="ACTIVE")
        return self.alerts[alert_id]

    def _alert_update(self, q, b, alert_id: str):
        alert = self._get(self.alerts, alert_id)
        alert.update(b.get("alert", b))
        return alert

    def _statement_execute(self, q, b):
        """Rows of the `information_schema` view a SELECT names (a `table_name = '…'` filter applied);
        any other statement is refused, so a plan that tried to change something would fail."""
        statement = b["statement"]
        view = re.search(r"information_schema\.(\w+)", statement)
        if not statement.lstrip().upper().startswith("SELECT") or not view:
            raise ApiError(
                400, "INVALID_PARAMETER_VALUE", f"the stub only reads information_schema: {statement}"
            )
        rows = self.information_schema.get(view.group(1), [])
        for column in ("table_name", "table_schema"):
            wanted = re.search(rf"{column} = '([^']*)'", statement)
            if wanted:
                rows = [r for r in rows if r.get(column) == wanted.group(1)]
        columns = list(rows[0]) if rows else []
        values = [[None if r[c] is None else str(r[c]) for c in columns] for r in rows]
        chunks = [values[i : i + self.chunk_rows] for i in range(0, len(values), self.chunk_rows)] or [[]]
        statement_id = f"stmt-{next(self._ids)}"
        self.statements[statement_id] = chunks
        schema = {
            "column_count": len(columns),
            "columns": [
                {"name": c, "position": i, "type_name": "STRING", "type_text": "STRING"}
                for i, c in enumerate(columns)
            ],
        }
        manifest = {"format": "JSON_ARRAY", "schema": schema, "total_chunk_count": len(chunks)}
        manifest["total_row_count"] = len(values)
        return {
            "statement_id": statement_id,
            "status": {"state": "SUCCEEDED"},
            "manifest": manifest,
            "result": self._chunk(statement_id, 0),
        }

    def _statement_chunk(self, q, b, statement_id: str, index: str):
        return self._chunk(statement_id, int(index))

    def _chunk(self, statement_id: str, index: int) -> dict:
        chunks = self._get(self.statements, statement_id)
        chunk = {"chunk_index": index, "row_count": len(chunks[index]), "data_array": chunks[index]}
        if index + 1 < len(chunks):
            chunk["next_chunk_index"] = index + 1
        return chunk

    def _handler_class(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length

            def log_message(self, *args):  # keep test output quiet
                pass

            def _handle(self):
                url = urlsplit(self.path)
                path, query = unquote(url.path), dict(parse_qsl(url.query, keep_blank_values=True))
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = recorded = _json_or_none(raw)
                if path.startswith("/api/2.0/workspace-files/import-file/"):  # file bytes, not JSON
                    body, recorded = raw, {"path": "/" + path.split("/import-file/", 1)[1], "bytes": len(raw)}
                record = {"method": self.command, "path": path, "query": query, "body": recorded}
                stub.requests.append(record)
                body = {} if body is None else body
                status, data, handled = stub._dispatch(self.command, path, query, body)
                record.update(status=status, unhandled=not handled)
                self.send_response(status)
                is_json = data[:1] in (b"{", b"[")
                self.send_header("Content-Type", "application/json" if is_json else OCTETS)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        return Handler


def _json_or_none(raw: bytes):
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _error(error_code: str, message: str) -> bytes:
    return json.dumps({"error_code": error_code, "message": message}).encode()


def _acl_entry(req: dict) -> dict:
    """An access-control request as the permissions API echoes it back (direct, not inherited)."""
    entry = {k: req[k] for k in ("user_name", "group_name", "service_principal_name") if req.get(k)}
    entry["display_name"] = next(iter(entry.values()), "")
    entry["all_permissions"] = [{"permission_level": req["permission_level"], "inherited": False}]
    return entry


if __name__ == "__main__":
    import sys

    with WorkspaceStub() as ws:
        print(ws.host, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            seen = sorted({(r["method"], r["path"]) for r in ws.unhandled})
            print(f"{len(ws.requests)} requests; unhandled: {seen}", file=sys.stderr)
