"""Review page benchmark at 50,000 crops, in headless Chromium: time to first screen and
smoothness while scrolling through the whole grid (frames longer than 50 ms, from
requestAnimationFrame timestamps), against a naive page holding one lazy <img> per crop.
Results in bench/results/review.json.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from common import write

from pipeline.review.server import ReviewServer

COUNT = 50_000
# Two ways through the grid: `smooth` moves a quarter screen per frame (fast wheel scrolling),
# `jump` crosses the whole grid in 120 frames (dragging the scrollbar): every frame a new screen.
SCROLL = """async (mode) => {
  const box = document.querySelector('#viewport') || document.scrollingElement;
  const frames = [];
  let last = performance.now();
  const end = box.scrollHeight - box.clientHeight;
  for (let i = 1; i <= 120; i++) {
    box.scrollTop = mode === 'jump' ? end * i / 120 : i * box.clientHeight / 4;
    await new Promise(r => requestAnimationFrame(r));
    const now = performance.now(); frames.push(now - last); last = now;
  }
  return {frames: frames.length, slow: frames.filter(f => f > 50).length, worst: Math.max(...frames), tiles: document.querySelectorAll('.tile').length};
}"""


def main() -> None:
    from playwright.sync_api import sync_playwright
    from testkit import chromium_args, seed_review

    work = Path(tempfile.mkdtemp(prefix="bench-review-"))
    seed_review(work, COUNT)
    naive = work / "naive.html"
    naive.write_text(
        "<html><body>"
        + "".join(
            f"<img loading=lazy width=132 height=132 src='crops/64/{i}.jpg'>"
            for i in range(1, COUNT + 1)
        )
        + "</body></html>"
    )
    with ReviewServer(work / "curate.db", work) as server, sync_playwright() as playwright:
        args = [
            a
            for a in chromium_args(work / "profile")
            if not a.startswith(("--headless", "--user-data-dir"))
        ]
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=args)
        loads, complete = [], []
        for _ in range(3):  # the median of three loads: the machine is shared
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            started = time.perf_counter()
            page.goto(server.login_url)
            page.wait_for_selector("body[data-ready='1'] .tile img")
            page.wait_for_function("document.querySelector('.tile img').complete")
            loads.append(time.perf_counter() - started)
            page.wait_for_selector("body[data-complete='1']")
            complete.append(time.perf_counter() - started)
        ours_first, ours_complete = sorted(loads)[1], sorted(complete)[1]
        ours_scroll = {mode: page.evaluate(SCROLL, mode) for mode in ("smooth", "jump")}
        naive_page = browser.new_page(viewport={"width": 1280, "height": 800})
        started = time.perf_counter()
        naive_page.goto(naive.as_uri())
        naive_page.wait_for_function("document.images[0].complete")
        naive_first = time.perf_counter() - started
        naive_scroll = {mode: naive_page.evaluate(SCROLL, mode) for mode in ("smooth", "jump")}
        browser.close()
    shutil.rmtree(work, ignore_errors=True)
    data = {
        "crops": COUNT,
        "curate": {
            "first_screen_seconds": ours_first,
            "first_screen_loads": loads,
            "all_50000_loaded_seconds": ours_complete,
            "scroll": ours_scroll,
        },
        "naive_lazy_img_page": {"first_screen_seconds": naive_first, "scroll": naive_scroll},
        "ratio_first_screen_naive_vs_curate": naive_first / ours_first,
        "target_first_screen_seconds": 1.0,
    }
    write("review", data)
    slow = ", ".join(
        f"{m} {ours_scroll[m]['slow']}/120 (naive {naive_scroll[m]['slow']}/120)"
        for m in ("smooth", "jump")
    )
    print(
        f"review: first screen {ours_first:.2f} s (naive page {naive_first:.2f} s); frames over 50 ms: {slow}"
    )


if __name__ == "__main__":
    main()
