"""Dedupe stage: a dHash per crop, then clusters of near-duplicates with one representative each.

Hashing is per item (resumable, through the runner); clustering is one global step over all
hashes with the exact index in pipeline.hashindex. The representative of a cluster is the crop
from the largest original, then the highest detection confidence, then the earliest crop.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import imagehash
import numpy as np
from PIL import Image

from pipeline import hashindex
from pipeline.stages import Result


def dhash(path: Path, hash_size: int = 8) -> int:
    """imagehash's dHash as an unsigned integer (hash_size² ≤ 64 bits)."""
    with Image.open(path) as image:
        bits = imagehash.dhash(image, hash_size=hash_size).hash.flatten()
    return int("".join("1" if bit else "0" for bit in bits), 2)


class Hasher:
    """Items: crops {id, path}; result data: {"dhash": signed 64-bit int}."""

    def __init__(self, data_dir: Path, hash_size: int = 8):
        self.data_dir = data_dir
        self.hash_size = hash_size

    def process(self, items: Iterable[dict[str, Any]]) -> Iterator[Result]:
        for item in items:
            try:
                value = dhash(self.data_dir / item["path"], self.hash_size)
            except (OSError, ValueError):
                yield Result(item["id"], "failed", "unreadable")
                continue
            yield Result(item["id"], "ok", data={"dhash": hashindex.to_signed(value)})


def cluster(crops: list[dict[str, Any]], threshold: int) -> list[tuple[int, int, int]]:
    """(crop_id, cluster_id, representative_id) for every crop in a cluster of two or more.

    `crops` carry id, dhash (signed), pixels (of the original) and confidence.
    """
    if len(crops) < 2:
        return []
    hashes = hashindex.to_unsigned([c["dhash"] for c in crops])
    pairs = hashindex.pairs_within(hashes, threshold)
    if not len(pairs):
        return []
    labels = hashindex.clusters(len(crops), pairs)
    members: dict[int, list[dict[str, Any]]] = {}
    for crop, label in zip(crops, labels, strict=True):
        members.setdefault(int(label), []).append(crop)
    rows = []
    for group in members.values():
        if len(group) < 2:
            continue
        best = min(group, key=lambda c: (-(c["pixels"] or 0), -(c["confidence"] or 0), c["id"]))
        cluster_id = min(c["id"] for c in group)
        rows += [(c["id"], cluster_id, best["id"]) for c in group]
    return sorted(rows)


def folder_clusters(folder: Path, threshold: int, hash_size: int = 8) -> list[list[str]]:
    """Clusters (size ≥ 2) of near-duplicate images in any folder: paths relative to it."""
    from pipeline.stages.ingest import IMAGE_SUFFIXES

    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    names, hashes = [], []
    for file in files:
        try:
            hashes.append(dhash(file, hash_size))
        except (OSError, ValueError):
            continue  # not an image after all: nothing to compare
        names.append(file.relative_to(folder).as_posix())
    pairs = hashindex.pairs_within(np.array(hashes, dtype=np.uint64), threshold)
    if not len(pairs):
        return []
    labels = hashindex.clusters(len(names), pairs)
    groups: dict[int, list[str]] = {}
    for name, label in zip(names, labels, strict=True):
        groups.setdefault(int(label), []).append(name)
    return sorted(group for group in groups.values() if len(group) > 1)
