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
SCROLL = """async () => {
  const box = document.querySelector('#viewport') || document.scrollingElement;
  const frames = [];
  let last = performance.now();
  const end = box.scrollHeight - box.clientHeight;
  for (let i = 1; i <= 120; i++) {
    box.scrollTop = end * i / 120;
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
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        started = time.perf_counter()
        page.goto(server.login_url)
        page.wait_for_selector("body[data-ready='1'] .tile img")
        page.wait_for_function("document.querySelector('.tile img').complete")
        ours_first = time.perf_counter() - started
        ours_scroll = page.evaluate(SCROLL)
        naive_page = browser.new_page(viewport={"width": 1280, "height": 800})
        started = time.perf_counter()
        naive_page.goto(naive.as_uri())
        naive_page.wait_for_function("document.images[0].complete")
        naive_first = time.perf_counter() - started
        naive_scroll = naive_page.evaluate(SCROLL)
        browser.close()
    shutil.rmtree(work, ignore_errors=True)
    data = {
        "crops": COUNT,
        "curate": {"first_screen_seconds": ours_first, "scroll": ours_scroll},
        "naive_lazy_img_page": {"first_screen_seconds": naive_first, "scroll": naive_scroll},
        "ratio_first_screen_naive_vs_curate": naive_first / ours_first,
        "target_first_screen_seconds": 1.0,
    }
    write("review", data)
    print(
        f"review: first screen {ours_first:.2f} s (naive page {naive_first:.2f} s); slow frames while scrolling {ours_scroll['slow']}/{ours_scroll['frames']} (naive {naive_scroll['slow']}/{naive_scroll['frames']})"
    )


if __name__ == "__main__":
    main()
