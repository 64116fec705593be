"""Download benchmark: `curate ingest` + `curate download` vs img2dataset vs a sequential
requests loop, on the same URLs from a local server (synthetic 800-1600 px JPEGs of 100-300 KB,
2 % errors), at 0 and 50 ms latency. Same thread budget: curate 32 threads in one process,
img2dataset 2 processes × 16 threads (it is installed in its own venv, bench/.venv-img2dataset,
by `make bench-download`). Reports images/s, the ratio curate/img2dataset, success counts and
peak RSS; results in bench/results/download.json, the ratios on the last line.

    python bench/download.py [--n 2000] [--rss-n 20000]
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import ROOT, write
from PIL import Image
from servers.base import ReplayServer, Response

I2D_VENV = ROOT / "bench" / ".venv-img2dataset"


def base_images(count: int = 40) -> list[bytes]:
    from detector.scenes import KINDS, museum_photo

    out = []
    for i in range(count):
        rng = np.random.default_rng([7, i])
        side = int(rng.integers(800, 1601))
        image, _ = museum_photo(KINDS[i % 4], (side, int(side * rng.uniform(0.7, 1.0))), True, rng)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=int(rng.integers(93, 99)))
        out.append(buffer.getvalue())
    return out


def unique(jpeg: bytes, tag: int) -> bytes:
    """The same picture with a JPEG comment segment: other bytes, same pixels."""
    text = f"bench {tag}".encode()
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


def make_app(images: list[bytes], latency: float):
    def app(request):
        if latency:
            time.sleep(latency)
        number = int(request.path.strip("/").split(".")[0] or 0)
        if number % 50 == 7:
            return Response(404)
        if number % 50 == 23:
            return Response(500)
        return Response(
            200, unique(images[number % len(images)], number), {"Content-Type": "image/jpeg"}
        )

    return app


def run(command: list[str], cwd: Path | None = None) -> tuple[float, int, int]:
    """(seconds, exit code, peak RSS in MB of the process tree it waited for)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - started, os.waitstatus_to_exitcode(status), usage.ru_maxrss // 1024


def curate_run(urls: Path, work: Path) -> dict:
    config = work / "sources.yaml"
    config.write_text("pipeline:\n  download: {concurrency: 32, per_host: 32, retries: 0}\n")
    base = [
        sys.executable,
        "-m",
        "pipeline.cli",
        "--config",
        str(config),
        "--data-dir",
        str(work / "curate"),
        "-q",
    ]
    seconds_ingest, code1, rss1 = run([*base, "ingest", str(urls)], ROOT)
    seconds, code2, rss2 = run([*base, "download"], ROOT)
    ok = sum(1 for p in (work / "curate" / "raw").rglob("*.jpg"))
    return {
        "seconds": seconds_ingest + seconds,
        "ok": ok,
        "exit": code1 or code2,
        "peak_rss_mb": max(rss1, rss2),
    }


def img2dataset_run(urls: Path, work: Path) -> dict | None:
    binary = I2D_VENV / "bin" / "img2dataset"
    if not binary.exists():
        return None
    out = work / "i2d"
    seconds, code, rss = run(
        [
            str(binary),
            "--url_list",
            str(urls),
            "--input_format",
            "txt",
            "--output_folder",
            str(out),
            "--output_format",
            "files",
            "--resize_mode",
            "no",
            "--processes_count",
            "2",
            "--thread_count",
            "16",
            "--timeout",
            "10",
            "--retries",
            "0",
            "--disallowed_header_directives",
            "[]",
            "--enable_wandb",
            "False",
        ]
    )
    ok = sum(1 for _ in out.rglob("*.jpg"))
    return {"seconds": seconds, "ok": ok, "exit": code, "peak_rss_mb": rss}


def sequential_run(urls: list[str], work: Path) -> dict:
    import requests

    out = work / "seq"
    out.mkdir()
    started, ok = time.perf_counter(), 0
    with requests.Session() as session:
        for i, url in enumerate(urls):
            response = session.get(url, timeout=10)
            if response.ok:
                Image.open(io.BytesIO(response.content)).verify()
                (out / f"{i}.jpg").write_bytes(response.content)
                ok += 1
    return {"seconds": time.perf_counter() - started, "ok": ok, "urls": len(urls)}


def bench(n: int, latency: float, images: list[bytes], sequential_sample: int) -> dict:
    with ReplayServer(make_app(images, latency)) as server, tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        urls = [f"{server.url}/{i}.jpg" for i in range(n)]
        listing = work / "urls.txt"
        listing.write_text("\n".join(urls) + "\n")
        ours = curate_run(listing, work)
        theirs = img2dataset_run(listing, work)
        floor = sequential_run(urls[:sequential_sample], work)
    result = {
        "n": n,
        "latency_ms": latency * 1000,
        "curate": ours,
        "img2dataset": theirs,
        "sequential_requests": floor,
    }
    ours["images_per_second"] = ours["ok"] / ours["seconds"]
    floor["images_per_second"] = floor["ok"] / floor["seconds"]
    if theirs:
        theirs["images_per_second"] = theirs["ok"] / theirs["seconds"]
        result["ratio_curate_vs_img2dataset"] = (
            ours["images_per_second"] / theirs["images_per_second"]
        )
    result["ratio_curate_vs_sequential"] = ours["images_per_second"] / floor["images_per_second"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument(
        "--rss-n", type=int, default=0, help="also measure curate's peak RSS at this N (latency 0)"
    )
    args = parser.parse_args()
    images = base_images()
    sizes = [len(b) // 1000 for b in images]
    runs = [bench(args.n, latency, images, sequential_sample=200) for latency in (0.0, 0.05)]
    data = {"image_kb": {"min": min(sizes), "max": max(sizes)}, "runs": runs}
    if args.rss_n:
        with ReplayServer(make_app(images, 0.0)) as server, tempfile.TemporaryDirectory() as folder:
            listing = Path(folder) / "urls.txt"
            listing.write_text("".join(f"{server.url}/{i}.jpg\n" for i in range(args.rss_n)))
            data["rss_run"] = {"n": args.rss_n, **curate_run(listing, Path(folder))}
    write("download", data)
    ratios = ", ".join(
        f"{r['latency_ms']:.0f} ms: curate/img2dataset {r.get('ratio_curate_vs_img2dataset', float('nan')):.2f}x (ok {r['curate']['ok']} vs {r['img2dataset']['ok'] if r['img2dataset'] else '-'})"
        for r in runs
    )
    print(f"download: {ratios}")


if __name__ == "__main__":
    main()
