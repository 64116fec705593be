"""Run one stage over the pending work in the manifest, with a progress bar and a summary.

The runner is the only place where stages and the manifest meet: it pages through
`manifest.pending(stage)`, feeds the items to the stage, and records results in small
transactions (every `commit_every` results or `commit_seconds`), so a kill loses at most the
results not yet committed, and those items are simply pending again on the next run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from pipeline.manifest import Manifest
from pipeline.stages import Result


@dataclass
class RunSummary:
    stage: str
    statuses: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def line(self) -> str:
        """One line for the end of a stage: `download: 1980 ok, 20 failed (http_404 12, …) in 3.1 s`."""
        if not self.total:
            return f"{self.stage}: nothing to do."
        parts = [f"{count} {status}" for status, count in self.statuses.most_common()]
        text = f"{self.stage}: " + ", ".join(parts)
        if self.reasons:
            top = ", ".join(f"{reason} {count}" for reason, count in self.reasons.most_common(5))
            text += f" ({top})"
        rate = self.total / self.seconds if self.seconds > 0 else 0.0
        return text + f" in {self.seconds:.1f} s ({rate:.1f}/s)."

    def restate(self, changes: list[tuple[str, str]]) -> None:
        """Count statuses as the manifest stored them (e.g. ok → duplicate)."""
        for given, stored in changes:
            self.statuses[given] -= 1
            self.statuses[stored] += 1
        self.statuses += Counter()  # drop zero counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "total": self.total,
            "statuses": dict(self.statuses),
            "reasons": dict(self.reasons),
            "seconds": round(self.seconds, 3),
        }


def run_stage(
    manifest: Manifest,
    stage_name: str,
    process: Callable[[Iterable[dict[str, Any]]], Iterator[Result]],
    *,
    limit: int | None = None,
    filters: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    quiet: bool = False,
    commit_every: int = 64,
    commit_seconds: float = 1.0,
) -> RunSummary:
    """Process every pending item of `stage_name` with `process` and record the results."""
    total, items = manifest.pending(stage_name, limit=limit, **(filters or {}))
    summary = RunSummary(stage_name)
    run_id = manifest.start_run(stage_name, settings)
    started = last_commit = time.monotonic()
    batch: list[Result] = []
    megabytes = 0.0
    with tqdm(total=total, desc=stage_name, unit="item", disable=quiet, dynamic_ncols=True) as bar:
        try:
            for result in process(items):
                batch.append(result)
                summary.statuses[result.status] += 1
                if result.reason and not result.ok:
                    summary.reasons[result.reason] += 1
                megabytes += (result.data.get("bytes") or 0) / 1e6 if result.ok else 0
                bar.update(1)
                show_progress(bar, summary, megabytes)
                if len(batch) >= commit_every or time.monotonic() - last_commit >= commit_seconds:
                    summary.restate(manifest.record(stage_name, batch))
                    batch.clear()
                    last_commit = time.monotonic()
        finally:
            # Even on Ctrl-C, what finished is kept.
            if batch:
                summary.restate(manifest.record(stage_name, batch))
            summary.seconds = time.monotonic() - started
            manifest.finish_run(run_id, {**summary.statuses, "seconds": round(summary.seconds, 3)})
    return summary


def show_progress(bar: tqdm, summary: RunSummary, megabytes: float) -> None:
    """Failures (and MB/s for stages that move bytes) beside the bar, refreshed at most ~4×/s."""
    if bar.disable or time.monotonic() - getattr(bar, "_last_postfix", 0.0) < 0.25:
        return
    bar._last_postfix = time.monotonic()
    text = f"failed {summary.statuses['failed']}"
    if megabytes:
        text = f"{megabytes / max(bar.format_dict['elapsed'], 1e-6):.1f} MB/s, " + text
    bar.set_postfix_str(text, refresh=False)
