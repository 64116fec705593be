"""Detectors (tiny YOLO, foreground, none), policies, config errors, and a killed run that resumes."""

from __future__ import annotations

import json
import signal
import sqlite3
import time

import numpy as np
import pytest
from detector.scenes import KINDS, background, make_scene, museum_photo
from testkit import ROOT, curate_subprocess

from pipeline.config import DetectorSettings
from pipeline.errors import ConfigError
from pipeline.imaging import Decoded
from pipeline.stages import detect

TINY_MODEL = ROOT / "tests" / "detector" / "tiny-vessels.pt"


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def as_box(d):
    return (d["x0"], d["y0"], d["x1"], d["y1"])


@pytest.fixture(scope="module")
def yolo(tmp_path_factory):
    config_dir = tmp_path_factory.mktemp("yolo")
    settings = DetectorSettings(model=str(TINY_MODEL), imgsz=256, batch=8, conf=0.25, min_size=0.02)
    return detect.Yolo(settings, config_dir, 10**8, list(KINDS), str(TINY_MODEL))


def test_tiny_model_finds_the_drawn_object_on_held_out_scenes(yolo):
    rng = np.random.default_rng(777)  # not the training seed
    images, truths = [], []
    for i in range(60):
        if i % 2:
            image, box = museum_photo(
                KINDS[i % 4],
                (int(rng.integers(240, 640)), int(rng.integers(240, 640))),
                i % 6 == 1,
                rng,
            )
            truth = (KINDS[i % 4], box)
        else:
            image, labels = make_scene(256, rng, max_objects=1)
            truth = labels[0]
        images.append(Decoded(image, 1.0, image.size))
        truths.append(truth)
    found = yolo.detect(images)
    hits = sum(
        any(iou(as_box(d), box) >= 0.5 for d in boxes)
        for boxes, (_, box) in zip(found, truths, strict=True)
    )
    right_class = sum(
        any(iou(as_box(d), box) >= 0.5 and d["class_name"] == kind for d in boxes)
        for boxes, (kind, box) in zip(found, truths, strict=True)
    )
    print(f"IoU>=0.5 on {hits}/60 held-out scenes, right class on {right_class}/60")
    assert hits >= 54  # >= 90 %


def test_scaled_decode_maps_boxes_back_to_original_pixels(yolo):
    rng = np.random.default_rng(5)
    image, box = museum_photo("vase", (1200, 900), False, rng)
    half = image.resize((600, 450))
    [boxes] = yolo.detect([Decoded(half, 0.5, image.size)])
    assert boxes and max(iou(as_box(d), box) for d in boxes) >= 0.5


def test_a_class_the_model_lacks_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"no class 'giraffe'; it knows: vase, cup, bowl, cake"):
        detect.Yolo(DetectorSettings(), tmp_path, 10**8, ["vase", "giraffe"], str(TINY_MODEL))


def test_unreadable_weights_are_one_sentence(tmp_path):
    bogus = tmp_path / "weights.pt"
    bogus.write_bytes(b"not a model")
    with pytest.raises(Exception, match="could not load detector weights") as error:
        detect.Yolo(DetectorSettings(), tmp_path, 10**8, ["vase"], str(bogus))
    assert type(error.value).__name__ == "UserError"


def test_foreground_detector_on_plain_backdrops():
    rng = np.random.default_rng(11)
    stage = detect.Foreground(DetectorSettings(kind="foreground"), None, 10**8)
    images, boxes = [], []
    for i in range(12):
        image, box = museum_photo(KINDS[i % 4], (500, 400), False, rng)
        images.append(Decoded(image, 1.0, image.size))
        boxes.append(box)
    found = stage.detect(images)
    good = sum(bool(f) and iou(as_box(f[0]), b) >= 0.7 for f, b in zip(found, boxes, strict=True))
    assert good >= 11
    empty = background((300, 300), False, rng)
    assert stage.detect([Decoded(empty, 1.0, empty.size)]) == [[]]


def test_policies_and_minimum_size():
    boxes = [
        detect.box_dict("vase", 0.9, (0, 0, 10, 10)),
        detect.box_dict("bowl", 0.5, (0, 0, 50, 40)),
        detect.box_dict("cup", 0.7, (0, 0, 20, 20)),
    ]
    assert detect.pick(boxes, "largest") == [boxes[1]]
    assert detect.pick(boxes, "best") == [boxes[0]]
    assert detect.pick(boxes, "all") == boxes
    assert detect.pick([], "largest") == []
    assert not detect.big_enough(boxes[0], (100, 100), 0.15)
    assert detect.big_enough(boxes[2], (100, 100), 0.15)


def pipeline_config(tmp_path, detector: str, extra: str = "") -> str:
    config = tmp_path / "sources.yaml"
    config.write_text(
        f"pipeline:\n  resolution: 64\n  detector: {{kind: {detector}, model: {TINY_MODEL}, imgsz: 256, batch: 4, policy: all{extra}}}\n"
    )
    return str(config)


def photo_folder(tmp_path, count: int, blanks: int = 0):
    rng = np.random.default_rng(3)
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(count):
        image, _ = museum_photo(
            KINDS[i % 4], (int(rng.integers(300, 700)), int(rng.integers(300, 700))), False, rng
        )
        image.save(folder / f"{i:04d}.jpg", quality=90)
    for i in range(blanks):
        background((400, 300), False, rng).save(folder / f"blank{i}.jpg")
    return folder


def test_cli_yolo_detect_and_crop_with_no_object(tmp_path, curate, data_dir):
    folder = photo_folder(tmp_path, 8, blanks=2)
    config = pipeline_config(tmp_path, "yolo")
    for command in (("ingest", str(folder)), ("download",)):
        assert curate(*command, config=config).exit_code == 0
    detected = json.loads(curate("detect", "--json", config=config).stdout)
    assert detected["statuses"].get("no_object") == 2 and detected["statuses"]["ok"] >= 7
    cropped = json.loads(curate("crop", "--json", config=config).stdout)
    assert cropped["statuses"] == {"ok": cropped["total"]} and cropped["total"] >= 7
    again = json.loads(curate("crop", "--json", config=config).stdout)
    assert again["total"] == 0  # nothing redone
    shown = curate("inspect", str(next((data_dir / "crops" / "64").glob("*.jpg"))), config=config)
    assert (
        shown.exit_code == 0
        and "provenance in the file" in shown.output
        and "photos" in shown.output
    )


def snapshot(data_dir):
    with sqlite3.connect(data_dir / "curate.db") as db:
        detections = db.execute(
            "SELECT i.url, d.class_name, round(d.x0), round(d.y0), round(d.x1), round(d.y1) FROM detections d JOIN items i ON i.id = d.item_id ORDER BY 1, 3"
        ).fetchall()
        crops = db.execute(
            "SELECT i.url, c.status, c.path FROM crops c JOIN items i ON i.id = c.item_id ORDER BY 1, 3"
        ).fetchall()
        statuses = db.execute("SELECT detect_status, COUNT(*) FROM items GROUP BY 1").fetchall()
    files = sorted(p.name for p in (data_dir / "crops").rglob("*") if p.is_file())
    return detections, [(u, s) for u, s, _ in crops], statuses, len(files)


def test_detect_and_crop_killed_mid_run_resume_to_the_same_result(tmp_path):
    folder = photo_folder(tmp_path, 90)
    config = pipeline_config(tmp_path, "foreground")
    results = {}
    for name in ("straight", "killed"):
        data_dir = tmp_path / name
        args = ["--config", config, "--data-dir", str(data_dir), "-q"]
        for command in (("ingest", str(folder)), ("download",)):
            assert curate_subprocess(*args, *command).wait(120) == 0
        for stage, table in (("detect", "detections"), ("crop", "crops")):
            child = curate_subprocess(*args, stage)
            if name == "killed":
                deadline = time.monotonic() + 60
                while child.poll() is None and time.monotonic() < deadline:
                    with sqlite3.connect(data_dir / "curate.db") as db:
                        if db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] >= 10:
                            break
                    time.sleep(0.01)
                if child.poll() is None:
                    child.send_signal(signal.SIGKILL)
                    child.wait()
                child = curate_subprocess(*args, stage)
            assert child.wait(300) == 0
        results[name] = snapshot(data_dir)
        assert not list(data_dir.rglob(".part-*"))
    assert results["killed"] == results["straight"]
    assert results["straight"][3] == 90
