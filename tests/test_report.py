"""`curate report`: the numbers on the page match the manifest, and Chromium renders it."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess

import pytest
from PIL import Image

from pipeline.manifest import Manifest, now


def seed(data_dir):
    """Ten items: 2 failed downloads, 1 no_object, 7 crops of which 2 duplicates and 1 rejected."""
    with Manifest(data_dir / "curate.db") as manifest:
        manifest.add_items(
            [
                {"source": "met" if i % 2 else "artic", "url": f"https://m.org/{i}.jpg"}
                for i in range(10)
            ]
        )
    crops = data_dir / "crops" / "64"
    crops.mkdir(parents=True)
    stamp = now()
    with sqlite3.connect(data_dir / "curate.db") as db:
        db.execute(
            "UPDATE items SET download_status = 'failed', download_reason = 'http_404' WHERE id IN (1, 2)"
        )
        db.execute(
            "UPDATE items SET download_status = 'ok', detect_status = 'no_object' WHERE id = 3"
        )
        for item in range(4, 11):
            db.execute(
                "UPDATE items SET download_status = 'ok', detect_status = 'ok' WHERE id = ?",
                (item,),
            )
            db.execute(
                "INSERT INTO detections (id, item_id, class_name, confidence, x0, y0, x1, y1, model) VALUES (?, ?, ?, ?, 0, 0, 10, 10, 'm')",
                (item, item, "vase" if item < 8 else "bowl", 0.5 + item / 40),
            )
            path = f"crops/64/{item}.jpg"
            Image.new("RGB", (64, 64), (item * 20, 90, 120)).save(data_dir / path)
            db.execute(
                "INSERT INTO crops (id, item_id, detection_id, resolution, status, path, created_at) VALUES (?, ?, ?, 64, 'ok', ?, ?)",
                (item, item, item, path, stamp),
            )
        db.executemany("INSERT INTO dupes VALUES (?, 1, 4)", [(4,), (5,), (6,)])
        db.execute(
            "INSERT INTO decisions (crop_id, decision, reason, decided_at) VALUES (9, 'reject', 'fragment', ?)",
            (stamp,),
        )
        db.execute(
            "INSERT INTO decisions (crop_id, decision, reason, decided_at) VALUES (10, 'reject', 'other', ?)",
            (stamp,),
        )
        db.execute(
            "INSERT INTO decisions (crop_id, decision, reason, decided_at) VALUES (10, 'pending', NULL, ?)",
            (stamp,),
        )


def test_report_numbers_match_the_manifest(curate, data_dir):
    seed(data_dir)
    result = curate("report", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["funnel"] == {
        "URLs": 10,
        "downloaded": 8,
        "with object": 7,
        "cropped": 7,
        "unique": 5,
        "kept": 4,
    }
    assert data["classes"] == {"vase": 2, "bowl": 2}
    assert data["rejected_counts"] == {"fragment": 1}
    assert [m["kept"] for m in data["duplicate_clusters"][0]] == [True, False, False]
    page = (data_dir / "report.html").read_text()
    assert "crops/64/9.jpg" in page  # the rejected crop is shown under its reason
    assert page.count("<svg") >= 3  # funnel, classes, confidence histogram
    assert re.search(r"http_404.*?met.*?1", page, re.S)
    for src in re.findall(r"src='([^']+)'", page):
        assert (data_dir / src).is_file(), src  # every link is relative and resolves


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="needs Debian's chromium (make test installs it)"
)
def test_report_renders_in_headless_chromium(curate, data_dir, tmp_path):
    from testkit import ROOT, chromium_args

    seed(data_dir)
    assert curate("report").exit_code == 0
    shot = ROOT / "tests" / "artifacts" / "report.png"
    shot.parent.mkdir(exist_ok=True)
    shot.unlink(missing_ok=True)
    subprocess.run(
        [
            shutil.which("chromium"),
            *chromium_args(tmp_path / "profile"),
            f"--screenshot={shot}",
            "--window-size=1100,1600",
            (data_dir / "report.html").as_uri(),
        ],
        check=True,
        timeout=60,
        capture_output=True,
    )
    image = Image.open(shot).convert("L")
    assert image.size == (1100, 1600)
    low, high = image.getextrema()
    assert high - low > 100  # something was drawn, not a blank page
