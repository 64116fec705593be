"""Data-parallel training over processes started by torchrun: gloo on CPU, NCCL on GPU.

`curate train --nproc N` starts N copies of the same command through torch's own elastic
launcher (what the `torchrun` command runs); for several machines, run `torchrun --nnodes ...
-m pipeline.cli train ...` yourself: each copy finds its rank in the environment torchrun sets.

Every rank holds the whole model and a slice of each batch. After each backward pass the
gradients are averaged with one all-reduce, the way StyleGAN2-ADA does it, rather than through
torch's DistributedDataParallel wrapper, which does not support the double backward of the R1
and gradient penalties (torch.autograd.grad with create_graph) nor several forward passes of one
module per step. Rank 0 writes samples, logs and checkpoints.
"""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass

import torch
import torch.distributed as dist

from pipeline.errors import UserError


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """Average logged numbers over ranks, so every rank takes the same decisions on them."""
        if self.size == 1 or not values:
            return values
        keys = sorted(values)
        tensor = torch.tensor([values[k] for k in keys], dtype=torch.float64)
        dist.all_reduce(tensor)
        return {k: float(v) / self.size for k, v in zip(keys, tensor.tolist(), strict=True)}

    def average_gradients(self, module: torch.nn.Module) -> None:
        if self.size == 1:
            return
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.size
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
            offset += grad.numel()

    def share_buffers(self, module: torch.nn.Module) -> None:
        """BatchNorm running statistics from rank 0, so every replica samples the same way."""
        if self.size > 1:
            for buffer in module.buffers():
                dist.broadcast(buffer, src=0)

    def gather(self, value):
        """`value` from every rank, in rank order (on every rank)."""
        if self.size == 1:
            return [value]
        out = [None] * self.size
        dist.all_gather_object(out, value)
        return out

    def close(self) -> None:
        if self.size > 1 and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


def join() -> World:
    """The world this process belongs to: set up by torchrun, or a single process."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return World(dist.get_rank(), size, local_rank)


def launch(nproc: int, argv: list[str]) -> int:
    """Run `curate <argv>` as `nproc` processes on this machine; their exit status."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    if torch.cuda.is_available() and torch.cuda.device_count() < nproc:
        raise UserError(
            f"--nproc {nproc} needs {nproc} GPUs; this machine has {torch.cuda.device_count()}."
        )
    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=nproc,
        run_id=uuid.uuid4().hex,
        rdzv_backend="c10d",
        rdzv_endpoint="127.0.0.1:0",  # a free port, this machine only
        max_restarts=0,
    )
    try:
        elastic_launch(config, sys.executable)("-m", "pipeline.cli", *argv)
    except ChildFailedError:
        return 1  # the failing rank has already printed its one-sentence error
    return 0
