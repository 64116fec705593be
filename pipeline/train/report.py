"""Memorisation check: the nearest training image to each of 16 samples, in pixel space and in a
simple feature space, side by side in one PNG. Small datasets make GANs copy; this shows it."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image, ImageDraw

from pipeline.train.data import Dataset, to_pil
from pipeline.train.generate import load_generator
from pipeline.train.metrics import features


@torch.no_grad()
def nearest_report(run_dir: Path, dataset: Dataset, out: Path, n: int = 16, seed: int = 0) -> dict:
    generator, config = load_generator(run_dir)
    z = torch.randn(n, config["z_dim"], generator=torch.Generator().manual_seed(seed))
    samples = generator(z)
    reals = dataset.images
    pixel = torch.cdist(samples.flatten(1), reals.flatten(1))  # L2 in pixel space
    feats = torch.cdist(torch.from_numpy(features(samples)), torch.from_numpy(features(reals)))
    near_pixel, near_feature = pixel.argmin(1), feats.argmin(1)
    columns = [to_pil(samples, 1), to_pil(reals[near_pixel], 1), to_pil(reals[near_feature], 1)]
    header = 18
    sheet = Image.new("RGB", (sum(c.width for c in columns), columns[0].height + header), "white")
    draw = ImageDraw.Draw(sheet)
    x = 0
    for column, title in zip(
        columns, ("sample", "nearest (pixels)", "nearest (features)"), strict=True
    ):
        sheet.paste(column.convert("RGB"), (x, header))
        draw.text((x + 2, 2), title, fill="black")
        x += column.width
    sheet.save(out)
    # Baseline: how close training images are to each other, to judge the distances above.
    real_pairs = torch.cdist(reals[:256].flatten(1), reals[:256].flatten(1))
    real_pairs.fill_diagonal_(float("inf"))
    return {
        "report": str(out),
        "median_sample_to_train": float(pixel.min(1).values.median()),
        "median_train_to_train": float(real_pairs.min(1).values.median())
        if len(reals) > 1
        else None,
        "nearest_files": [dataset.files[int(i)] for i in near_pixel],
    }
