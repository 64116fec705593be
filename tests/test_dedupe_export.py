"""Exact near-duplicate search, cluster rules, `curate dupes`, export idempotence and the zip."""

from __future__ import annotations

import json
import sqlite3
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline import hashindex
from pipeline.manifest import Manifest, now
from pipeline.stages.dedupe import cluster, dhash


@pytest.mark.parametrize(
    ("n", "threshold", "seed"),
    [(3000, 10, 1), (2000, 4, 2), (1500, 0, 3), (800, 16, 4), (300, 32, 5)],
)
def test_index_finds_exactly_the_brute_force_pairs(n, threshold, seed):
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64) * np.uint64(
        2
    ) + rng.integers(0, 2, n).astype(np.uint64)
    # plant near pairs at every distance up to threshold + 2, and a few exact copies
    for k in range(0, n - 1, 7):
        flips = rng.choice(64, size=rng.integers(0, threshold + 3), replace=False)
        mask = np.uint64(sum(1 << int(b) for b in flips))
        hashes[k + 1] = hashes[k] ^ mask
    expected = hashindex.brute_force_pairs(hashes, threshold)
    got = hashindex.pairs_within(hashes, threshold)
    assert len(expected) > n // 20
    assert np.array_equal(got, expected)


def test_signed_storage_round_trips():
    values = np.array([0, 1, 2**63, 2**64 - 1], dtype=np.uint64)
    signed = [hashindex.to_signed(int(v)) for v in values]
    assert all(-(2**63) <= s < 2**63 for s in signed)
    assert np.array_equal(hashindex.to_unsigned(signed), values)


def test_cluster_representative_rules():
    base = 0b1011 << 40
    crops = [
        {"id": 1, "dhash": base, "pixels": 100, "confidence": 0.9},
        {"id": 2, "dhash": base ^ 0b1, "pixels": 400, "confidence": 0.5},  # largest original wins
        {
            "id": 3,
            "dhash": base ^ 0b11,
            "pixels": 400,
            "confidence": 0.7,
        },  # tie on size: confidence
        {"id": 4, "dhash": ~base & (2**63 - 1), "pixels": 10, "confidence": 0.1},  # far away
        {"id": 5, "dhash": 7 << 20, "pixels": 50, "confidence": 0.5},
        {"id": 6, "dhash": 7 << 20, "pixels": 50, "confidence": 0.5},  # full tie: earliest
    ]
    rows = cluster(crops, threshold=4)
    assert rows == [(1, 1, 3), (2, 1, 3), (3, 1, 3), (5, 5, 5), (6, 5, 5)]


def picture(path, seed, size=(200, 160), shift=0):
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.integers(0, size[0] - 40), rng.integers(0, size[1] - 40)
        draw.rectangle(
            (x + shift, y, x + shift + 40, y + 30),
            fill=tuple(int(v) for v in rng.integers(0, 255, 3)),
        )
    image.save(path)
    return image


def test_dupes_on_a_plain_folder(tmp_path, curate):
    folder = tmp_path / "shots"
    (folder / "sub").mkdir(parents=True)
    original = picture(folder / "a.jpg", 1)
    original.resize((100, 80)).save(folder / "sub" / "a-small.png")
    original.save(folder / "a-low.jpg", quality=20)
    picture(folder / "b.jpg", 2)
    picture(folder / "c.jpg", 3)
    (folder / "notes.jpg").write_text("not an image")
    result = curate("dupes", str(folder), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [["a-low.jpg", "a.jpg", "sub/a-small.png"]]


def seed_crops(data_dir, count=8):
    """Items with one crop each; crops 2 and 3 are near-duplicates of crop 1."""
    with Manifest(data_dir / "curate.db") as manifest:
        manifest.add_items(
            [
                {
                    "source": "met",
                    "object_id": f"obj/{i // 2}",
                    "url": f"https://m.org/{i}.jpg",
                    "title": f"T{i}",
                    "license": "CC0",
                }
                for i in range(count)
            ]
        )
    (data_dir / "crops" / "64").mkdir(parents=True)
    stamp = now()
    with sqlite3.connect(data_dir / "curate.db") as db:
        for i in range(1, count + 1):
            db.execute(
                "UPDATE items SET download_status='ok', detect_status='ok', width=?, height=100, sha256=? WHERE id=?",
                (100 + i, f"{i:064x}", i),
            )
            db.execute(
                "INSERT INTO detections VALUES (?, ?, ?, ?, 1, 2, 30, 40, 'tiny')",
                (i, i, "vase" if i % 3 else "bowl", 0.5 + i / 100),
            )
            seed = 1 if i in (1, 2, 3) else 100 + i
            image = picture(data_dir / f"crops/64/{i}.jpg", seed, (64, 64))
            if i == 3:
                image.save(data_dir / "crops/64/3.jpg", quality=30)
            db.execute(
                "INSERT INTO crops (id, item_id, detection_id, resolution, status, path, created_at) VALUES (?, ?, ?, 64, 'ok', ?, ?)",
                (i, i, i, f"crops/64/{i}.jpg", stamp),
            )


def test_dedupe_then_export_is_idempotent_and_honours_rejections(tmp_path, curate, data_dir):
    seed_crops(data_dir)
    result = curate("dedupe", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (
        summary["statuses"] == {"ok": 8} and summary["duplicates"] == 2 and summary["clusters"] == 1
    )
    with sqlite3.connect(data_dir / "curate.db") as db:
        assert db.execute("SELECT crop_id, representative_id FROM dupes ORDER BY 1").fetchall() == [
            (1, 3),
            (2, 3),
            (3, 3),
        ]
        assert db.execute("SELECT COUNT(*) FROM crops WHERE dhash IS NULL").fetchone()[0] == 0

    assert curate("export").exit_code == 0
    clean = data_dir / "clean"
    files = sorted(p.relative_to(clean).as_posix() for p in clean.rglob("*.jpg"))
    # crops 1 and 2 are duplicates of 3 (largest original); n counts all crops of an object
    assert files == [
        "bowl/met_obj-1_1.jpg",
        "bowl/met_obj-2_2.jpg",
        "vase/met_obj-1_2.jpg",
        "vase/met_obj-2_1.jpg",
        "vase/met_obj-3_1.jpg",
        "vase/met_obj-3_2.jpg",
    ]
    lines = [json.loads(line) for line in (clean / "metadata.jsonl").read_text().splitlines()]
    assert {line["file"] for line in lines} == set(files)
    first = next(line for line in lines if line["object_id"] == "obj/1" and line["class"] == "bowl")
    assert (
        first["url"] == "https://m.org/2.jpg"
        and first["license"] == "CC0"
        and first["sha256"] == f"{3:064x}"
    )
    assert set(first) >= {
        "file",
        "class",
        "source",
        "object_id",
        "url",
        "page_url",
        "license",
        "title",
        "sha256",
        "box",
        "confidence",
    }

    (clean / "notes.txt").write_text("mine")  # a file the user put there is never removed
    stamps = {p: p.stat().st_mtime_ns for p in clean.rglob("*.jpg")}
    with sqlite3.connect(data_dir / "curate.db") as db:
        db.execute(
            "INSERT INTO decisions (crop_id, decision, reason, decided_at) VALUES (5, 'reject', 'fragment', 'now')"
        )
    rejected = next(line["file"] for line in lines if line["sha256"] == f"{5:064x}")
    assert curate("export").exit_code == 0
    after = {p: p.stat().st_mtime_ns for p in clean.rglob("*.jpg")}
    assert set(stamps) - set(after) == {clean / rejected}  # exactly the rejected file went
    assert all(after[p] == stamps[p] for p in after)  # nothing else was rewritten
    assert (clean / "notes.txt").exists() and (data_dir / "crops/64/5.jpg").exists()

    small = curate("export", "--min-per-class", "3", "--json")
    assert json.loads(small.stdout)["dropped_classes"] == {"bowl": 2}
    assert not (clean / "bowl").exists()


def test_stylegan_zip_layout(tmp_path, curate, data_dir):
    seed_crops(data_dir)
    assert curate("dedupe").exit_code == 0
    result = curate("export", "--format", "stylegan2-ada", "--out", str(tmp_path / "sg"))
    assert result.exit_code == 0, result.output
    assert "python train.py" in result.output and "--cond=1" in result.output
    with zipfile.ZipFile(tmp_path / "sg" / "dataset.zip") as archive:
        names = archive.namelist()
        assert names[:2] == ["00000/img00000000.png", "00000/img00000001.png"]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
        labels = json.loads(archive.read("dataset.json"))["labels"]
        assert len(labels) == 6 and {label for _, label in labels} == {0, 1}
        with archive.open(names[0]) as handle, Image.open(handle) as image:
            assert image.size == (64, 64) and image.mode == "RGB"


def test_dhash_matches_imagehash(tmp_path):
    import imagehash

    picture(tmp_path / "x.png", 9)
    with Image.open(tmp_path / "x.png") as image:
        expected = int(str(imagehash.dhash(image)), 16)
    assert dhash(tmp_path / "x.png") == expected


def test_colour_confirms_dhash_matches():
    """Same gradients, other glaze: a different object, unless the colour check is off."""
    blue, red = bytes([40, 60, 200] * 16), bytes([200, 60, 40] * 16)
    similar, darker = bytes([44, 60, 196] * 16), bytes([20, 30, 100] * 16)
    crops = [
        {"id": 1, "dhash": 12345, "colour": blue, "pixels": 10, "confidence": 0.9},
        {"id": 2, "dhash": 12345, "colour": red, "pixels": 10, "confidence": 0.9},
        {"id": 3, "dhash": 12344, "colour": similar, "pixels": 10, "confidence": 0.9},
        {
            "id": 4,
            "dhash": 12345,
            "colour": darker,
            "pixels": 10,
            "confidence": 0.9,
        },  # same hue, darker
    ]
    assert cluster(crops, threshold=2, tolerance=8) == [(1, 1, 1), (3, 1, 1)]
    assert cluster(crops, threshold=2, tolerance=None) == [
        (1, 1, 1),
        (2, 1, 1),
        (3, 1, 1),
        (4, 1, 1),
    ]
