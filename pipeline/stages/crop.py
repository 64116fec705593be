"""Crop stage: each detection becomes a square, padded, resized crop with its provenance inside.

Items are detections joined with their item (box, class, confidence, original path, source,
URL, licence, ...). Detections of the same original arrive together, so the original is decoded
once for all of them, at reduced size when the output resolution allows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline.atomic import clean_partial
from pipeline.config import CropSettings
from pipeline.imaging import Decoded, ImageError, open_image, square_crop
from pipeline.metadata import save_with_provenance
from pipeline.stages import Result

PROVENANCE_FIELDS = ("source", "object_id", "url", "page_url", "title", "license", "sha256")


class Cropper:
    """Turn detections into files data/crops/<resolution>/<detection id>.<jpg|png>."""

    def __init__(
        self,
        settings: CropSettings,
        resolution: int,
        data_dir: Path,
        max_pixels: int,
        tidy: bool = True,
    ):
        self.settings = settings
        self.resolution = resolution
        self.data_dir = data_dir
        self.max_pixels = max_pixels
        if tidy:  # leftovers of a killed run (with many workers, the driver does it once)
            clean_partial(data_dir / "crops" / str(resolution))

    def process(self, items: Iterable[dict[str, Any]]) -> Iterator[Result]:
        cached: tuple[str, Decoded | ImageError] | None = None
        for item in items:
            if cached is None or cached[0] != item["path"]:
                cached = (item["path"], self._decode(item))
            yield self.crop(item, cached[1])

    def _decode(self, item: dict[str, Any]) -> Decoded | ImageError:
        # The smallest crop side in original pixels tells how far decoding may shrink the picture.
        box_side = max(item["x1"] - item["x0"], item["y1"] - item["y0"], 1)
        shrink = max(1.0, box_side * (1 + 2 * self.settings.margin) / self.resolution)
        width, height = item.get("width") or 0, item.get("height") or 0
        min_side = int(min(width, height) / shrink) if width and height else None
        try:
            return open_image(self.data_dir / item["path"], self.max_pixels, min_side=min_side)
        except ImageError as error:
            return error

    def crop(self, item: dict[str, Any], decoded: Decoded | ImageError) -> Result:
        if isinstance(decoded, ImageError):
            data = {"item_id": item["item_id"], "resolution": self.resolution}
            return Result(item["id"], "failed", decoded.reason, data)
        box = tuple(v * decoded.scale for v in (item["x0"], item["y0"], item["x1"], item["y1"]))
        image = square_crop(
            decoded.image, box, self.resolution, self.settings.margin, self.settings.pad
        )
        if self.settings.grayscale:
            image = image.convert("L")
        relative = Path("crops") / str(self.resolution) / f"{item['id']}.{self.settings.format}"
        provenance = {name: item.get(name) for name in PROVENANCE_FIELDS}
        provenance |= {
            "class": item["class_name"],
            "confidence": round(item["confidence"], 4),
            "box": [round(item[k], 1) for k in ("x0", "y0", "x1", "y1")],
        }
        save_with_provenance(image, self.data_dir / relative, provenance, self.settings.quality)
        data = {
            "item_id": item["item_id"],
            "resolution": self.resolution,
            "path": relative.as_posix(),
        }
        return Result(item["id"], "ok", data=data)
