"""Helpers shared by tests (importable as `testkit`; pytest puts tests/ on sys.path)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_config(folder: Path, text: str = "sources: []\n") -> Path:
    path = folder / "sources.yaml"
    if not path.exists():
        path.write_text(text, encoding="utf-8")
    return path


def curate_subprocess(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    """Start the real console entry point in a child process (for kill tests)."""
    return subprocess.Popen(
        [sys.executable, "-c", "from pipeline.cli import main; main()", *args],
        env={**os.environ, **(env or {})},
        **kwargs,
    )


def chromium_args(profile: Path) -> list[str]:
    """Flags for Debian's headless Chromium on a closed network, as root, with a fresh profile."""
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]
