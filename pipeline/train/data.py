"""Load a folder of images (any depth, e.g. data/clean/<class>/) into one tensor in [-1, 1].

Curated datasets are small (hundreds to tens of thousands of images at 32–256 px), so they are
held in memory: no loader workers, and batches are drawn with a seeded generator, which is what
makes resumed runs bit-identical to uninterrupted ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from pipeline.errors import UserError

SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


@dataclass
class Dataset:
    images: torch.Tensor  # N × C × R × R, float32 in [-1, 1]
    files: list[str]  # relative to the folder, same order
    skipped: int  # files that were not readable images
    fingerprint: str  # changes when the set of files changes

    def __len__(self) -> int:
        return len(self.files)


def load_folder(folder: Path, resolution: int, grayscale: bool = False) -> Dataset:
    """Every readable image below `folder`, squared and resized to `resolution` if it differs.

    Grayscale images are repeated to RGB unless `grayscale` (then everything becomes one channel).
    """
    if not folder.is_dir():
        raise UserError(f"no image folder at {folder}; run `curate export` first or pass --data.")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    arrays, names, skipped = [], [], 0
    for path in files:
        try:
            with Image.open(path) as image:
                image = image.convert("L" if grayscale else "RGB")
                if image.size != (resolution, resolution):
                    image = square(image).resize((resolution, resolution), Image.LANCZOS)
                arrays.append(np.asarray(image, dtype=np.uint8))
        except (UnidentifiedImageError, OSError):
            skipped += 1
            continue
        names.append(path.relative_to(folder).as_posix())
    if not arrays:
        raise UserError(f"no readable images in {folder} ({skipped} files skipped).")
    stack = np.stack(arrays)
    if stack.ndim == 3:
        stack = stack[..., None]
    images = torch.from_numpy(stack).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
    return Dataset(images.contiguous(), names, skipped, digest)


def square(image: Image.Image) -> Image.Image:
    """Centre-crop to a square (crops from `curate crop` are square already)."""
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.crop((left, top, left + side, top + side))


def to_pil(batch: torch.Tensor, columns: int | None = None) -> Image.Image:
    """A grid image of a batch in [-1, 1] (no torchvision needed)."""
    n, c, h, w = batch.shape
    columns = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    pixels = ((batch.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    grid = torch.full((c, rows * h, columns * w), 255, dtype=torch.uint8)
    for i in range(n):
        r, col = divmod(i, columns)
        grid[:, r * h : (r + 1) * h, col * w : (col + 1) * w] = pixels[i]
    array = grid.permute(1, 2, 0).numpy()
    return Image.fromarray(array[..., 0] if c == 1 else array, "L" if c == 1 else "RGB")
