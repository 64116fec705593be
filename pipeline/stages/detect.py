"""Detect stage: find the wanted objects in each original and keep their boxes.

Three detectors share one interface (`process(items) -> Results`, boxes in original pixels):

- `yolo`: an ultralytics YOLO model. Originals are decoded by a background thread pool (JPEGs at
  reduced size, since the model sees `imgsz` pixels anyway) and sent to the model in batches, on
  CUDA with half precision when there is a GPU. Classes are picked by name through the model's
  own names, so any COCO model — or the project's tiny test model — works the same way.
- `foreground`: no weights; for objects photographed on a plain backdrop (the usual museum shot):
  estimate the backdrop from the border, threshold the difference, clean up, take the largest
  component's box.
- `none`: the whole image is the object.

The `none` and `foreground` detectors label their box "object".
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from pipeline.config import DetectorSettings
from pipeline.errors import ConfigError, UserError
from pipeline.imaging import Decoded, ImageError, border_colour, open_image
from pipeline.stages import Result

GENERIC_CLASS = "object"


def pick(boxes: list[dict[str, Any]], policy: str) -> list[dict[str, Any]]:
    """Which boxes become crops: the largest, the most confident, or all of them."""
    if not boxes or policy == "all":
        return boxes
    if policy == "best":
        return [max(boxes, key=lambda b: b["confidence"])]
    return [max(boxes, key=lambda b: (b["x1"] - b["x0"]) * (b["y1"] - b["y0"]))]


def big_enough(box: dict[str, Any], size: tuple[int, int], min_size: float) -> bool:
    """Both sides of the box at least `min_size` of the image's matching side."""
    return (box["x1"] - box["x0"]) >= min_size * size[0] and (
        box["y1"] - box["y0"]
    ) >= min_size * size[1]


class Detector:
    """Shared plumbing: decode originals ahead of the model, turn boxes into Results."""

    model_name = "none"

    def __init__(self, settings: DetectorSettings, data_dir: Path, max_pixels: int):
        self.settings = settings
        self.data_dir = data_dir
        self.max_pixels = max_pixels

    def decode(self, item: dict[str, Any]) -> Decoded | ImageError:
        try:
            return open_image(
                self.data_dir / item["path"], self.max_pixels, min_side=self.decode_side
            )
        except ImageError as error:
            return error

    decode_side: int | None = None

    def process(self, items: Iterable[dict[str, Any]]) -> Iterator[Result]:
        items = iter(items)
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            # Decode batch k+1 in the background while the model works on batch k.
            def start(batch):
                return batch, [pool.submit(self.decode, item) for item in batch]

            upcoming = start(list(islice(items, self.settings.batch)))
            while upcoming[0]:
                batch, futures = upcoming
                upcoming = start(list(islice(items, self.settings.batch)))
                decoded = [future.result() for future in futures]
                yield from self._results(batch, decoded)

    def _results(
        self, batch: list[dict[str, Any]], decoded: list[Decoded | ImageError]
    ) -> Iterator[Result]:
        boxes = iter(self.detect([d for d in decoded if isinstance(d, Decoded)]))
        for item, d in zip(batch, decoded, strict=True):
            if isinstance(d, ImageError):
                yield Result(item["id"], "failed", d.reason)
                continue
            found = [b for b in next(boxes) if big_enough(b, d.size, self.settings.min_size)]
            chosen = pick(found, self.settings.policy)
            status = "ok" if chosen else "no_object"
            yield Result(item["id"], status, data={"detections": chosen, "model": self.model_name})

    def detect(self, images: list[Decoded]) -> list[list[dict[str, Any]]]:
        """Boxes per image, in original (upright) pixels."""
        return [[box_dict(GENERIC_CLASS, 1.0, (0, 0, *d.size))] for d in images]


def box_dict(class_name: str, confidence: float, box: Iterable[float]) -> dict[str, Any]:
    # Rounded to 0.1 px and 4 decimals: the model's last bits vary with how the CPU threads
    # split a batch, and a resumed or distributed run must record exactly what a straight one does.
    x0, y0, x1, y1 = (round(float(v), 1) for v in box)
    return {
        "class_name": class_name,
        "confidence": round(float(confidence), 4),
        "x0": x0,
        "y0": y0,
        "x1": x1,
        "y1": y1,
    }


class WholeImage(Detector):
    """`none`: every image is one object (photos that are already framed)."""

    decode_side = 32


class Foreground(Detector):
    """`foreground`: the largest region that differs from the border's colour."""

    model_name = "foreground"
    decode_side = 256

    def detect(self, images: list[Decoded]) -> list[list[dict[str, Any]]]:
        import cv2

        out = []
        for decoded in images:
            rgb = np.asarray(decoded.image.convert("RGB"), dtype=np.int16)
            difference = np.abs(rgb - np.array(border_colour(decoded.image), dtype=np.int16)).max(
                axis=2
            )
            mask = (difference > 28).astype(np.uint8)
            kernel = np.ones((5, 5), np.uint8)
            mask = cv2.morphologyEx(
                cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel
            )
            count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
            if count <= 1:
                out.append([])
                continue
            largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            x, y, w, h, area = stats[largest]
            # Confidence: how much of its own box the component fills (a solid object ≈ 0.6–1).
            confidence = float(area) / float(w * h)
            s = decoded.scale
            out.append(
                [box_dict(GENERIC_CLASS, confidence, (x / s, y / s, (x + w) / s, (y + h) / s))]
            )
        return out


class Yolo(Detector):
    """`yolo`: ultralytics YOLO, batched, CUDA + half precision when present."""

    def __init__(
        self,
        settings: DetectorSettings,
        data_dir: Path,
        max_pixels: int,
        classes: list[str],
        weights: str,
    ):
        super().__init__(settings, data_dir, max_pixels)
        import torch

        YOLO = import_yolo(data_dir)

        self.model_name = Path(weights).name
        try:
            self.model = YOLO(weights)
        except Exception as exc:  # a failed download, a damaged or foreign file
            local = (
                ""
                if Path(weights).exists()
                else " (no network? download the weights once, or set pipeline.detector.model to a local .pt path)"
            )
            raise UserError(f"could not load detector weights {weights!r}{local}: {exc}") from None
        names = {name: index for index, name in self.model.names.items()}
        missing = [name for name in classes if name not in names]
        if missing:
            raise ConfigError(
                f"pipeline.classes: the model {self.model_name} has no class {', '.join(map(repr, missing))}; "
                f"it knows: {', '.join(names)}."
            )
        self.class_ids = [names[name] for name in classes]
        device = settings.device
        if device == "auto":
            device = "cuda:0" if torch.cuda.is_available() else "cpu"
        self.device = device
        self.half = device.startswith("cuda")
        self.decode_side = settings.imgsz

    def detect(self, images: list[Decoded]) -> list[list[dict[str, Any]]]:
        if not images:
            return []
        # Letterbox every image to imgsz² here, so the model sees each one the same way whatever
        # else is in its batch (ultralytics pads a batch of equal shapes differently from a mixed
        # one): a resumed run then finds exactly the boxes an uninterrupted run finds.
        boxed = [letterbox(d.image.convert("RGB"), self.settings.imgsz) for d in images]
        results = self.model.predict(
            [np.ascontiguousarray(np.asarray(canvas)[:, :, ::-1]) for canvas, _, _ in boxed],  # BGR
            imgsz=self.settings.imgsz,
            conf=self.settings.conf,
            classes=self.class_ids,
            device=self.device,
            batch=len(boxed),
            verbose=False,
            **({"half": True} if self.half else {}),  # fp16 on CUDA only
        )
        out = []
        for decoded, (_, ratio, offset), result in zip(images, boxed, results, strict=True):
            boxes = result.boxes
            xyxy = (boxes.xyxy.cpu().numpy() - np.array(offset * 2)) / ratio / decoded.scale
            xyxy = np.clip(xyxy, 0, np.array(decoded.size * 2))
            out.append(
                [
                    box_dict(self.model.names[int(c)], float(p), b)
                    for b, p, c in zip(
                        xyxy, boxes.conf.cpu().numpy(), boxes.cls.cpu().numpy(), strict=True
                    )
                ]
            )
        return out


def letterbox(image: Image.Image, size: int) -> tuple[Image.Image, float, tuple[int, int]]:
    """`image` scaled to fit size² and centred on grey (YOLO's letterbox); (canvas, ratio, offset)."""
    ratio = min(size / image.width, size / image.height)
    scaled = image.resize(
        (max(1, round(image.width * ratio)), max(1, round(image.height * ratio))), Image.BILINEAR
    )
    canvas = Image.new("RGB", (size, size), (114, 114, 114))
    offset = ((size - scaled.width) // 2, (size - scaled.height) // 2)
    canvas.paste(scaled, offset)
    return canvas, ratio, offset


def import_yolo(data_dir: Path):
    """ultralytics' YOLO class, imported without its side effects on the rest of the pipeline.

    On import, ultralytics replaces PIL's Image.open with one that pip-installs a HEIF plugin
    the first time a file is unreadable, and it may auto-install other packages: a pipeline must
    never install software while it runs, so both are undone here. Its settings go to the data
    dir, not the home folder.
    """
    os.environ.setdefault("YOLO_CONFIG_DIR", str(data_dir / ".ultralytics"))
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    original_open = Image.open
    from ultralytics import YOLO

    Image.open = original_open
    return YOLO


def build(
    settings: DetectorSettings, data_dir: Path, max_pixels: int, classes: list[str], weights: str
) -> Detector:
    """The detector named by settings.kind (weights resolved by the caller)."""
    if settings.kind == "yolo":
        return Yolo(settings, data_dir, max_pixels, classes, weights)
    if settings.kind == "foreground":
        return Foreground(settings, data_dir, max_pixels)
    return WholeImage(settings, data_dir, max_pixels)
