"""`make demo`: the whole pipeline, offline, against the bundled fake museum.

Starts the museum (a replay of The Met's API on 127.0.0.1), then runs the real commands a user
types — scrape, run, report, train — as separate processes, and stops the museum at the end.
Everything lands in data/demo/.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from servers.base import ReplayServer  # noqa: E402
from servers.met import BASE, MetApp  # noqa: E402
from servers.museum import absolute, build_museum  # noqa: E402

ROOT = HERE.parent
CONFIG = HERE / "fixtures" / "demo.yaml"
DATA = ROOT / "data" / "demo"


def curate(*args: str) -> None:
    command = [
        sys.executable,
        "-m",
        "pipeline.cli",
        "--config",
        str(CONFIG),
        "--data-dir",
        str(DATA),
        *args,
    ]
    print(f"\n$ curate {' '.join(args)}", flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


def main() -> None:
    started = time.monotonic()
    shutil.rmtree(DATA, ignore_errors=True)
    records, images = build_museum()
    app = MetApp([], images)
    with ReplayServer(app) as museum:
        app.records = {r["objectID"]: r for r in absolute(records, museum.url)}
        print(f"demo: fake museum with {len(records)} objects at {museum.url}{BASE}")
        curate("scrape", "--source", "museum", "--api-base", museum.url + BASE)
        curate("run")
    curate("report")
    train = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    if " train " in train.stdout:
        curate("train", "--name", "demo", "--resolution", "32", "--steps", "40", "--batch", "16")
    curate("status")
    print(
        f"\ndemo: done in {time.monotonic() - started:.0f} s. Look at:\n"
        f"  {DATA / 'report.html'}   the report (open it in a browser)\n"
        f"  {DATA / 'clean'}/         the dataset, one folder per class, with metadata.jsonl\n"
        f"  {DATA / 'runs'}/          training samples and checkpoints\n"
        f"  curate --config {CONFIG.relative_to(ROOT)} review   to go through the crops by hand"
    )


if __name__ == "__main__":
    main()
