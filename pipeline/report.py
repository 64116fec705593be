"""The HTML report: one self-contained page that says what happened to the data.

It sits at <data dir>/report.html and links to crops and training images by relative path, so
the folder can be zipped and opened anywhere. Charts are inline SVG (no plotting dependency).
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:24px;color:#1d1d1f;background:#fafaf7}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#777}.grid{display:flex;flex-wrap:wrap;gap:6px}.grid img{width:96px;height:96px;object-fit:cover;
border-radius:4px;background:#eee}.cluster{display:flex;gap:6px;align-items:flex-end;margin:8px 0;padding:6px;
background:#fff;border:1px solid #e4e4e4;border-radius:6px}.cluster figure{margin:0;text-align:center;font-size:12px}
.cluster img{width:88px;height:88px;object-fit:cover;border:3px solid transparent;border-radius:4px}
.cluster .kept img{border-color:#2e8b57}table{border-collapse:collapse}td,th{padding:3px 12px 3px 0;text-align:left}
th{font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}.run img{max-width:100%;border-radius:4px}
"""


def write(data: dict[str, Any], data_dir: Path, out: Path | None = None) -> Path:
    """Render `data` (from Manifest.report_data) to <data dir>/report.html and return its path."""
    out = out or data_dir / "report.html"
    base = out.parent.resolve()
    run = latest_run(data_dir)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>vessel-curate report</title><style>{STYLE}</style></head><body>",
        "<h1>vessel-curate report</h1>",
        f"<p class='muted'>{html.escape(str(data_dir))} · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC</p>",
        "<h2>Funnel</h2>",
        bar_chart(list(data["funnel"].items()), color="#4a78b5"),
        "<h2>Failures by reason and source</h2>",
        failures_table(data["failures"]),
        "<h2>Classes (kept)</h2>",
        bar_chart(list(data["classes"].items()), color="#b5804a") if data["classes"] else empty(),
        "<h2>Detection confidence</h2>",
        histogram(data["confidences"]) if data["confidences"] else empty(),
        f"<h2>Kept crops (first {len(data['kept_sample'])})</h2>",
        image_grid(data["kept_sample"], data_dir, base),
        "<h2>Rejected by reason</h2>",
        rejected_section(data["rejected"], data["rejected_counts"], data_dir, base),
        "<h2>Largest duplicate clusters</h2>",
        clusters_section(data["duplicate_clusters"], data_dir, base),
        "<h2>Training</h2>",
        run_section(run, base),
        "</body></html>",
    ]
    out.write_text("\n".join(parts), encoding="utf-8")
    return out


def empty(text: str = "nothing yet") -> str:
    return f"<p class='muted'>{html.escape(text)}</p>"


def link(path: str | Path, data_dir: Path, base: Path) -> str:
    """A relative URL from the report's folder to a file given relative to the data dir."""
    return html.escape(Path(os.path.relpath(data_dir / path, base)).as_posix(), quote=True)


def bar_chart(
    pairs: Sequence[tuple[str, int | float]], color: str = "#4a78b5", width: int = 640
) -> str:
    """Horizontal bars with labels and values, as inline SVG."""
    if not pairs:
        return empty()
    row, label_w = 24, 130
    peak = max(value for _, value in pairs) or 1
    height = row * len(pairs) + 4
    bars = []
    for i, (label, value) in enumerate(pairs):
        y = i * row + 2
        w = max(1.0, (width - label_w - 70) * value / peak)
        bars.append(
            f"<text x='{label_w - 8}' y='{y + 16}' text-anchor='end' font-size='13'>{html.escape(str(label))}</text>"
            f"<rect x='{label_w}' y='{y + 3}' width='{w:.1f}' height='{row - 7}' fill='{color}' rx='2'/>"
            f"<text x='{label_w + w + 6:.1f}' y='{y + 16}' font-size='13'>{value}</text>"
        )
    return f"<svg width='{width}' height='{height}' role='img'>{''.join(bars)}</svg>"


def histogram(values: Sequence[float], bins: int = 20, width: int = 640, height: int = 160) -> str:
    """Counts of values in [0, 1] in equal bins, as inline SVG columns."""
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, max(0, int(value * bins)))] += 1
    peak = max(counts) or 1
    col = width / bins
    cols = []
    for i, count in enumerate(counts):
        h = (height - 24) * count / peak
        cols.append(
            f"<rect x='{i * col + 1:.1f}' y='{height - 20 - h:.1f}' width='{col - 2:.1f}' height='{h:.1f}' "
            f"fill='#6a9f58'><title>{i / bins:.2f}–{(i + 1) / bins:.2f}: {count}</title></rect>"
        )
    axis = "".join(
        f"<text x='{i * width / 4:.0f}' y='{height - 4}' font-size='11'>{i / 4:.2f}</text>"
        for i in range(4)
    )
    return f"<svg width='{width}' height='{height}' role='img'>{''.join(cols)}{axis}</svg>"


def failures_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return empty("no failures")
    body = "".join(
        f"<tr><td>{html.escape(r['stage'])}</td><td>{html.escape(str(r['reason']))}</td>"
        f"<td>{html.escape(str(r['source']))}</td><td class='n'>{r['n']}</td></tr>"
        for r in rows
    )
    return (
        f"<table><tr><th>stage</th><th>reason</th><th>source</th><th>items</th></tr>{body}</table>"
    )


def image_grid(paths: Sequence[str], data_dir: Path, base: Path) -> str:
    if not paths:
        return empty()
    tiles = "".join(
        f"<img loading='lazy' src='{link(p, data_dir, base)}' alt=''>" for p in paths if p
    )
    return f"<div class='grid'>{tiles}</div>"


def rejected_section(
    rejected: dict[str, list[str]], counts: dict[str, int], data_dir: Path, base: Path
) -> str:
    if not rejected:
        return empty("no rejections yet (curate review)")
    return "".join(
        f"<h3>{html.escape(reason)} <span class='muted'>({counts.get(reason, len(paths))})</span></h3>"
        + image_grid(paths, data_dir, base)
        for reason, paths in rejected.items()
    )


def clusters_section(clusters: list[list[dict[str, Any]]], data_dir: Path, base: Path) -> str:
    if not clusters:
        return empty("no near-duplicates found")
    out = []
    for members in clusters:
        figures = "".join(
            f"<figure class='{'kept' if m['kept'] else ''}'><img loading='lazy' src='{link(m['path'], data_dir, base)}' alt=''>"
            f"<figcaption>{'kept' if m['kept'] else 'duplicate'}</figcaption></figure>"
            for m in members
        )
        out.append(f"<div class='cluster'>{figures}</div>")
    return "".join(out)


def latest_run(data_dir: Path) -> Path | None:
    runs = [p for p in (data_dir / "runs").glob("*") if p.is_dir()]
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None


def run_section(run: Path | None, base: Path) -> str:
    if run is None:
        return empty("no training run yet (curate train)")
    grids = sorted(run.glob("fakes*.png")) or sorted(run.glob("samples/*.png"))
    images = [grids[-1]] if grids else []
    images += [p for p in (run / "losses.png", run / "loss.png") if p.exists()][:1]
    if not images:
        return empty(f"run {run.name} has no sample grid yet")
    tags = "".join(
        f"<figure><img src='{link(p, base, base)}' alt=''>"
        f"<figcaption class='muted'>{html.escape(p.name)}</figcaption></figure>"
        for p in images
    )
    return f"<div class='run'><p>run <b>{html.escape(run.name)}</b></p>{tags}</div>"
