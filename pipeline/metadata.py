"""Provenance inside every crop, so a file that leaves the dataset still says where it came from.

JPEG: EXIF through piexif — ImageDescription (title), Artist (source), Copyright (licence) and
UserComment holding the whole record as JSON. PNG: the same as text chunks. `read` gets it back
from either, for `curate inspect FILE`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import piexif
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from pipeline.atomic import atomic_path

# EXIF UserComment starts with an 8-byte character-code prefix; ASCII keeps every reader happy.
ASCII_PREFIX = b"ASCII\x00\x00\x00"


def save_with_provenance(
    image: Image.Image, path: Path, provenance: dict[str, Any], quality: int = 95
) -> None:
    """Write `image` to `path` (JPEG or PNG by suffix) with `provenance` inside, atomically."""
    record = json.dumps(provenance, ensure_ascii=True, sort_keys=True, default=str)
    with atomic_path(path) as temp:
        if path.suffix.lower() == ".png":
            info = PngInfo()
            for key, value in _visible_fields(provenance).items():
                info.add_itxt(key, value)
            info.add_itxt("provenance", record)
            image.save(temp, "PNG", pnginfo=info)
        else:
            tags = {
                "Title": piexif.ImageIFD.ImageDescription,
                "Artist": piexif.ImageIFD.Artist,
                "Copyright": piexif.ImageIFD.Copyright,
            }
            exif = {
                "0th": {
                    tags[key]: value.encode("utf-8")
                    for key, value in _visible_fields(provenance).items()
                },
                "Exif": {piexif.ExifIFD.UserComment: ASCII_PREFIX + record.encode("ascii")},
            }
            image.save(temp, "JPEG", quality=quality, exif=piexif.dump(exif))


def _visible_fields(provenance: dict[str, Any]) -> dict[str, str]:
    """The fields ordinary image viewers show: title, source (as Artist) and licence."""
    fields = {
        "Title": provenance.get("title"),
        "Artist": provenance.get("source"),
        "Copyright": provenance.get("license"),
    }
    return {key: str(value) for key, value in fields.items() if value}


def read(path: Path) -> dict[str, Any] | None:
    """The provenance record written into `path`, or None if it carries none."""
    try:
        with Image.open(path) as image:
            if image.format == "PNG":
                text = image.text.get("provenance") if hasattr(image, "text") else None
                return json.loads(text) if text else None
            if image.format != "JPEG" or "exif" not in image.info:
                return None
            exif = piexif.load(image.info["exif"])
    except (OSError, ValueError, json.JSONDecodeError):
        return None
    comment = exif.get("Exif", {}).get(piexif.ExifIFD.UserComment)
    if not comment:
        return None
    try:
        return json.loads(comment[len(ASCII_PREFIX) :].decode("ascii"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
