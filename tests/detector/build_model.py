"""Train the tiny vessel detector the tests and the demo use, from generated scenes, on the CPU.

    python tests/detector/build_model.py            # writes tests/detector/tiny-vessels.pt

No weights are downloaded: the network starts from ultralytics' YOLOv8 architecture file, scaled
down (depth 0.33, width 0.125) so the weights stay near 1 MB, and learns the four COCO class names
the pipeline asks for (vase, cup, bowl, cake) from pictures drawn by scenes.py. About nine minutes
on two CPU cores (20 epochs of 700 scenes, ~22 s an epoch; 25 epochs find the object in 60 of the
60 held-out scenes instead of 57, but take ~11 minutes). The seed makes the data identical between runs; training itself is not
bit-reproducible, so a rebuilt model differs slightly but passes the same accuracy test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scenes import KINDS, make_scene, museum_photo  # noqa: E402

OUTPUT = HERE / "tiny-vessels.pt"
IMGSZ = 256


def write_split(root: Path, split: str, count: int, rng: np.random.Generator) -> None:
    images, labels = root / "images" / split, root / "labels" / split
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    for i in range(count):
        if i % 3 == 2:  # a third look like collection photos: one object, not square
            kind = KINDS[rng.integers(len(KINDS))]
            size = (int(rng.integers(200, 400)), int(rng.integers(200, 400)))
            image, box = museum_photo(kind, size, bool(rng.random() < 0.3), rng)
            objects = [(kind, box)]
        else:
            image, objects = make_scene(IMGSZ, rng)
        image.save(images / f"{i:05d}.jpg", quality=int(rng.integers(70, 96)))
        w, h = image.size
        lines = [
            f"{KINDS.index(kind)} {(x0 + x1) / 2 / w:.6f} {(y0 + y1) / 2 / h:.6f} {(x1 - x0) / w:.6f} {(y1 - y0) / h:.6f}"
            for kind, (x0, y0, x1, y1) in objects
        ]
        (labels / f"{i:05d}.txt").write_text("\n".join(lines) + "\n")


def model_yaml(folder: Path) -> Path:
    import ultralytics

    spec = yaml.safe_load(
        (Path(ultralytics.__file__).parent / "cfg/models/v8/yolov8.yaml").read_text()
    )
    spec.pop("scales")
    spec.update(nc=len(KINDS), depth_multiple=0.33, width_multiple=0.125)
    path = folder / "tiny-vessels.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=700)
    parser.add_argument("--val", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tiny-vessels-"))
    os.environ.setdefault("YOLO_CONFIG_DIR", str(work / "config"))  # keep ~ clean
    from ultralytics import YOLO

    rng = np.random.default_rng(2026)
    write_split(work / "data", "train", args.train, rng)
    write_split(work / "data", "val", args.val, rng)
    data = work / "data.yaml"
    data.write_text(
        yaml.safe_dump(
            {
                "path": str(work / "data"),
                "train": "images/train",
                "val": "images/val",
                "names": dict(enumerate(KINDS)),
            }
        )
    )

    model = YOLO(str(model_yaml(work)))
    model.train(
        data=str(data),
        epochs=args.epochs,
        imgsz=IMGSZ,
        batch=32,
        device="cpu",
        workers=2,  # decode and augment beside the training step
        cache="ram",  # the generated scenes are small: decode each once
        val=False,  # one validation at the end is enough; per-epoch runs cost ~10%
        plots=False,
        amp=False,
        project=str(work / "runs"),
        name="train",
        seed=0,
        deterministic=True,
        verbose=False,
        mosaic=0.5,
        close_mosaic=5,
        fliplr=0.5,
    )
    best = work / "runs" / "train" / "weights" / "best.pt"
    shutil.copyfile(best, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
