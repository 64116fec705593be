"""`--engine ray`: the demo museum through a local Ray (2 CPUs) ends exactly like the local engine.

One scrape of the demo museum is copied into two data dirs; `curate run` goes through the local
engine in one and `curate run --engine ray` in the other (download in Ray actors, detect in a
model-holding actor, crop as Ray tasks). The exported files and every manifest row (timestamps
and run timings aside) must be equal, ids included.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from servers.base import ReplayServer
from servers.met import BASE, MetApp
from servers.museum import absolute, build_museum
from testkit import ROOT, curate_subprocess, scrape

CONFIG = ROOT / "tests" / "fixtures" / "demo.yaml"
# Columns that record when something happened, not what, and how many tries the network took
# (a connection reset under load means one more attempt): they differ between any two runs.
CLOCK_COLUMNS = {"added_at", "downloaded_at", "detected_at", "created_at", "decided_at", "attempts"}


def run(data_dir: Path, *extra: str) -> dict:
    child = curate_subprocess(
        "--config", str(CONFIG), "--data-dir", str(data_dir), "-q", "run", "--json", *extra,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    out, err = child.communicate(timeout=600)
    assert child.returncode == 0, err[-3000:]
    return json.loads(out[out.index("{") :])


def manifest_content(data_dir: Path) -> dict[str, list[tuple]]:
    db = sqlite3.connect(data_dir / "curate.db")
    content = {}
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        if table in ("runs", "meta") or table.startswith("sqlite_"):
            continue
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
        keep = [c for c in columns if c not in CLOCK_COLUMNS]
        content[table] = db.execute(f"SELECT {', '.join(keep)} FROM {table} ORDER BY 1").fetchall()
    db.close()
    return content


def exported(data_dir: Path) -> dict[str, str]:
    clean = data_dir / "clean"
    return {
        p.relative_to(clean).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(clean.rglob("*"))
        if p.is_file()
    }


def test_ray_engine_matches_local_engine(tmp_path):
    records, images = build_museum()
    app = MetApp([], images)
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    with ReplayServer(app) as museum:
        app.records = {r["objectID"]: r for r in absolute(records, museum.url)}
        code, _ = scrape(CONFIG, local, "--source", "museum", "--api-base", museum.url + BASE)
        assert code == 0
        shutil.copytree(local, on_ray)
        local_run = run(local)
        ray_run = run(on_ray, "--engine", "ray")

    statuses = {s["stage"]: s["statuses"] for s in local_run["stages"]}
    assert statuses["download"]["ok"] > 100 and statuses["crop"]["ok"] > 100  # real work was done
    assert [s["statuses"] for s in ray_run["stages"]] == [
        s["statuses"] for s in local_run["stages"]
    ]
    assert ray_run["duplicates"] == local_run["duplicates"]

    files = exported(local)
    assert len(files) > 100 and "metadata.jsonl" in files
    assert exported(on_ray) == files

    local_rows, ray_rows = manifest_content(local), manifest_content(on_ray)
    assert set(local_rows) >= {"items", "detections", "crops"}
    for table, rows in local_rows.items():
        assert ray_rows[table] == rows, f"table {table} differs"


def test_missing_ray_cluster_is_one_sentence(tmp_path):
    child = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "--config", str(CONFIG), "--data-dir",
         str(tmp_path), "download", "--engine", "ray", "--address", "127.0.0.1:1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert child.returncode == 1
    assert "Traceback" not in child.stderr
    assert child.stderr.strip().startswith("Error: could not connect to the Ray cluster at")
