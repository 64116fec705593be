"""The Met spider against a replay of the API: paging, licences, faults, kill-and-resume."""

from __future__ import annotations

import json
import signal
import sqlite3
import time

import pytest
from servers.base import ReplayServer, Response
from servers.met import BASE, MetApp, met_record
from testkit import curate_subprocess, scrape

CONFIG = """sources:
  - {{name: met, kind: met, queries: [vase, jar], api_base: "{base}"}}
  - {{name: harvard, kind: harvard, api_key_env: CURATE_TEST_NO_SUCH_KEY, queries: [vase]}}
scrape: {{autothrottle: false, download_delay: 0, concurrency_per_domain: 8, retry_after_cap: 0.2}}
"""


def museum_records():
    """230 vases (three search pages) and 40 jars; some overlap, some closed, some imageless."""
    records = []
    for i in range(1, 271):
        kind = "Vase" if i <= 230 else "Jar"
        title = f"{kind} no. {i}" + (
            " (jar-shaped)" if i % 50 == 0 else ""
        )  # found by both queries
        public = i % 9 != 0
        has_image = i % 13 != 0
        images = dict(
            primaryImage=f"https://images.metmuseum.org/CRDImages/as/original/{i}.jpg"
            if public and has_image
            else "",
            additionalImages=[
                f"https://images.metmuseum.org/CRDImages/as/original/{i}-{k}.jpg"
                for k in range(i % 3)
            ]
            if public and has_image
            else [],
        )
        records.append(
            met_record(
                i,
                title=title,
                objectName=kind,
                classification="Ceramics",
                isPublicDomain=public,
                **images,
            )
        )
    return records


def expected_urls(records, broken: set[int]):
    urls = set()
    for r in records:
        if r["isPublicDomain"] and r["primaryImage"] and r["objectID"] not in broken:
            urls |= {r["primaryImage"], *r["additionalImages"]}
    return urls


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_met_spider_output_equals_the_expected_set(tmp_path, data_dir):
    records = museum_records()
    broken = {77}
    app = MetApp(
        records,
        faults={
            f"{BASE}/v1.1/search?q=vase&hasImages=true&offset=100&limit=100": [
                Response(429, b"", {"Retry-After": "5"})
            ],
            f"{BASE}/v1/objects/5": [Response(500, b"oops")],
            f"{BASE}/v1/objects/77": [
                Response(200, b"{not json", {"Content-Type": "application/json"})
            ]
            * 10,
        },
    )
    with ReplayServer(app) as server:
        config = tmp_path / "sources.yaml"
        config.write_text(CONFIG.format(base=server.url + BASE))
        code, [report] = scrape(config, data_dir)
    assert code == 0
    lines = read_jsonl(data_dir / "urls" / "met.jsonl")
    urls = [line["url"] for line in lines]
    assert len(urls) == len(set(urls))  # no duplicates, although 5 objects match both queries
    assert set(urls) == expected_urls(records, broken)
    assert report["dropped"]["not open licence"] == len(
        [r for r in records if not r["isPublicDomain"]]
    )
    assert report["bad_json"] >= 1
    first = next(line for line in lines if line["object_id"] == "1")
    assert first["page_url"] == "https://www.metmuseum.org/art/collection/search/1"
    assert (
        first["title"] == "Vase no. 1"
        and first["license"] == "CC0"
        and first["classification"] == "Ceramics"
    )
    with sqlite3.connect(data_dir / "curate.db") as db:  # ingested too
        assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == len(urls)
    assert app.faults[f"{BASE}/v1/objects/5"] == []  # the 500 was retried


def test_any_license_keeps_closed_objects_and_says_so(tmp_path, data_dir):
    records = [
        met_record(1, title="vase", isPublicDomain=False, primaryImage="https://x.org/1.jpg")
    ]
    with ReplayServer(MetApp(records)) as server:
        config = tmp_path / "sources.yaml"
        config.write_text(CONFIG.format(base=server.url + BASE))
        code, _ = scrape(config, data_dir, "--source", "met", "--any-license")
        assert code == 0
    [line] = read_jsonl(data_dir / "urls" / "met.jsonl")
    assert line["license"] == "see page"


def test_a_source_without_its_key_is_skipped_with_one_line(curate, tmp_path, monkeypatch):
    monkeypatch.delenv("CURATE_TEST_NO_SUCH_KEY", raising=False)
    config = tmp_path / "keyed.yaml"
    config.write_text(CONFIG.format(base="http://127.0.0.1:9"))
    result = curate("scrape", "--source", "harvard", config=config)
    assert result.exit_code == 0
    assert "harvard: skipped, $CURATE_TEST_NO_SUCH_KEY is not set" in result.output


def test_crawl_killed_mid_way_resumes_without_duplicates_or_gaps(tmp_path, data_dir):
    records = [
        met_record(
            i,
            title=f"vase {i}",
            primaryImage=f"https://x.org/{i}.jpg",
            additionalImages=[f"https://x.org/{i}b.jpg"],
        )
        for i in range(1, 301)
    ]
    app = MetApp(records)

    def slow(request):
        if "/objects/" in request.path:
            time.sleep(0.03)
        return app(request)

    with ReplayServer(slow) as server:
        config = tmp_path / "sources.yaml"
        config.write_text(
            CONFIG.format(base=server.url + BASE).replace(
                "concurrency_per_domain: 8", "concurrency_per_domain: 2"
            )
        )
        args = [
            "--config",
            str(config),
            "--data-dir",
            str(data_dir),
            "-q",
            "scrape",
            "--source",
            "met",
            "--no-ingest",
        ]
        out = data_dir / "urls" / "met.jsonl"
        child = curate_subprocess(*args)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            not out.exists() or len(out.read_bytes().splitlines()) < 60
        ):
            time.sleep(0.02)
        children = _descendants(child.pid)
        child.send_signal(signal.SIGKILL)
        for pid in children:  # the crawl runs in a child process of `curate scrape`
            _kill(pid)
        child.wait()
        partial = len(read_jsonl(out))
        assert 0 < partial < 600
        assert curate_subprocess(*args).wait(120) == 0
    urls = [line["url"] for line in read_jsonl(out)]
    assert len(urls) == len(set(urls)) == 600


def _descendants(pid: int) -> list[int]:
    import subprocess

    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def _kill(pid: int) -> None:
    import contextlib
    import os

    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
