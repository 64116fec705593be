"""The GAN trainer on CPU at 32 px: run files, bit-exact resume, generate, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from detector.scenes import KINDS, museum_photo
from PIL import Image

from pipeline.train.data import load_folder
from pipeline.train.loop import TrainConfig, Trainer

TINY = ["--resolution", "32", "--batch", "8", "--width", "8", "--deterministic"]


@pytest.fixture(autouse=True)
def matplotlib_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))


@pytest.fixture
def clean(data_dir):
    rng = np.random.default_rng(0)
    for i in range(24):
        folder = data_dir / "clean" / KINDS[i % 2]
        folder.mkdir(parents=True, exist_ok=True)
        image, _ = museum_photo(KINDS[i % 2], (48, 48), False, rng)
        image.save(folder / f"{i}.jpg")
    return data_dir / "clean"


def test_twenty_steps_write_every_run_file(curate, clean, data_dir):
    (clean / "vase" / "notes.txt").write_text("not an image")
    (clean / "vase" / "broken.jpg").write_bytes(b"\xff\xd8 nope")
    Image.new("L", (40, 40), 128).save(clean / "vase" / "gray.png")  # grayscale into an RGB run
    result = curate("train", "--name", "t", "--steps", "20", "--sample-every", "10", *TINY)
    assert result.exit_code == 0, result.output
    assert "skipped 1 files" in result.output and "25 images" in result.output
    run = data_dir / "runs" / "t"
    for name in (
        "config.json",
        "checkpoints/latest.pt",
        "samples/fakes000010.png",
        "samples/fakes000020.png",
        "progress.gif",
        "losses.png",
        "reals.png",
    ):
        assert (run / name).is_file(), name
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 21))
    assert all(np.isfinite(v) for r in rows for v in r.values())
    with Image.open(run / "samples/fakes000020.png") as grid:
        assert grid.size == (8 * 32, 8 * 32)
    again = curate("train", "--name", "t", "--steps", "30", *TINY)
    assert again.exit_code != 0 and "add --resume" in again.output


@pytest.mark.parametrize("loss", ["ns-r1", "wgan-gp", "hinge"])
def test_resume_is_bit_exact(clean, tmp_path, loss):
    data = load_folder(clean, 32)

    def config(steps):
        return TrainConfig(
            resolution=32,
            steps=steps,
            batch=4,
            width=8,
            loss=loss,
            r1_every=2,
            n_critic=2,
            sample_every=100,
            checkpoint_every=100,
            deterministic=True,
        )

    straight = Trainer(config(6), data, tmp_path / "a", quiet=True)
    straight.run()
    first = Trainer(config(3), data, tmp_path / "b", quiet=True)
    first.run()
    from pipeline.train import checkpoint

    resumed = Trainer(config(6), data, tmp_path / "b", quiet=True)
    resumed.restore(checkpoint.load(tmp_path / "b" / "checkpoints" / "latest.pt"))
    resumed.run()
    for name in ("G", "D", "G_ema"):
        for (key, a), (_, b) in zip(
            getattr(straight, name).state_dict().items(),
            getattr(resumed, name).state_dict().items(),
            strict=True,
        ):
            assert torch.equal(a, b), f"{name}.{key} differs"
    changed = Trainer(config(6), data, tmp_path / "c", quiet=True)
    assert not torch.equal(
        next(changed.G.parameters()), next(straight.G.parameters())
    )  # training did something


def test_cli_resume_and_generate(curate, clean, data_dir):
    assert curate("train", "--name", "r", "--steps", "4", *TINY).exit_code == 0
    resumed = curate("train", "--name", "r", "--steps", "8", "--resume", *TINY)
    assert resumed.exit_code == 0, resumed.output
    assert "8 steps" in resumed.output
    made = curate("generate", "--run", "r", "--n", "5", "--grid")
    assert made.exit_code == 0, made.output
    files = sorted((data_dir / "runs/r/generated").glob("seed*.png"))
    assert len(files) == 5
    assert all(Image.open(f).size == (32, 32) for f in files)
    assert (data_dir / "runs/r/generated/grid.png").exists()
    report = curate("train", "report", "--run", "r")
    assert report.exit_code == 0, report.output
    assert (data_dir / "runs/r/nearest.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resolution", "48"], "power of two from 32 to 256"),
        (["--data", "/nonexistent/folder"], "no image folder at /nonexistent/folder"),
        (["--augment", "colour"], "--augment: unknown colour"),
    ],
)
def test_bad_input_is_one_sentence(curate, clean, args, message):
    result = curate("train", "--steps", "2", *args)
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output


def test_empty_folder(curate, data_dir):
    (data_dir / "clean").mkdir()
    (data_dir / "clean" / "x.txt").write_text("")
    result = curate("train", "--steps", "2")
    assert result.exit_code == 1 and "no readable images" in result.output


def test_generate_without_a_run(curate):
    result = curate("generate", "--run", "nope")
    assert result.exit_code == 1 and "no trained run 'nope'" in result.output


def test_fid_with_a_feature_network_from_a_file(curate, clean, data_dir, tmp_path):
    """FID needs a feature network given by path; here a small scripted one stands in for Inception."""
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, 2),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(2),
        torch.nn.Flatten(),
    )
    path = tmp_path / "features.pt"
    torch.jit.script(net).save(str(path))
    result = curate(
        "train", "--name", "f", "--steps", "4", "--fid-every", "2", "--inception", str(path), *TINY
    )
    assert result.exit_code == 0, result.output
    rows = [
        json.loads(line) for line in (data_dir / "runs/f/metrics.jsonl").read_text().splitlines()
    ]
    fids = [r["fid"] for r in rows if "fid" in r]
    assert [r["step"] for r in rows if "fid" in r] == [2, 4]
    assert all(np.isfinite(f) and f > 0 for f in fids)
