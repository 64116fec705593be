"""The three losses. Each returns (loss, logs); D losses take un-augmented reals for R1/GP.

- ns-r1 (default): non-saturating logistic loss with lazy R1 on reals (StyleGAN2's recipe).
- wgan-gp: Wasserstein critic with gradient penalty (λ = 10), several critic steps per G step.
- hinge: hinge loss (as in SAGAN/BigGAN), with the same lazy R1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_loss(kind: str, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    if kind == "ns-r1":
        return F.softplus(fake_scores).mean() + F.softplus(-real_scores).mean()
    if kind == "hinge":
        return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()
    return fake_scores.mean() - real_scores.mean()  # wgan-gp


def g_loss(kind: str, fake_scores: torch.Tensor) -> torch.Tensor:
    if kind == "ns-r1":
        return F.softplus(-fake_scores).mean()
    return -fake_scores.mean()  # hinge and wgan-gp


def r1_penalty(discriminator, reals: torch.Tensor, augment) -> torch.Tensor:
    """½·E‖∇D(x)‖² on real images (the gradient w.r.t. the un-augmented input)."""
    reals = reals.detach().requires_grad_(True)
    scores = discriminator(augment(reals))
    (gradient,) = torch.autograd.grad(scores.sum(), reals, create_graph=True)
    return gradient.pow(2).sum(dim=[1, 2, 3]).mean() / 2


def gradient_penalty(
    discriminator, reals: torch.Tensor, fakes: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """E(‖∇D(x̂)‖ − 1)² on random interpolates between real and fake (WGAN-GP)."""
    alpha = torch.rand(reals.shape[0], 1, 1, 1, generator=generator).to(reals.device)
    mixed = (alpha * reals.detach() + (1 - alpha) * fakes.detach()).requires_grad_(True)
    (gradient,) = torch.autograd.grad(discriminator(mixed).sum(), mixed, create_graph=True)
    return (gradient.flatten(1).norm(dim=1) - 1).pow(2).mean()
