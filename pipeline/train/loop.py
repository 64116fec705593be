"""The training loop: D steps, a G step, EMA, samples, checkpoints, logs. Resumable bit for bit.

Every random draw (batches, noise, flips, augmentations, penalty interpolation) comes from one
seeded torch.Generator whose state is checkpointed, so in deterministic mode N steps + resume +
N steps gives exactly the parameters of 2N straight steps.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from pipeline.errors import UserError
from pipeline.train import checkpoint
from pipeline.train.augment import diff_augment
from pipeline.train.data import Dataset, to_pil
from pipeline.train.distributed import World
from pipeline.train.losses import d_loss, g_loss, gradient_penalty, r1_penalty
from pipeline.train.models import Discriminator, Generator


@dataclass
class TrainConfig:
    resolution: int = 64
    steps: int = 2000  # generator updates
    batch: int = 32
    loss: str = "ns-r1"  # ns-r1 | wgan-gp | hinge
    augment: tuple[str, ...] = ("color", "translation", "cutout")
    ema: float = 0.999
    width: int = 32
    z_dim: int = 128
    channels: int = 3
    mirror: bool = True  # vessels are left-right symmetric: x-flips double the data
    lr: float | None = None  # default by loss
    r1_gamma: float | None = None  # default 0.0002·res²/batch (StyleGAN2-ADA's heuristic)
    r1_every: int = 16  # lazy regularisation
    n_critic: int = 5  # D steps per G step for wgan-gp (1 for the others)
    gp_weight: float = 10.0
    sample_every: int = 100
    checkpoint_every: int = 100
    seed: int = 0
    amp: bool | None = None  # default: on with CUDA
    device: str = "auto"
    deterministic: bool = False
    fid_every: int = 0  # steps between FID evaluations (needs inception)
    inception: str | None = None  # path to a TorchScript feature network (see metrics.FeatureFID)
    fid_samples: int = 1000
    extra: dict[str, Any] = field(default_factory=dict)

    def resolved(self) -> TrainConfig:
        c = copy.deepcopy(self)
        if c.resolution < 32 or c.resolution > 256 or c.resolution & (c.resolution - 1):
            raise UserError(
                f"--resolution must be a power of two from 32 to 256 (got {c.resolution})."
            )
        if c.loss not in ("ns-r1", "wgan-gp", "hinge"):
            raise UserError(f"--loss must be ns-r1, wgan-gp or hinge (got {c.loss}).")
        c.lr = c.lr or (1e-4 if c.loss == "wgan-gp" else 2e-4)
        c.r1_gamma = c.r1_gamma if c.r1_gamma is not None else 0.0002 * c.resolution**2 / c.batch
        c.device = (
            c.device if c.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        )
        c.amp = (c.device == "cuda") if c.amp is None else (c.amp and c.device == "cuda")
        return c


class Trainer:
    def __init__(
        self,
        config: TrainConfig,
        dataset: Dataset,
        run_dir: Path,
        quiet: bool = False,
        world: World | None = None,
    ):
        self.c = config.resolved()
        self.data = dataset
        self.run_dir = run_dir
        self.world = world = world or World()  # one process unless torchrun started several
        self.quiet = quiet or not world.main
        c = self.c
        if c.batch % world.size:
            raise UserError(f"--batch {c.batch} must be a multiple of the {world.size} processes.")
        self.local_batch = c.batch // world.size  # each rank's slice of the batch
        if c.deterministic:
            torch.use_deterministic_algorithms(True)
        torch.manual_seed(c.seed)  # the same initial networks on every rank
        device = c.device
        if device == "cuda" and world.size > 1:
            device = f"cuda:{world.local_rank}"
        self.device = torch.device(device)
        self.G = Generator(c.resolution, c.width, c.z_dim, c.channels).to(self.device)
        self.D = Discriminator(c.resolution, c.width, c.channels).to(self.device)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        betas = (
            (0.0, 0.9) if c.loss == "wgan-gp" else (0.0, 0.99)
        )  # floats: some torch versions reject ints
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=c.lr, betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=c.lr, betas=betas)
        self.scaler_G = torch.amp.GradScaler("cuda", enabled=c.amp)
        self.scaler_D = torch.amp.GradScaler("cuda", enabled=c.amp)
        # Each rank draws its own batches and noise; rank 0 draws exactly what one process would.
        self.gen = torch.Generator().manual_seed(c.seed + 7919 * world.rank)
        self.fixed_z = torch.randn(64, c.z_dim, generator=torch.Generator().manual_seed(c.seed + 1))
        self.step = 0
        self.d_steps = 0
        self.reals = dataset.images  # stays on the CPU; batches move to the device

    # --- state --------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The full state (a collective call when distributed: every rank must make it)."""
        if self.world.size > 1:
            checksums = self.world.gather(self.checksum())
            if len(set(checksums)) > 1:
                raise RuntimeError(f"the training processes' networks diverged: {checksums}")
        return {
            "config": {k: v for k, v in asdict(self.c).items() if k != "extra"},
            "step": self.step,
            "d_steps": self.d_steps,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict(),
            "opt_G": self.opt_G.state_dict(),
            "opt_D": self.opt_D.state_dict(),
            "scaler_G": self.scaler_G.state_dict(),
            "scaler_D": self.scaler_D.state_dict(),
            "rng": self.gen.get_state(),
            "world_size": self.world.size,
            "rng_by_rank": self.world.gather(self.gen.get_state()),
            "torch_rng": torch.get_rng_state(),
            "fixed_z": self.fixed_z,
            "dataset": {"n_images": len(self.data), "fingerprint": self.data.fingerprint},
        }

    def restore(self, state: dict[str, Any]) -> None:
        differs = checkpoint.incompatible(state["config"], asdict(self.c))
        if differs:
            raise UserError(
                f"cannot resume: the run was trained with other settings ({'; '.join(differs)})."
            )
        if state.get("world_size", 1) != self.world.size:
            raise UserError(
                f"cannot resume: the run was trained with --nproc {state.get('world_size', 1)}; "
                f"resume it with the same --nproc."
            )
        for name in ("G", "D", "G_ema", "opt_G", "opt_D", "scaler_G", "scaler_D"):
            getattr(self, name).load_state_dict(state[name])
        self.gen.set_state(state.get("rng_by_rank", [state["rng"]])[self.world.rank])
        torch.set_rng_state(state["torch_rng"])
        self.fixed_z = state["fixed_z"]
        self.step, self.d_steps = state["step"], state["d_steps"]

    # --- one step -----------------------------------------------------------------------

    def checksum(self) -> float:
        """A number that differs when two replicas' networks differ."""
        with torch.no_grad():
            return float(
                sum(p.double().sum() for p in (*self.G.parameters(), *self.D.parameters()))
            )

    def batch(self) -> torch.Tensor:
        index = torch.randint(0, len(self.reals), (self.local_batch,), generator=self.gen)
        x = self.reals[index]
        if self.c.mirror:
            flip = torch.rand(self.local_batch, generator=self.gen) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        return x.to(self.device)

    def noise(self) -> torch.Tensor:
        return torch.randn(self.local_batch, self.c.z_dim, generator=self.gen).to(self.device)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.c.augment, self.gen) if self.c.augment else x

    def train_step(self) -> dict[str, float]:
        c, logs = self.c, {}
        autocast = torch.autocast(self.device.type, dtype=torch.float16, enabled=c.amp)
        for _ in range(c.n_critic if c.loss == "wgan-gp" else 1):
            reals = self.batch()
            with torch.no_grad(), autocast:
                fakes = self.G(self.noise())
            with autocast:
                loss = d_loss(
                    c.loss, self.D(self.augment(reals)), self.D(self.augment(fakes.float()))
                )
            logs["loss_D"] = loss.item()
            if c.loss == "wgan-gp":
                penalty = gradient_penalty(self.D, reals, fakes.float(), self.gen)
                loss = loss + c.gp_weight * penalty
                logs["gp"] = penalty.item()
            elif self.d_steps % c.r1_every == 0 and c.r1_gamma > 0:
                penalty = r1_penalty(self.D, reals, self.augment)  # in fp32, outside autocast
                loss = loss + c.r1_gamma * penalty * c.r1_every
                logs["r1"] = penalty.item()
            self.opt_D.zero_grad(set_to_none=True)
            self.scaler_D.scale(loss).backward()
            self.world.average_gradients(self.D)
            self.scaler_D.step(self.opt_D)
            self.scaler_D.update()
            self.d_steps += 1
        with autocast:
            loss = g_loss(c.loss, self.D(self.augment(self.G(self.noise()))))
        self.opt_G.zero_grad(set_to_none=True)
        self.scaler_G.scale(loss).backward()
        self.world.average_gradients(self.G)
        self.scaler_G.step(self.opt_G)
        self.scaler_G.update()
        self.world.share_buffers(self.G)
        logs["loss_G"] = loss.item()
        self.update_ema()
        self.step += 1
        return self.world.mean(logs)

    @torch.no_grad()
    def update_ema(self) -> None:
        # Ramp up: early on, average over the few steps there are (StyleGAN2-ADA does the same).
        beta = min(self.c.ema, (1 + self.step) / (10 + self.step))
        for ema, live in zip(self.G_ema.parameters(), self.G.parameters(), strict=True):
            ema.lerp_(live, 1 - beta)
        for ema, live in zip(self.G_ema.buffers(), self.G.buffers(), strict=True):
            ema.copy_(live)

    # --- the loop -----------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Train to c.steps. Only rank 0 writes files; with one process that is this one."""
        c, out, main = self.c, self.run_dir, self.world.main
        if main:
            (out / "samples").mkdir(parents=True, exist_ok=True)
            (out / "config.json").write_text(
                json.dumps({**asdict(c), "nproc": self.world.size}, indent=2, default=str)
            )
            to_pil(self.reals[:64], 8).save(out / "reals.png")
        writer = tensorboard(out) if main else None
        fid = None
        if main and c.fid_every and c.inception:
            from pipeline.train.metrics import FeatureFID

            fid = FeatureFID(c.inception, self.reals[: c.fid_samples], c.device)
        started, last = time.monotonic(), {}
        bar = tqdm(
            total=c.steps,
            initial=self.step,
            desc="train",
            unit="step",
            disable=self.quiet,
            dynamic_ncols=True,
        )
        try:
            with open(out / "metrics.jsonl" if main else os.devnull, "a") as metrics:
                while self.step < c.steps:
                    try:
                        last = self.train_step()
                    except torch.cuda.OutOfMemoryError:
                        raise UserError(
                            f"the GPU ran out of memory at batch {c.batch}; try --batch {max(1, c.batch // 2)}."
                        ) from None
                    if not all(math.isfinite(v) for v in last.values()):
                        raise UserError(
                            f"the losses became NaN/inf at step {self.step}; lower the learning rate or resume from the last checkpoint."
                        )
                    if fid and self.step % c.fid_every == 0:
                        last["fid"] = fid(self.sample(min(c.fid_samples, len(self.reals))))
                    metrics.write(
                        json.dumps({"step": self.step, **{k: round(v, 5) for k, v in last.items()}})
                        + "\n"
                    )
                    if writer:
                        for key, value in last.items():
                            writer.add_scalar(key, value, self.step)
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.3f}" for k, v in last.items()}, refresh=False)
                    if main and (self.step % c.sample_every == 0 or self.step == c.steps):
                        self.save_samples()
                    if self.step % c.checkpoint_every == 0 or self.step == c.steps:
                        state = self.state()  # every rank takes part in making it
                        if main:
                            checkpoint.save(out / "checkpoints" / "latest.pt", state)
        finally:
            bar.close()
            if writer:
                writer.close()
        if main:
            make_gif(out)
            plot_losses(out)
        return {
            "steps": self.step,
            "seconds": round(time.monotonic() - started, 2),
            "last": last,
            "run": str(out),
        }

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        """`n` images from G_ema with noise of their own (the training noise stays untouched)."""
        z = torch.randn(n, self.c.z_dim, generator=torch.Generator().manual_seed(self.c.seed + 2))
        return torch.cat([self.G_ema(chunk.to(self.device)) for chunk in z.split(64)]).cpu()

    @torch.no_grad()
    def save_samples(self) -> Path:
        images = self.G_ema(self.fixed_z.to(self.device))
        path = self.run_dir / "samples" / f"fakes{self.step:06d}.png"
        to_pil(images, 8).save(path)
        return path


def tensorboard(out: Path):
    """A TensorBoard writer when tensorboard is installed (it is optional)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(out / "tensorboard"))


def make_gif(out: Path) -> None:
    from PIL import Image

    frames = [Image.open(p) for p in sorted((out / "samples").glob("fakes*.png"))]
    if frames:
        frames[0].save(
            out / "progress.gif", save_all=True, append_images=frames[1:], duration=300, loop=0
        )


def plot_losses(out: Path) -> None:
    """losses.png from metrics.jsonl (matplotlib, headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [
        json.loads(line)
        for line in (out / "metrics.jsonl").read_text().splitlines()
        if line.strip()
    ]
    if not rows:
        return
    figure, axis = plt.subplots(figsize=(7, 3.2), dpi=100)
    for key in ("loss_D", "loss_G"):
        axis.plot(
            [r["step"] for r in rows if key in r],
            [r[key] for r in rows if key in r],
            label=key,
            linewidth=0.8,
        )
    axis.set_xlabel("step")
    axis.legend()
    figure.tight_layout()
    figure.savefig(out / "losses.png")
    plt.close(figure)
