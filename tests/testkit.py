"""Helpers shared by tests (importable as `testkit`; pytest puts tests/ on sys.path)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from PIL import Image

from pipeline.manifest import Manifest, now

ROOT = Path(__file__).resolve().parent.parent


def write_config(folder: Path, text: str = "sources: []\n") -> Path:
    path = folder / "sources.yaml"
    if not path.exists():
        path.write_text(text, encoding="utf-8")
    return path


def curate_subprocess(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    """Start the real console entry point in a child process (for kill tests)."""
    return subprocess.Popen(
        [sys.executable, "-c", "from pipeline.cli import main; main()", *args],
        env={**os.environ, **(env or {})},
        **kwargs,
    )


def scrape(
    config: Path, data_dir: Path, *extra: str, timeout: float = 120
) -> tuple[int, list[dict]]:
    """Run `curate scrape --json` in a child process: (exit code, per-source reports)."""
    child = curate_subprocess(
        "--config",
        str(config),
        "--data-dir",
        str(data_dir),
        "-q",
        "scrape",
        "--json",
        *extra,
        stdout=-1,
        text=True,
    )
    out, _ = child.communicate(timeout=timeout)
    return child.returncode, (json.loads(out[out.index("[") :]) if "[" in out else [])


def chromium_args(profile: Path) -> list[str]:
    """Flags for Debian's headless Chromium on a closed network, as root, with a fresh profile."""
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]


def seed_review(data_dir, count: int) -> None:
    """`count` crops of generated colour swatches; every 50th pair forms a duplicate cluster."""
    with Manifest(data_dir / "curate.db") as manifest:
        manifest.add_items(
            [
                {
                    "source": ("met", "artic")[i % 2],
                    "url": f"https://m.org/{i}.jpg",
                    "title": f"Vase {i}",
                    "page_url": f"https://m.org/p/{i}",
                    "license": "CC0",
                }
                for i in range(count)
            ]
        )
    crops, raw = data_dir / "crops" / "64", data_dir / "raw"
    crops.mkdir(parents=True)
    raw.mkdir()
    palette = [
        Image.new("RGB", (48, 48), ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256))
        for i in range(64)
    ]
    Image.new("RGB", (200, 150), "white").save(raw / "original.jpg")
    stamp = now()
    with sqlite3.connect(data_dir / "curate.db") as db:
        db.execute(
            "UPDATE items SET download_status='ok', detect_status='ok', path='raw/original.jpg', width=200, height=150"
        )
        db.executemany(
            "INSERT INTO detections VALUES (?, ?, ?, ?, 20, 30, 120, 140, 'tiny')",
            [
                (i, i, ("vase", "bowl", "cup")[i % 3], round((i % 97) / 97, 3))
                for i in range(1, count + 1)
            ],
        )
        db.executemany(
            "INSERT INTO crops (id, item_id, detection_id, resolution, status, path, created_at) VALUES (?, ?, ?, 64, 'ok', ?, ?)",
            [(i, i, i, f"crops/64/{i}.jpg", stamp) for i in range(1, count + 1)],
        )
        db.executemany(
            "INSERT INTO dupes VALUES (?, ?, ?)",
            [(c, i, i) for i in range(1, count, 50) for c in (i, i + 1)],
        )
    for i in range(1, count + 1):
        palette[i % 64].save(crops / f"{i}.jpg")
