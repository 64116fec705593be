"""Training benchmark: curate's default recipe (ns-r1 + DiffAugment + EMA) against the classic
WGAN-GP recipe (5 critic steps per generator step, gradient penalty), at 64 px, batch 64, the
same width, on the same generated vessel silhouettes, in one run.

- speed: seconds per generator step (ratio curate / WGAN-GP; target <= 1.0);
- quality: after the same wall-clock budget each, the proxy FID (colour and coarse-shape features,
  no download; lower is better) of 512 samples against the training images.
Results in bench/results/train.json.  `python bench/train.py [--budget 120] [--width 32]`
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import write

from pipeline.train.data import load_folder
from pipeline.train.loop import TrainConfig, Trainer
from pipeline.train.metrics import proxy_fid


def silhouettes(folder: Path, count: int = 600) -> None:
    from detector.scenes import KINDS, museum_photo

    folder.mkdir(parents=True)
    for i in range(count):
        rng = np.random.default_rng([3, i])
        image, _ = museum_photo(KINDS[i % 4], (96, 96), False, rng)
        image.resize((64, 64)).save(folder / f"{i:04d}.png")


def run(config: TrainConfig, data, out: Path, budget: float) -> dict:
    trainer = Trainer(config, data, out, quiet=True)
    trainer.train_step()  # warm-up, not timed
    started, steps = time.perf_counter(), 0
    while time.perf_counter() - started < budget:
        trainer.train_step()
        steps += 1
    seconds = time.perf_counter() - started
    with torch.no_grad():
        z = torch.randn(512, config.z_dim, generator=torch.Generator().manual_seed(9))
        samples = torch.cat([trainer.G_ema(chunk) for chunk in z.split(128)])
    return {
        "steps": steps,
        "seconds_per_g_step": seconds / steps,
        "proxy_fid": proxy_fid(data.images, samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--budget", type=float, default=120.0, help="seconds of training per recipe"
    )
    parser.add_argument("--width", type=int, default=32)
    args = parser.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        silhouettes(work / "data")
        data = load_folder(work / "data", 64)
        common = dict(
            resolution=64, batch=64, width=args.width, sample_every=10**9, checkpoint_every=10**9
        )
        ours = run(
            TrainConfig(loss="ns-r1", augment=("color", "translation", "cutout"), **common),
            data,
            work / "ours",
            args.budget,
        )
        classic = run(
            TrainConfig(loss="wgan-gp", augment=(), ema=0.0, n_critic=5, **common),
            data,
            work / "wgan",
            args.budget,
        )
    data_out = {
        "resolution": 64,
        "batch": 64,
        "width": args.width,
        "budget_seconds": args.budget,
        "images": 600,
        "curate_ns_r1_diffaugment_ema": ours,
        "reference_wgan_gp_5_critic": classic,
        "ratio_seconds_per_g_step": ours["seconds_per_g_step"] / classic["seconds_per_g_step"],
        "proxy_fid_curate_minus_reference": ours["proxy_fid"] - classic["proxy_fid"],
    }
    write("train", data_out)
    print(
        f"train: s/G-step curate/WGAN-GP {data_out['ratio_seconds_per_g_step']:.2f}x; proxy FID {ours['proxy_fid']:.1f} vs {classic['proxy_fid']:.1f}"
    )


if __name__ == "__main__":
    main()
