"""The review server: a small Flask app over the manifest, for one person on this machine.

Security, because a local port is reachable by every web page the reviewer has open:
- it binds 127.0.0.1 unless told otherwise;
- a random token in the printed URL becomes an HttpOnly, SameSite=Strict cookie, and every
  request needs it (403 without); state changes are POST-only and also need the token in a header;
- the Host header must name this server (defeats DNS rebinding); 400 otherwise;
- images are served by crop id only — a client never names a path.
Each decision is committed to the manifest before the answer is sent.
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

from flask import Flask, abort, jsonify, redirect, request, send_file
from werkzeug.serving import WSGIRequestHandler, make_server

from pipeline.manifest import Manifest

STATIC = Path(__file__).parent / "static"
REASONS = [
    "not the object",
    "fragment",
    "several objects",
    "bad crop",
    "text or watermark",
    "drawing or print",
    "low quality",
    "other",
]
COOKIE = "curate_token"


def create_app(db_path: Path, data_dir: Path, token: str, allowed_hosts: set[str]) -> Flask:
    app = Flask(__name__, static_folder=None)
    local = threading.local()

    def manifest() -> Manifest:
        # sqlite3 connections belong to one thread; the server answers on several.
        if getattr(local, "manifest", None) is None:
            local.manifest = Manifest(db_path)
        return local.manifest

    @app.before_request
    def guard():
        if request.host not in allowed_hosts:
            abort(400, "unexpected Host header")
        if request.path == "/" and request.args.get("token") == token:
            return None  # the login link: sets the cookie below
        if not secrets.compare_digest(request.cookies.get(COOKIE, ""), token):
            abort(403, "missing or wrong token: open the URL `curate review` printed")
        if request.method == "POST" and not secrets.compare_digest(
            request.headers.get("X-Curate-Token", ""), token
        ):
            abort(403, "missing token header")
        return None

    @app.after_request
    def headers(response):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.get("/")
    def index():
        if request.args.get("token") == token:
            response = redirect("/", code=303)  # drop the token from the address bar
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
            return response
        page = (STATIC / "index.html").read_text(encoding="utf-8").replace("{{TOKEN}}", token)
        return page, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}

    @app.get("/static/<name>")
    def static_file(name: str):
        if name not in ("app.js", "style.css"):
            abort(404)
        return send_file(STATIC / name, max_age=0)

    @app.get("/api/crops")
    def crops():
        # Rows as arrays under one list of column names: a third of the bytes of 50,000 objects.
        # The page asks for the first screen (?limit=) first, then for everything.
        limit = request.args.get("limit", default=-1, type=int)
        rows = manifest().review_rows(limit)
        columns = list(rows[0]) if rows else []
        return jsonify(
            {"columns": columns, "rows": [list(row.values()) for row in rows], "reasons": REASONS}
        )

    @app.get("/api/crops/<int:crop_id>")
    def crop(crop_id: int):
        detail = manifest().crop_detail(crop_id)
        if detail is None:
            abort(404)
        return jsonify(detail)

    @app.get("/thumb/<int:crop_id>")
    def thumb(crop_id: int):
        return image(crop_id, original=False)

    @app.get("/original/<int:crop_id>")
    def original(crop_id: int):
        return image(crop_id, original=True)

    def image(crop_id: int, original: bool):
        relative = manifest().file_of(crop_id, original)
        if relative is None:
            abort(404)
        path = (data_dir / relative).resolve()
        if not path.is_relative_to(data_dir.resolve()) or not path.is_file():
            abort(404)
        # Crops never change once written (a re-crop writes a new row), so browsers may cache.
        return send_file(path, max_age=86400, conditional=True, etag=True)

    @app.post("/api/decide")
    def decide():
        body = request.get_json(silent=True) or {}
        items = body.get("items")
        if not isinstance(items, list) or not items or len(items) > 50_000:
            abort(400, "items: a list of {id, decision, reason}")
        decisions = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), int):
                abort(400, "each item needs an integer id")
            if item.get("decision") not in ("keep", "reject", "pending"):
                abort(400, "decision must be keep, reject or pending")
            reason = item.get("reason")
            if reason is not None and reason not in REASONS:
                abort(400, "unknown reason")
            decisions.append(
                (item["id"], item["decision"], reason if item["decision"] == "reject" else None)
            )
        stored = manifest().decide(decisions)
        return jsonify({"stored": stored})

    @app.post("/api/representative")
    def representative():
        body = request.get_json(silent=True) or {}
        crop_id = body.get("id")
        if not isinstance(crop_id, int):
            abort(400, "id must be an integer")
        if not manifest().set_representative(crop_id):
            abort(404)
        return jsonify({"representative": crop_id})

    return app


class QuietHandler(WSGIRequestHandler):
    """No access log line per thumbnail; errors still reach the console."""

    def log_request(self, *args, **kwargs) -> None:
        pass


class ReviewServer:
    """The app on a werkzeug server in a background thread (for `curate review` and tests)."""

    def __init__(self, db_path: Path, data_dir: Path, host: str = "127.0.0.1", port: int = 0):
        self.token = secrets.token_urlsafe(24)
        self.host = host
        self.allowed_hosts: set[str] = set()
        self.app = create_app(db_path, data_dir, self.token, self.allowed_hosts)
        self._server = make_server(
            host, port, self.app, threaded=True, request_handler=QuietHandler
        )
        self.port = self._server.server_port
        # The Host header the browser sends must name this server (checked on every request).
        self.allowed_hosts |= {
            f"{host}:{self.port}",
            f"127.0.0.1:{self.port}",
            f"localhost:{self.port}",
        }
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def login_url(self) -> str:
        return f"{self.url}?token={self.token}"

    def start(self) -> ReviewServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ReviewServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
