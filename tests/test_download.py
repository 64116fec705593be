"""The download stage against a local server: every failure reason, retries, limits, resume."""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from servers import garbage
from servers.base import ReplayServer, Response
from testkit import curate_subprocess

from pipeline.config import DownloadSettings
from pipeline.stages.download import REASONS, Downloader

GOOD = garbage.jpeg((400, 300))
FAST = "pipeline:\n  download: {connect_timeout: 2, read_timeout: 1, deadline: 3, retries: 2, retry_after_cap: 0.2, max_bytes: 2000000, max_pixels: 50000000}\n"


class FaultyMuseum:
    """One path per behaviour; stateful paths (429 once, flapping 500) count their calls."""

    def __init__(self):
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0

    def __call__(self, request):
        with self.lock:
            n = self.calls[request.path] = self.calls.get(request.path, 0) + 1
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            return self.route(request.path, n)
        finally:
            with self.lock:
                self.active -= 1

    def route(self, path: str, n: int) -> Response:
        jpeg = {"Content-Type": "image/jpeg"}
        if path.startswith("/ok/"):
            time.sleep(0.02)  # long enough for per-host concurrency to show
            return Response(200, GOOD, jpeg)
        if path.startswith("/same-bytes/"):
            return Response(200, GOOD, jpeg)
        table = {
            "/missing.jpg": lambda: Response(404, b"nope"),
            "/forbidden.jpg": lambda: Response(403, b"no"),
            "/gone.jpg": lambda: Response(500, b"down"),
            "/limited.jpg": lambda: Response(429, b"slow down", {"Retry-After": "3600"}),
            "/html.jpg": lambda: Response(200, garbage.html_page(), jpeg),
            "/empty.jpg": lambda: Response(200, b"", jpeg),
            "/truncated.jpg": lambda: Response(200, garbage.truncated_jpeg(), jpeg),
            "/svg.jpg": lambda: Response(200, garbage.svg(), {"Content-Type": "image/svg+xml"}),
            "/bomb.png": lambda: Response(200, garbage.png_bomb(), {"Content-Type": "image/png"}),
            "/gzip-bomb.jpg": lambda: Response(
                200, garbage.gzip_bomb(20), {**jpeg, "Content-Encoding": "gzip"}
            ),
            "/huge.png": lambda: Response(
                200, b"\x89PNG" + b"\0" * 2_100_000, {"Content-Type": "image/png"}
            ),
            "/loop.jpg": lambda: Response.redirect("/loop2.jpg"),
            "/loop2.jpg": lambda: Response.redirect("/loop.jpg"),
            "/to-file.jpg": lambda: Response.redirect("file:///etc/passwd"),
            "/moved.jpg": lambda: Response.redirect("/ok/moved-target.jpg", 301),
            "/reset.jpg": lambda: Response(reset=True),
            "/drip.jpg": lambda: Response(
                200, [GOOD[i : i + 200] for i in range(0, len(GOOD), 200)], jpeg, drip=0.3
            ),
            "/stall.jpg": lambda: Response(200, GOOD, jpeg, delay=1.5),
        }
        if path == "/429-once.jpg":
            return Response(429, b"", {"Retry-After": "0"}) if n == 1 else Response(200, GOOD, jpeg)
        if path == "/flapping.jpg":
            return (
                Response(503, b"")
                if n <= 2
                else Response(200, garbage.jpeg((300, 300), "#40a0c0"), jpeg)
            )
        return table.get(path, lambda: Response(404))()


@pytest.fixture
def museum():
    app = FaultyMuseum()
    with ReplayServer(app) as server:
        server.app_state = app
        yield server


def download_all(server, paths, tmp_path, **overrides):
    settings = DownloadSettings(
        **{
            "connect_timeout": 2,
            "read_timeout": 1,
            "deadline": 3,
            "retries": 2,
            "retry_after_cap": 0.2,
            "max_bytes": 2_000_000,
            "max_pixels": 50_000_000,
            **overrides,
        }
    )
    stage = Downloader(settings, tmp_path / "raw", "vessel-curate-test")
    items = [
        {"id": i, "url": p if "://" in p else server.url + p, "local_path": None}
        for i, p in enumerate(paths)
    ]
    return {items[r.item_id]["url"].removeprefix(server.url): r for r in stage.process(items)}


def test_every_failure_reason_and_the_good_cases(museum, tmp_path):
    expected = {
        "/ok/a.jpg": ("ok", None),
        "/moved.jpg": ("ok", None),
        "/429-once.jpg": ("ok", None),
        "/flapping.jpg": ("ok", None),
        "/missing.jpg": ("failed", "http_404"),
        "/forbidden.jpg": ("failed", "http_4xx"),
        "/gone.jpg": ("failed", "http_5xx"),
        "/limited.jpg": ("failed", "http_429"),
        "/html.jpg": ("failed", "not_image"),
        "/svg.jpg": ("failed", "not_image"),
        "/empty.jpg": ("failed", "empty"),
        "/truncated.jpg": ("failed", "corrupt"),
        "/bomb.png": ("failed", "decompression_bomb"),
        "/gzip-bomb.jpg": ("failed", "too_large"),
        "/huge.png": ("failed", "too_large"),
        "/loop.jpg": ("failed", "too_many_redirects"),
        "/to-file.jpg": ("failed", "bad_scheme"),
        "ftp://example.org/x.jpg": ("failed", "bad_scheme"),
        "/reset.jpg": ("failed", "connection_error"),
        "/drip.jpg": ("failed", "timeout"),
        "/stall.jpg": ("failed", "timeout"),
    }
    results = download_all(museum, list(expected), tmp_path)
    got = {path: (r.status, r.reason) for path, r in results.items()}
    assert got == expected
    seen = {reason for _, reason in expected.values() if reason}
    assert seen <= set(REASONS)
    ok = results["/ok/a.jpg"]
    assert ok.data["width"] == 400 and ok.data["height"] == 300 and ok.data["format"] == "JPEG"
    stored = tmp_path / ok.data["path"]
    assert stored.read_bytes() == GOOD
    assert stored.name == hashlib.sha256(GOOD).hexdigest() + ".jpg"
    assert results["/flapping.jpg"].data["attempts"] == 3
    assert results["/gone.jpg"].data["attempts"] == 3  # first try + 2 retries
    assert museum.app_state.calls["/limited.jpg"] == 3  # Retry-After: 3600 was capped, not obeyed
    assert not list(tmp_path.rglob(".part-*"))


def test_keep_alive_and_per_host_limit(museum, tmp_path):
    paths = [f"/ok/{i}.jpg" for i in range(40)]
    results = download_all(museum, paths, tmp_path, concurrency=8, per_host=3)
    assert all(r.ok for r in results.values())
    assert museum.app_state.peak <= 3
    assert museum.connections <= 8  # 40 requests over a few reused connections


def test_cli_records_duplicates_status_and_retry_failed(museum, tmp_path, data_dir):
    listing = tmp_path / "urls.txt"
    listing.write_text(
        "\n".join(
            museum.url + p for p in ["/same-bytes/1.jpg", "/same-bytes/2.jpg", "/missing.jpg"]
        )
    )
    config = tmp_path / "sources.yaml"
    config.write_text(FAST)
    from click.testing import CliRunner

    from pipeline.cli import cli

    def run(*args):
        result = CliRunner().invoke(
            cli, ["--config", str(config), "--data-dir", str(data_dir), "-q", *args]
        )
        assert result.exit_code == 0, result.output
        return result.output

    run("ingest", str(listing))
    summary = json.loads(run("download", "--json"))
    assert summary["statuses"] == {"ok": 1, "duplicate": 1, "failed": 1}
    assert summary["reasons"] == {"http_404": 1}
    with sqlite3.connect(data_dir / "curate.db") as db:
        rows = db.execute(
            "SELECT id, download_status, duplicate_of, http_status FROM items ORDER BY id"
        ).fetchall()
    assert rows == [(1, "ok", None, 200), (2, "duplicate", 1, 200), (3, "failed", None, 404)]
    assert len(list((data_dir / "raw").rglob("*.jpg"))) == 1
    assert json.loads(run("download", "--json"))["total"] == 0  # nothing pending
    again = json.loads(run("download", "--retry-failed", "--reason", "http_404", "--json"))
    assert again["statuses"] == {"failed": 1}
    bad = CliRunner().invoke(
        cli,
        [
            "--config",
            str(config),
            "--data-dir",
            str(data_dir),
            "download",
            "--retry-failed",
            "--reason",
            "nope",
        ],
    )
    assert bad.exit_code == 1 and "unknown failure reason 'nope'" in bad.output


def test_folder_items_are_read_from_disk(curate, data_dir, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(GOOD)
    (folder / "b.jpg").write_bytes(garbage.truncated_jpeg())
    assert curate("ingest", str(folder)).exit_code == 0
    result = curate("download", "--json")
    assert json.loads(result.stdout)["statuses"] == {"ok": 1, "failed": 1}


def snapshot(data_dir: Path):
    with sqlite3.connect(data_dir / "curate.db") as db:
        rows = db.execute(
            "SELECT url, download_status, download_reason, sha256, path, width, height FROM items ORDER BY url"
        ).fetchall()
    files = sorted(
        (p.relative_to(data_dir).as_posix(), p.stat().st_size)
        for p in (data_dir / "raw").rglob("*")
        if p.is_file()
    )
    return rows, files


def test_sigkill_and_resume_equals_an_uninterrupted_run(tmp_path):
    images = {
        f"/img/{i}.jpg": garbage.jpeg(
            (200 + i % 50, 150), f"#{(i * 37) % 256:02x}70{(i * 11) % 256:02x}"
        )
        for i in range(300)
    }
    images.update({f"/img/dup{i}.jpg": images["/img/1.jpg"] for i in range(5)})

    def app(request):
        time.sleep(0.01)
        if request.path in images:
            return Response(200, images[request.path], {"Content-Type": "image/jpeg"})
        return Response(404)

    with ReplayServer(app) as server:
        listing = tmp_path / "urls.txt"
        listing.write_text(
            "\n".join(server.url + p for p in images) + f"\n{server.url}/missing.jpg\n"
        )
        config = tmp_path / "sources.yaml"
        config.write_text(FAST)
        runs = {}
        for name, kill in (("straight", False), ("killed", True)):
            data_dir = tmp_path / name
            args = ["--config", str(config), "--data-dir", str(data_dir), "-q"]
            assert curate_subprocess(*args, "ingest", str(listing)).wait(60) == 0
            child = curate_subprocess(*args, "download", "--concurrency", "4")
            if kill:
                db = data_dir / "curate.db"
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and child.poll() is None:
                    with sqlite3.connect(db) as conn:
                        done = conn.execute(
                            "SELECT COUNT(*) FROM items WHERE download_status != 'pending'"
                        ).fetchone()[0]
                    if done >= 60:
                        break
                    time.sleep(0.02)
                assert child.poll() is None, "finished before the kill; make the run longer"
                child.send_signal(signal.SIGKILL)
                child.wait()
                child = curate_subprocess(*args, "download", "--concurrency", "4")
            assert child.wait(120) == 0
            runs[name] = snapshot(data_dir)
            assert not list(data_dir.rglob(".part-*"))
    assert runs["killed"] == runs["straight"]
    statuses = [row[1] for row in runs["straight"][0]]
    assert (
        statuses.count("ok") == 300
        and statuses.count("duplicate") == 5
        and statuses.count("failed") == 1
    )
