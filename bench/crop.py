"""Crop benchmark: the same 1600 px JPEGs to 256 px squares three ways, in one run.

- curate: the crop stage (draft-mode JPEG decoding, Lanczos resize, white pad, provenance in EXIF);
- ImageMagick: `convert in.jpg -resize 256x256 -background white -gravity center -extent 256x256`,
  one process per file, as people scripted it;
- naive Pillow: open, full decode, resize, pad, save — the loop people write first.
Ratios (higher = curate faster) go to bench/results/crop.json; the last line prints them.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from common import make_photos, timed, write
from PIL import Image

from pipeline.config import CropSettings
from pipeline.stages.crop import Cropper

COUNT, SIZE = 80, 256


def imagemagick() -> list[str]:
    for name in ("magick", "convert-im6.q16", "convert"):
        found = shutil.which(name)
        if (
            found
            and "ImageMagick"
            in subprocess.run([found, "-version"], capture_output=True, text=True).stdout
        ):
            return [found] if name != "magick" else [found, "convert"]
    raise SystemExit("ImageMagick not found: apt-get install imagemagick (make bench-crop does)")


def run_curate(paths: list[Path], data_dir: Path) -> None:
    stage = Cropper(CropSettings(margin=0.0), SIZE, data_dir, 10**9)
    items = [
        {
            "id": i,
            "item_id": i,
            "path": p.name,
            "class_name": "vase",
            "confidence": 1.0,
            "x0": 0,
            "y0": 0,
            "x1": 1600,
            "y1": 1200,
            "width": 1600,
            "height": 1200,
            "source": "bench",
        }
        for i, p in enumerate(paths)
    ]
    results = list(stage.process(items))
    assert all(r.ok for r in results)


def run_imagemagick(paths: list[Path], out: Path) -> None:
    command = imagemagick()
    out.mkdir()
    for path in paths:
        subprocess.run(
            [
                *command,
                str(path),
                "-resize",
                f"{SIZE}x{SIZE}",
                "-background",
                "white",
                "-gravity",
                "center",
                "-extent",
                f"{SIZE}x{SIZE}",
                str(out / path.name),
            ],
            check=True,
        )


def run_naive(paths: list[Path], out: Path) -> None:
    out.mkdir()
    for path in paths:
        image = Image.open(path).convert("RGB")
        image.thumbnail((SIZE, SIZE), Image.LANCZOS)
        canvas = Image.new("RGB", (SIZE, SIZE), "white")
        canvas.paste(image, ((SIZE - image.width) // 2, (SIZE - image.height) // 2))
        canvas.save(out / path.name, quality=95)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-crop-"))
    paths = make_photos(work, COUNT)
    t_curate, _ = timed(run_curate, paths, work)
    t_magick, _ = timed(run_imagemagick, paths, work / "magick")
    t_naive, _ = timed(run_naive, paths, work / "naive")
    data = {
        "images": COUNT,
        "input": "1600x1200 JPEG",
        "output": f"{SIZE}x{SIZE}",
        "images_per_second": {
            "curate": COUNT / t_curate,
            "imagemagick_per_file": COUNT / t_magick,
            "naive_pillow": COUNT / t_naive,
        },
        "ratio_vs_imagemagick": t_magick / t_curate,
        "ratio_vs_naive_pillow": t_naive / t_curate,
        "targets": {"vs_imagemagick": 10.0, "vs_naive_pillow": 1.5},
    }
    write("crop", data)
    shutil.rmtree(work, ignore_errors=True)
    print(
        f"crop: curate/imagemagick {data['ratio_vs_imagemagick']:.1f}x, curate/naive-pillow {data['ratio_vs_naive_pillow']:.1f}x"
    )


if __name__ == "__main__":
    main()
