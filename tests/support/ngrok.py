"""A stand-in ``ngrok`` agent for pyngrok's ``ngrok_path``: same CLI, log lines and local API.

pyngrok runs ``ngrok start --none --log stdout [--config F] [--authtoken T]``, reads ``key=value``
log lines until it has seen ``starting web service`` (with ``addr=``), ``client session established``
and ``tunnel session started``, probes ``GET /api/endpoints``, then ``POST``s an endpoint and reads
its ``url``. This script does exactly that on 127.0.0.1 and appends every call to a JSON-lines
record file, so tests can check what the server asked for. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

SCRIPT = r"""#!{python}
import json, sys, uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECORD = {record!r}
MODE = {mode!r}
ENDPOINTS = {{}}


def record(event, **data):
    with open(RECORD, "a") as f:
        f.write(json.dumps({{"event": event, **data}}) + "\n")


def log(lvl, msg, **fields):
    t = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")
    extra = " ".join(f"{{k}}={{json.dumps(v) if ' ' in str(v) else v}}" for k, v in fields.items())
    print(f't={{t}} lvl={{lvl}} msg="{{msg}}" {{extra}}'.rstrip(), flush=True)


class Api(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _json(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/api/endpoints":
            return self._json(200, {{"endpoints": list(ENDPOINTS.values()), "uri": "/api/endpoints"}})
        self._json(404, {{"error_code": 100, "msg": "not found"}})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{{}}")
        name = body.get("name") or str(uuid.uuid4())
        host = uuid.uuid4().hex[:12]
        endpoint = {{
            "id": "ep_" + host, "name": name, "uri": "/api/endpoints/" + name,
            "url": "https://" + host + ".ngrok-free.app", "upstream": body.get("upstream", {{}}),
        }}
        ENDPOINTS[name] = endpoint
        record("connect", body=body, url=endpoint["url"])
        self._json(201, endpoint)

    def do_DELETE(self):
        name = self.path.rsplit("/", 1)[-1]
        ENDPOINTS.pop(name, None)
        record("disconnect", name=name)
        self._json(204)


args = sys.argv[1:]
token = args[args.index("--authtoken") + 1] if "--authtoken" in args else None
record("start", args=[a for a in args if a != token], authtoken=token)
log("info", "no configuration paths supplied")
if MODE == "auth_error":
    log("eror", "session closing", obj="tunnels.session",
        err="authentication failed: The authtoken you specified is not valid.")
    sys.exit(1)
server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
log("info", "starting web service", obj="web", addr="127.0.0.1:%d" % server.server_port, allow_hosts="[]")
log("info", "client session established", obj="tunnels.session")
log("info", "tunnel session started", obj="tunnels.session")
server.serve_forever()
"""


def write_fake_ngrok(folder: Path, *, mode: str = "ok") -> tuple[Path, Path]:
    """Write the stand-in as an executable; return (its path, its JSON-lines record file)."""
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / "ngrok-calls.jsonl"
    path = folder / "ngrok"
    path.write_text(SCRIPT.format(python=sys.executable, record=str(record), mode=mode))
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path, record


def read_record(record: Path) -> list[dict]:
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
