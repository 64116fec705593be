"""Shared test helpers: run the real `curate` CLI in-process or as a subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from testkit import write_config

from pipeline.cli import cli


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def curate(data_dir: Path, tmp_path: Path):
    """Invoke `curate` in-process with a private data dir; returns click's Result."""
    runner = CliRunner()

    def invoke(*args: str, config: Path | None = None):
        base = ["--data-dir", str(data_dir)]
        base += ["--config", str(config)] if config else ["--config", str(write_config(tmp_path))]
        return runner.invoke(cli, [*base, *args], catch_exceptions=False)

    return invoke
