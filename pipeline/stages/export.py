"""Export stage: the clean dataset that training and other tools read.

`folder` (default): <out>/<class>/<source>_<object_id>_<n>.<ext> for every kept crop (ok, not a
non-representative duplicate, not rejected), and <out>/metadata.jsonl with one line per file.
`n` numbers all crops of one object by crop id, so names never shift when a sibling is
rejected: a rerun after more rejections removes exactly those files. Only files listed in the
previous metadata.jsonl are ever removed; originals and crops are never touched.

`stylegan2-ada`: <out>/dataset.zip laid out as StyleGAN2-ADA's dataset_tool.py writes it
(00000/img00000000.png, dataset.json with class labels, or null for one class).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image

from pipeline.atomic import atomic_path

METADATA = "metadata.jsonl"


def safe_name(text: str | None) -> str:
    """A file-name-safe version of an id or source name."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text or "").strip("-.")
    return cleaned[:80] or "x"


def plan(
    rows: list[dict[str, Any]], min_per_class: int = 0
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The files to export (with their metadata) and the classes dropped for being too small."""
    per_class = Counter(row["class_name"] for row in rows)
    dropped = {name: count for name, count in per_class.items() if count < min_per_class}
    files = []
    for row in rows:
        if row["class_name"] in dropped:
            continue
        suffix = Path(row["path"]).suffix
        name = f"{safe_name(row['class_name'])}/{safe_name(row['source'])}_{safe_name(row['object_id'] or str(row['item_id']))}_{row['n']}{suffix}"
        files.append(
            {
                "file": name,
                "class": row["class_name"],
                "source": row["source"],
                "object_id": row["object_id"],
                "url": row["url"],
                "page_url": row["page_url"],
                "license": row["license"],
                "title": row["title"],
                "sha256": row["sha256"],
                "box": [row["x0"], row["y0"], row["x1"], row["y1"]],
                "confidence": row["confidence"],
                "crop": row["path"],
            }
        )
    return files, dropped


def export_folder(files: list[dict[str, Any]], data_dir: Path, out: Path) -> dict[str, int]:
    """Make `out` hold exactly `files` (plus anything the user put there); return counts."""
    out.mkdir(parents=True, exist_ok=True)
    previous = {line["file"] for line in read_metadata(out)}
    wanted = {entry["file"] for entry in files}
    removed = 0
    for name in sorted(previous - wanted):
        target = out / name
        if target.is_file():
            target.unlink()
            removed += 1
    written = 0
    for entry in files:
        source, target = data_dir / entry["crop"], out / entry["file"]
        if target.is_file() and target.stat().st_size == source.stat().st_size:
            continue
        with atomic_path(target) as temp:
            shutil.copyfile(source, temp)
        written += 1
    with atomic_path(out / METADATA) as temp:
        temp.write_text(
            "".join(
                json.dumps({k: v for k, v in e.items() if k != "crop"}, sort_keys=True) + "\n"
                for e in sorted(files, key=lambda e: e["file"])  # stable whatever the crop ids
            )
        )
    for folder in sorted({(out / name).parent for name in previous - wanted}, reverse=True):
        if folder.is_dir() and folder != out and not any(folder.iterdir()):
            folder.rmdir()
    return {"files": len(files), "written": written, "removed": removed}


def read_metadata(out: Path) -> list[dict[str, Any]]:
    path = out / METADATA
    if not path.exists():
        return []
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def export_stylegan(files: list[dict[str, Any]], data_dir: Path, out: Path) -> Path:
    """dataset.zip as StyleGAN2-ADA's dataset_tool.py writes it; checks its hard requirements."""
    if not files:
        raise ValueError("nothing to export")
    classes = sorted({entry["class"] for entry in files})
    target = out / "dataset.zip"
    labels = []
    size = None
    with (
        atomic_path(target) as temp,
        zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_STORED) as archive,
    ):
        for index, entry in enumerate(files):
            with Image.open(data_dir / entry["crop"]) as image:
                image = image.convert("RGB")
            if image.width != image.height or image.width & (image.width - 1):
                raise ValueError(
                    f"{entry['crop']} is {image.width}x{image.height}; StyleGAN2-ADA needs square power-of-two images"
                )
            if size not in (None, image.size):
                raise ValueError(
                    f"{entry['crop']} is {image.size}, the others {size}: re-crop at one resolution"
                )
            size = image.size
            idx = f"{index:08d}"
            name = f"{idx[:5]}/img{idx}.png"
            buffer = io.BytesIO()
            image.save(buffer, "PNG", compress_level=0)
            archive.writestr(name, buffer.getvalue())
            labels.append([name, classes.index(entry["class"])])
        archive.writestr(
            "dataset.json", json.dumps({"labels": labels if len(classes) > 1 else None})
        )
    return target


def stylegan_command(zip_path: Path, resolution: int, count: int, conditional: bool) -> str:
    """The StyleGAN2-ADA training command people use on a few thousand images: transfer learning."""
    resume = {256: "ffhq256", 512: "ffhq512", 1024: "ffhq1024"}.get(resolution)
    cfg = "paper256" if resolution == 256 else ("paper512" if resolution == 512 else "auto")
    parts = [
        "python train.py --outdir=training-runs",
        f"--data={zip_path}",
        "--gpus=1",
        f"--cfg={cfg}",
        "--mirror=1",
        "--snap=10",
        "--kimg=1000" if count < 10000 else "--kimg=5000",
        "--metrics=kid50k_full",
    ]
    if conditional:
        parts.append("--cond=1")
    if resume:
        parts.append(f"--resume={resume}")
    return " ".join(parts)
