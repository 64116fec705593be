"""Files appear whole or not at all: write to a temporary name beside the target, then rename.

A run killed mid-write leaves only a `.part-*` file, which the next run of the same stage
removes (`clean_partial`) before it starts; stages of one kind do not run concurrently on one
data dir.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = ".part-"


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it becomes `target` in one rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=PREFIX, suffix=target.suffix)
    os.close(handle)
    try:
        yield Path(temp)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def clean_partial(folder: Path) -> int:
    """Remove the leftovers of killed writes below `folder`; return how many there were."""
    leftovers = list(folder.rglob(PREFIX + "*")) if folder.exists() else []
    for path in leftovers:
        path.unlink(missing_ok=True)
    return len(leftovers)
