"""A proxy FID that needs no downloaded network: the Fréchet distance between Gaussians fitted
to simple image features (a 6×6 colour thumbnail and per-channel histograms). It tracks colour
and coarse shape — enough to compare two trainers on the same data — but it is not comparable
with published FID numbers, which need Inception weights.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import linalg


def features(images: torch.Tensor) -> np.ndarray:
    """N × D features of images in [-1, 1]."""
    x = images.detach().float().cpu()
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    thumbs = F.adaptive_avg_pool2d(x, 6).flatten(1)
    hist = torch.stack(
        [torch.histc(channel, bins=8, min=-1, max=1) for image in x for channel in image]
    )
    hist = hist.view(x.shape[0], -1) / (x.shape[2] * x.shape[3])
    return torch.cat([thumbs, hist], dim=1).numpy().astype(np.float64)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root, _ = linalg.sqrtm(cov_a @ cov_b, disp=False)
    root = root.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def proxy_fid(reals: torch.Tensor, fakes: torch.Tensor) -> float:
    return frechet_distance(features(reals), features(fakes))
