"""Full-state checkpoints: models, EMA, optimisers, grad scalers, step, every random state.

One dict, written to a temporary file and renamed (a kill never leaves half a checkpoint), and
loadable with `torch.load(weights_only=True)`: no pickled code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from pipeline.atomic import atomic_path

FORMAT = "curate-gan"
VERSION = 1
# Fields that fix the networks' shapes: a checkpoint with others cannot be resumed.
ARCHITECTURE = ("resolution", "width", "z_dim", "channels", "loss")


def save(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(path) as temp:
        torch.save({"format": FORMAT, "format_version": VERSION, **state}, temp)


def load(path: Path) -> dict[str, Any]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a curate-gan checkpoint")
    if state.get("format_version", 0) > VERSION:
        raise ValueError(
            f"{path} was written by a newer vessel-curate (format {state['format_version']})"
        )
    return state


def incompatible(saved: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Architecture fields on which a saved run and the requested settings differ."""
    return [
        f"{key}: {saved.get(key)} vs {wanted.get(key)}"
        for key in ARCHITECTURE
        if saved.get(key) != wanted.get(key)
    ]
