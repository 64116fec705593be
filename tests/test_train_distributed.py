"""`curate train --nproc 2`: two gloo processes under torch's elastic launcher (torchrun).

Ten steps, then a resume to twenty, must equal twenty straight steps bit for bit, and the two
replicas must agree (the trainer checks their checksums at every checkpoint, and a run whose
gradients were not averaged fails there).
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import torch
from detector.scenes import KINDS, museum_photo
from testkit import curate_subprocess

from pipeline.train import checkpoint

TINY = ["--resolution", "32", "--batch", "8", "--width", "8", "--deterministic"]


def train(data_dir, *args: str) -> subprocess.CompletedProcess:
    child = curate_subprocess(
        "--data-dir", str(data_dir), "train", "--sample-every", "5", "--nproc", "2", *TINY, *args,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"MPLCONFIGDIR": str(data_dir / "mpl")},
    )  # fmt: skip
    out, err = child.communicate(timeout=300)
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


def test_two_processes_train_and_resume_bit_exact(tmp_path):
    data_dir = tmp_path / "data"
    rng = np.random.default_rng(0)
    for i in range(24):
        folder = data_dir / "clean" / KINDS[i % 2]
        folder.mkdir(parents=True, exist_ok=True)
        museum_photo(KINDS[i % 2], (48, 48), False, rng)[0].save(folder / f"{i}.jpg")

    first = train(data_dir, "--name", "split", "--steps", "10")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "10 steps on 24 images in 2 processes" in first.stdout
    assert first.stdout.count("train: 10 steps") == 1  # only rank 0 reports
    run = data_dir / "runs" / "split"
    state = checkpoint.load(run / "checkpoints" / "latest.pt")
    assert state["step"] == 10 and state["world_size"] == 2 and len(state["rng_by_rank"]) == 2
    assert not torch.equal(state["rng_by_rank"][0], state["rng_by_rank"][1])

    resumed = train(data_dir, "--name", "split", "--steps", "20", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    straight = train(data_dir, "--name", "straight", "--steps", "20")
    assert straight.returncode == 0, straight.stderr[-3000:]

    a = checkpoint.load(run / "checkpoints" / "latest.pt")
    b = checkpoint.load(data_dir / "runs" / "straight" / "checkpoints" / "latest.pt")
    assert a["step"] == b["step"] == 20
    for net in ("G", "D", "G_ema"):
        for key, tensor in b[net].items():
            assert torch.equal(a[net][key], tensor), f"{net}.{key}"
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 21))  # one writer, no lost or doubled lines
    assert (run / "samples" / "fakes000020.png").is_file()

    # Resuming with another process count is refused in one sentence.
    other = train(data_dir, "--name", "split", "--steps", "30", "--resume", "--nproc", "1")
    assert other.returncode == 1
    assert "resume it with the same --nproc" in other.stderr and "Traceback" not in other.stderr
