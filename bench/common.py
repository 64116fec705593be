"""Shared by the benchmarks: generated photos, timing, and the results file."""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"


def make_photos(
    folder: Path, count: int, size=(1600, 1200), quality: int = 90, seed: int = 0
) -> list[Path]:
    """`count` museum-style JPEGs (one vessel each) of about `size` pixels."""
    from detector.scenes import KINDS, museum_photo

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        rng = np.random.default_rng([seed, i])
        image, _ = museum_photo(KINDS[i % 4], size, i % 4 == 0, rng)
        path = folder / f"{i:05d}.jpg"
        image.save(path, quality=quality)
        paths.append(path)
    return paths


def timed(function, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return time.perf_counter() - started, value


def write(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, shared and noisy",
        **data,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path
