"""`--engine ray`: the same stages, run as Ray Data pipelines on a Ray cluster (or a local Ray).

The local engine calls `stage.process(items)` in this process. The Ray engine ships a recipe for
the stage (a picklable zero-argument factory) to Ray workers and streams the pending items
through `Dataset.map_batches`; Ray's streaming executor keeps the workers busy and applies
backpressure. Everything else stays as it is: the driver pages pending items out of the
manifest, the runner records the results in small transactions, and only the driver writes the
manifest, so it remains the single source of truth and a killed run resumes like a local one.

Decisions (also in the README):
- download runs in an actor pool, not as tasks: each actor keeps its `requests` sessions, and
  connection reuse is where the stage's speed comes from. `download.per_host` is shared out
  among the actors, so a cluster is exactly as polite to one museum as a single machine.
- detect runs in actors that hold the model, `scale.gpus_per_detect_actor` GPUs each when the
  cluster has GPUs (one actor per GPU by default); batches are `detector.batch` images.
- crop runs as stateless tasks.
- results come back in input order, so a Ray run writes the same rows, with the same ids, as a
  local run.
- pending items go to Ray `scale.chunk` at a time, so the driver never holds millions of them.
- files: originals and crops are written with local file operations (temporary name, then
  rename), so every node must see the data dir at the same path: the local disk for one node,
  a shared mount (NFS, EFS, Filestore, a FUSE-mounted bucket) for a cluster.
"""

from __future__ import annotations

import logging
import math
import pickle
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np

from pipeline.config import ScaleSettings
from pipeline.errors import UserError
from pipeline.stages import Result

StageFactory = Callable[[], Any]  # builds a stage (anything with .process(items)) on a worker


def _run_batch(batch: dict[str, np.ndarray], make_stage: StageFactory) -> dict[str, np.ndarray]:
    """A stateless task: build the stage, process one batch, hand the results back."""
    return _process(make_stage(), batch)


class _StageActor:
    """An actor that builds its stage once (sessions, a model on the GPU) and keeps it."""

    def __init__(self, make_stage: StageFactory):
        self.stage = make_stage()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return _process(self.stage, batch)


def _process(stage: Any, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # Items and results travel pickled in one binary column: manifest rows mix types and
    # NULLs freely, which Arrow schemas inferred per block would trip over.
    items = [pickle.loads(blob) for blob in batch["item"]]
    results = [pickle.dumps(result) for result in stage.process(items)]
    out = np.empty(len(results), dtype=object)
    out[:] = results
    return {"result": out}


@dataclass(frozen=True)
class Cluster:
    cpus: int
    gpus: int
    cpus_per_node: int  # the largest node's: an actor cannot ask for more than one node has


class RayEngine:
    """Connects to Ray once and turns stage factories into `process(items)` functions."""

    def __init__(self, scale: ScaleSettings, address: str | None = None):
        self.scale = scale
        self.cluster = connect(address or scale.address)

    def download_actors(self) -> int:
        return self.scale.download_actors or self.cluster.cpus

    def share_per_host(self, per_host: int) -> int:
        """Each download actor's part of the per-host limit (at least one connection)."""
        return max(1, per_host // self.download_actors())

    def download(self, make_stage: StageFactory) -> Callable[[Iterable[dict]], Iterator[Result]]:
        strategy = _actors(self.download_actors())
        return self._process(make_stage, self.scale.batch, strategy, num_cpus=1)

    def detect(
        self, make_stage: StageFactory, batch: int
    ) -> Callable[[Iterable[dict]], Iterator[Result]]:
        if self.cluster.gpus:
            actors = self.scale.detect_actors or max(
                1, int(self.cluster.gpus / self.scale.gpus_per_detect_actor)
            )
            resources = {"num_gpus": self.scale.gpus_per_detect_actor, "num_cpus": 1}
        else:
            # CPU-only: one actor uses the machine's cores through torch's own threads.
            actors = self.scale.detect_actors or 1
            cpus = min(self.cluster.cpus // actors, self.cluster.cpus_per_node)
            resources = {"num_cpus": max(1, cpus)}
        return self._process(make_stage, batch, _actors(actors), **resources)

    def crop(self, make_stage: StageFactory) -> Callable[[Iterable[dict]], Iterator[Result]]:
        import ray.data

        return self._process(make_stage, self.scale.batch, ray.data.TaskPoolStrategy(), num_cpus=1)

    def _process(
        self, make_stage: StageFactory, batch: int, compute: Any, **resources: float
    ) -> Callable[[Iterable[dict]], Iterator[Result]]:
        import ray
        import ray.data

        # Actors build the stage once; tasks build it for every batch.
        if isinstance(compute, ray.data.ActorPoolStrategy):
            udf, options = _StageActor, {"fn_constructor_kwargs": {"make_stage": make_stage}}
        else:
            udf, options = _run_batch, {"fn_kwargs": {"make_stage": make_stage}}

        def process(items: Iterable[dict[str, Any]]) -> Iterator[Result]:
            items = iter(items)
            while chunk := list(islice(items, self.scale.chunk)):
                rows = [{"item": pickle.dumps(item)} for item in chunk]
                dataset = ray.data.from_items(
                    rows, override_num_blocks=max(1, math.ceil(len(rows) / batch))
                )
                dataset = dataset.map_batches(
                    udf,
                    batch_size=batch,
                    batch_format="numpy",
                    compute=compute,
                    **options,
                    **resources,
                )
                try:
                    for row in dataset.iter_rows():
                        yield pickle.loads(row["result"])
                except ray.exceptions.RayTaskError as error:
                    # A stage's own one-sentence errors (missing weights, a bad class name)
                    # reach the user as they would locally, not as a remote traceback.
                    if isinstance(getattr(error, "cause", None), UserError):
                        raise error.cause from None
                    raise

        return process


def _actors(size: int):
    import ray.data

    # Start with one actor and grow to `size`: a small backlog need not wait for them all.
    return ray.data.ActorPoolStrategy(min_size=1, max_size=size)


def connect(address: str | None) -> Cluster:
    """Join the Ray cluster at `address`, or start a local Ray with this machine's cores."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise UserError(
            "--engine ray needs Ray: pip install 'vessel-curate[scale]' (or use --engine local)."
        ) from None
    if not ray.is_initialized():
        if address and address != "auto":
            check_reachable(address)
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                logging_level=logging.ERROR,  # Ray's notices are for its operators; errors show
                log_to_driver=False,  # stage errors come back as results; worker chatter stays out
                configure_logging=True,
            )
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise UserError(f"could not connect to the Ray cluster at {address}: {error}") from None
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # no per-dataset "execution" lines
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False  # the runner draws the one bar the user sees
    context.verbose_stats_logs = False
    resources = ray.cluster_resources()
    per_node = [node["Resources"].get("CPU", 0) for node in ray.nodes() if node["Alive"]]
    return Cluster(
        cpus=max(1, int(resources.get("CPU", 1))),
        gpus=int(resources.get("GPU", 0)),
        cpus_per_node=max(1, int(max(per_node, default=1))),
    )


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds, not after Ray's minute of retries, when nothing listens at `address`."""
    host_port = address.removeprefix("ray://").rsplit("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    try:
        socket.create_connection((host or host_port, int(port or 6379)), timeout=timeout).close()
    except (OSError, ValueError) as error:
        raise UserError(f"could not connect to the Ray cluster at {address}: {error}.") from None
