"""The manifest survives a SIGKILL mid-write and refuses databases from the future."""

from __future__ import annotations

import json
import signal
import sqlite3
import time

import pytest
from testkit import curate_subprocess, write_config

from pipeline.errors import UserError
from pipeline.manifest import SCHEMA_VERSION, Manifest


def test_schema_is_versioned_and_reopens(tmp_path):
    path = tmp_path / "curate.db"
    with Manifest(path) as manifest:
        assert manifest.schema_version() == SCHEMA_VERSION
        assert manifest.add_items([{"source": "s", "url": "https://a/1"}]) == 1
    with Manifest(path) as manifest:
        assert manifest.item(1)["url"] == "https://a/1"
        assert manifest.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused_with_a_sentence(tmp_path):
    path = tmp_path / "curate.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(UserError, match="written by a newer vessel-curate"):
        Manifest(path)


def test_not_a_database_is_refused(tmp_path):
    path = tmp_path / "curate.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UserError, match="not a usable manifest"):
        Manifest(path)


def count_items(path) -> int:
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_sigkill_mid_ingest_then_rerun_completes(tmp_path):
    feed = tmp_path / "big.jsonl"
    total = 120_000
    with feed.open("w") as out:
        for i in range(total):
            out.write(
                json.dumps({"source": "s", "object_id": i, "url": f"https://m.org/{i}.jpg"}) + "\n"
            )
    data_dir = tmp_path / "data"
    db_path = data_dir / "curate.db"
    args = [
        "--config",
        str(write_config(tmp_path)),
        "--data-dir",
        str(data_dir),
        "ingest",
        str(feed),
    ]

    child = curate_subprocess(*args)
    deadline = time.monotonic() + 120
    while count_items(db_path) < 1000 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert child.poll() is None, "ingest finished before it could be killed; make the feed larger"
    child.send_signal(signal.SIGKILL)
    child.wait()
    partial = count_items(db_path)
    assert 0 < partial < total

    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    rerun = curate_subprocess(*args)
    assert rerun.wait(timeout=300) == 0
    with sqlite3.connect(db_path) as db:
        urls = [row[0] for row in db.execute("SELECT url FROM items ORDER BY id")]
    assert len(urls) == total
    assert set(urls) == {f"https://m.org/{i}.jpg" for i in range(total)}
