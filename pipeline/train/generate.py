"""Images from a trained run's G_ema, with truncation in z (ψ < 1 trades variety for quality;
DCGAN has no W space, so z is shrunk towards its mean, 0)."""

from __future__ import annotations

from pathlib import Path

import torch

from pipeline.train import checkpoint
from pipeline.train.data import to_pil
from pipeline.train.models import Generator


def load_generator(run_dir: Path) -> tuple[Generator, dict]:
    path = run_dir / "checkpoints" / "latest.pt"
    if not path.exists():
        raise FileNotFoundError(path)
    state = checkpoint.load(path)
    c = state["config"]
    generator = Generator(c["resolution"], c["width"], c["z_dim"], c["channels"])
    generator.load_state_dict(state["G_ema"])
    return generator.eval(), c


@torch.no_grad()
def generate(run_dir: Path, n: int, psi: float, seed: int, out: Path, grid: bool) -> list[Path]:
    generator, config = load_generator(run_dir)
    z = torch.randn(n, config["z_dim"], generator=torch.Generator().manual_seed(seed)) * psi
    images = torch.cat([generator(chunk) for chunk in z.split(64)])
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(images):
        path = out / f"seed{seed:04d}-{i:04d}.png"
        to_pil(image[None], 1).save(path)
        paths.append(path)
    if grid:
        to_pil(images).save(out / "grid.png")
    return paths
