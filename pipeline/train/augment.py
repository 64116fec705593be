"""DiffAugment (Zhao et al., 2020): the same differentiable augmentations on real and fake
images, in both the D and G steps, so D cannot memorise a small dataset and G is not taught the
augmentations. Written from the paper's description: colour (brightness, saturation, contrast),
translation (±1/8 with zero padding) and cutout (a square of half the image size).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def diff_augment(
    x: torch.Tensor, policy: tuple[str, ...], generator: torch.Generator
) -> torch.Tensor:
    for name in policy:
        x = AUGMENTS[name](x, generator)
    return x


def _rand(x: torch.Tensor, generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.rand(x.shape[0], *shape, generator=generator, device="cpu").to(x.device, x.dtype)


def colour(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    x = x + (_rand(x, g, 1, 1, 1) - 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(x, g, 1, 1, 1) * 2) + mean  # saturation
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (_rand(x, g, 1, 1, 1) + 0.5) + mean  # contrast


def translation(x: torch.Tensor, g: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = (torch.randint(-sh, sh + 1, (n, 1, 1), generator=g)).to(x.device)
    dx = (torch.randint(-sw, sw + 1, (n, 1, 1), generator=g)).to(x.device)
    gy, gx = torch.meshgrid(
        torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij"
    )
    gy = torch.clamp(gy[None] + dy + 1, 0, h + 1)
    gx = torch.clamp(gx[None] + dx + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])
    batch = torch.arange(n, device=x.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[batch, gy, gx].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, g: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=g).to(x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=g).to(x.device)
    gy, gx = torch.meshgrid(
        torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij"
    )
    inside = ((gy[None] - cy).abs() < ch // 2) & ((gx[None] - cx).abs() < cw // 2)
    return x * (~inside).unsqueeze(1).to(x.dtype)


AUGMENTS = {"color": colour, "translation": translation, "cutout": cutout}
