"""Read image URLs (or local image files) from the three kinds of input people already have.

- JSONL as the spiders write it: one {source, object_id, url, page_url, title, license, ...} per line;
- a plain text list of URLs, one per line (`#` comments and blank lines are skipped);
- a folder of images (own photos): the provenance is the file path.

Rows come out in batches for the caller to store; every bad line becomes a `Problem` naming the
file and line, and reading goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.stages import ITEM_FIELDS

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


def check_url(url: object) -> str | None:
    """Why `url` cannot be fetched, or None when it is an absolute http(s) URL."""
    if not isinstance(url, str) or not url.strip():
        return "no url"
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return f"not an http(s) URL ({parts.scheme or 'no scheme'})"
    if not parts.netloc:
        return "URL has no host"
    return None


def read(path: Path, source: str | None = None) -> Iterator[dict | Problem]:
    """Rows and problems from one input path, whichever of the three kinds it is."""
    if path.is_dir():
        yield from read_folder(path, source)
    elif path.suffix.lower() in JSONL_SUFFIXES:
        yield from read_jsonl(path, source)
    else:
        yield from read_url_list(path, source)


def read_jsonl(path: Path, source: str | None = None) -> Iterator[dict | Problem]:
    default_source = source or path.stem
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                yield Problem(str(path), number, "not valid JSON")
                continue
            if not isinstance(record, dict):
                yield Problem(str(path), number, "not a JSON object")
                continue
            if reason := check_url(record.get("url")):
                yield Problem(str(path), number, reason)
                continue
            row = {name: _text(record.get(name)) for name in ITEM_FIELDS}
            row["url"] = record["url"].strip()
            row["source"] = row["source"] or default_source
            yield row


def read_url_list(path: Path, source: str | None = None) -> Iterator[dict | Problem]:
    default_source = source or path.stem
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            url = line.strip()
            if not url or url.startswith("#"):
                continue
            if reason := check_url(url):
                yield Problem(str(path), number, reason)
                continue
            yield {"source": default_source, "url": url}


def read_folder(path: Path, source: str | None = None) -> Iterator[dict | Problem]:
    root = path.resolve()
    default_source = source or root.name
    for file in sorted(root.rglob("*")):
        if file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES:
            relative = file.relative_to(root).as_posix()
            yield {
                "source": default_source,
                "object_id": relative,
                "url": file.as_uri(),  # unique key; the file itself is read from local_path
                "local_path": str(file),
                "title": file.stem,
            }


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)
