"""DCGAN-family generator and discriminator, scaled by resolution (32–256) and width.

G: z → 4×4 → (transposed conv, batch norm, ReLU) doublings → tanh image.
D: image → (strided conv, LeakyReLU) halvings → 4×4 → one score. No batch norm in D: the R1 and
gradient penalties are per-sample and batch norm would couple the samples.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def channels(width: int, level: int, top: int) -> int:
    """Feature maps at a level (0 = 4×4): widest at the bottom, halving towards the image."""
    return min(width * 2 ** (top - level), width * 8)


class Generator(nn.Module):
    def __init__(self, resolution: int, width: int = 32, z_dim: int = 128, out_channels: int = 3):
        super().__init__()
        self.z_dim = z_dim
        top = int(math.log2(resolution)) - 2  # number of doublings from 4×4
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim, channels(width, 0, top), 4, 1, 0, bias=False),
            nn.BatchNorm2d(channels(width, 0, top)),
            nn.ReLU(True),
        ]
        for level in range(1, top):
            layers += [
                nn.ConvTranspose2d(
                    channels(width, level - 1, top),
                    channels(width, level, top),
                    4,
                    2,
                    1,
                    bias=False,
                ),
                nn.BatchNorm2d(channels(width, level, top)),
                nn.ReLU(True),
            ]
        layers += [
            nn.ConvTranspose2d(channels(width, top - 1, top), out_channels, 4, 2, 1),
            nn.Tanh(),
        ]
        self.net = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], self.z_dim, 1, 1))


class Discriminator(nn.Module):
    def __init__(self, resolution: int, width: int = 32, in_channels: int = 3):
        super().__init__()
        top = int(math.log2(resolution)) - 2
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, channels(width, top - 1, top), 4, 2, 1),
            nn.LeakyReLU(0.2, True),
        ]
        for level in range(top - 1, 0, -1):
            layers += [
                nn.Conv2d(channels(width, level, top), channels(width, level - 1, top), 4, 2, 1),
                nn.LeakyReLU(0.2, True),
            ]
        layers += [nn.Conv2d(channels(width, 0, top), 1, 4, 1, 0)]
        self.net = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image).view(-1)


def init_weights(module: nn.Module) -> None:
    """N(0, 0.02) as in DCGAN."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)
