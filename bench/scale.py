"""Scale benchmark: the local engine against the Ray engine on this machine, and an estimate of
1,000,000 images on N GPU nodes built from the per-image costs measured here.

The same generated photos (1200x900 JPEG, one vessel each) are ingested as a folder source into
two data dirs; `curate run --json` goes through the local engine in one and `--engine ray` (a
local Ray on this machine's cores) in the other. The ratio ray/local per stage is Ray's
overhead on one node: task scheduling, pickling items and results, actor start-up. Ray's own
start-up is timed apart. Results in bench/results/scale.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, make_photos, write

COUNT = int(os.environ.get("BENCH_SCALE_N", "600"))
MODEL = ROOT / "tests" / "detector" / "tiny-vessels.pt"
CONFIG = """
pipeline:
  resolution: 256
  classes: [vase, cup, bowl, cake]
  detector: {{kind: yolo, model: {model}, imgsz: 320, batch: 16, conf: 0.3}}
"""
# Assumptions for the estimate, stated rather than measured (no GPU or cluster here).
NODE_CORES = 8  # CPU cores per GPU node
GPU_IMAGES_PER_S = 400  # yolo11n, 640 px, fp16, batch 32 on one T4-class GPU, model time only
HOST_CONNECTIONS = 8  # download.per_host: connections to one museum, cluster-wide
MUSEUM_RESPONSE_S = 0.3  # a typical IIIF image response (full size, 100-300 KB)


def curate(data_dir: Path, config: Path, *args: str) -> tuple[float, str]:
    command = [sys.executable, "-m", "pipeline.cli", "--config", str(config)]
    command += ["--data-dir", str(data_dir), "-q", *args]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        sys.exit(f"bench: {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started, done.stdout


def run_engine(engine: str, photos: Path, config: Path, work: Path) -> dict:
    data_dir = work / engine
    curate(data_dir, config, "ingest", str(photos), "--source", "bench")
    wall, out = curate(data_dir, config, "run", "--json", "--engine", engine)
    report = json.loads(out[out.index("{") :])
    stages = {s["stage"]: s for s in report["stages"]}
    stage_seconds = sum(s["seconds"] for s in stages.values())
    return {
        "wall_seconds": round(wall, 2),
        "stage_seconds": {name: s["seconds"] for name, s in stages.items()},
        "stages_total_seconds": round(stage_seconds, 2),
        # What is not a stage: interpreter and torch import, Ray start-up, export.
        "startup_and_export_seconds": round(wall - stage_seconds, 2),
        "statuses": {name: s["statuses"] for name, s in stages.items()},
    }


def detect_cpu_side(photos: Path, sample: int = 100) -> float:
    """Core-seconds per image of what detection leaves to the CPU: decode at imgsz, letterbox."""
    from pipeline.imaging import open_image
    from pipeline.stages.detect import letterbox

    paths = sorted(photos.glob("*.jpg"))[:sample]
    started = time.process_time()
    for path in paths:
        letterbox(open_image(path, 10**9, min_side=640).image.convert("RGB"), 640)
    return (time.process_time() - started) / len(paths)


def estimate(local: dict, cores: int, photos: Path) -> dict:
    """Hours for 1M images on N nodes, from this machine's per-image costs in core-seconds."""
    per_image = {name: seconds * cores / COUNT for name, seconds in local["stage_seconds"].items()}
    # Detection on a GPU node: the model runs on the GPU, decoding and letterboxing on the CPU
    # cores; whichever is slower sets the pace.
    per_image["detect_cpu_side"] = detect_cpu_side(photos)
    table = {}
    for nodes in (1, 4, 16, 64):
        cpu = nodes * NODE_CORES
        fetch_cpu = per_image["download"] / cpu  # decode, hash, store: the floor with many sources
        polite = MUSEUM_RESPONSE_S / HOST_CONNECTIONS  # one museum at the politeness limit
        detect = max(per_image["detect_cpu_side"] / cpu, 1 / (GPU_IMAGES_PER_S * nodes))
        crop = per_image["crop"] / cpu
        dedupe = per_image["dedupe"] / cores  # hashing (and the search) run on the driver
        table[nodes] = {
            "download_one_museum_h": round(1e6 * max(fetch_cpu, polite) / 3600, 2),
            "download_cpu_side_h": round(1e6 * fetch_cpu / 3600, 2),
            "detect_h": round(1e6 * detect / 3600, 2),
            "crop_h": round(1e6 * crop / 3600, 2),
            "dedupe_hashing_h": round(1e6 * dedupe / 3600, 2),
        }
    return {
        "per_image_core_seconds": {k: round(v, 4) for k, v in per_image.items()},
        "assumptions": {
            "node_cores": NODE_CORES,
            "gpu_images_per_second": GPU_IMAGES_PER_S,
            "per_host_connections": HOST_CONNECTIONS,
            "museum_response_seconds": MUSEUM_RESPONSE_S,
        },
        "hours_for_1M_images_by_nodes": table,
    }


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    photos = work / "photos"
    make_photos(photos, COUNT, size=(1200, 900))
    config = work / "sources.yaml"
    config.write_text(CONFIG.format(model=MODEL))
    cores = os.cpu_count() or 1
    local = run_engine("local", photos, config, work)
    ray = run_engine("ray", photos, config, work)
    assert local["statuses"] == ray["statuses"], "the engines disagree"
    ratios = {
        name: round(ray["stage_seconds"][name] / max(seconds, 1e-9), 2)
        for name, seconds in local["stage_seconds"].items()
    }
    data = {
        "images": COUNT,
        "input": "1200x900 JPEG from a folder source (no network)",
        "baseline": "the local engine, same images, same run",
        "local": local,
        "ray": ray,
        "ratio_ray_vs_local_by_stage": ratios,
        "ratio_ray_vs_local_wall": round(ray["wall_seconds"] / local["wall_seconds"], 2),
        "estimate": estimate(local, cores, photos),
    }
    path = write("scale", data)
    print(
        json.dumps({k: data[k] for k in ("ratio_ray_vs_local_by_stage", "ratio_ray_vs_local_wall")})
    )
    print(f"bench: results in {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
