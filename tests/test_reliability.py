"""The web's garbage and kills at random moments: every bad input is a status with a reason, good
items still come through, and a killed `curate run` resumes to exactly the uninterrupted result.

Results go to bench/results/reliability.json (kinds tried, crashes, lost items).
"""

from __future__ import annotations

import hashlib
import json
import random
import signal
import socket
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from detector.scenes import KINDS, museum_photo
from servers import garbage
from servers.base import ReplayServer, Response
from testkit import ROOT, curate_subprocess

from pipeline.manifest import Manifest

TINY_MODEL = ROOT / "tests" / "detector" / "tiny-vessels.pt"
RESULTS = ROOT / "bench" / "results" / "reliability.json"
CONFIG = """pipeline:
  resolution: 64
  detector: {kind: none}
  download: {read_timeout: 1, deadline: 3, retries: 2, retry_after_cap: 0.3, max_bytes: 3000000, max_pixels: 50000000}
"""
GOOD = garbage.jpeg((320, 240))


def flapping():
    calls = {"n": 0}

    def respond():
        calls["n"] += 1
        return (
            Response(503) if calls["n"] <= 2 else Response(200, garbage.jpeg((300, 200), "#3070a0"))
        )

    return respond


def limited_once():
    calls = {"n": 0}

    def respond():
        calls["n"] += 1
        return (
            Response(429, b"", {"Retry-After": "1"})
            if calls["n"] == 1
            else Response(200, garbage.jpeg((200, 300), "#a03070"))
        )

    return respond


# name → (path on the server, how the server answers, expected (download status, reason, cropped))
KINDS_OF_GARBAGE = {
    "zero bytes": ("/zero.jpg", lambda: Response(200, garbage.zero_bytes()), ("failed", "empty")),
    "truncated JPEG": (
        "/truncated.jpg",
        lambda: Response(200, garbage.truncated_jpeg()),
        ("failed", "corrupt"),
    ),
    "HTML as image/jpeg": (
        "/html.jpg",
        lambda: Response(200, garbage.html_page(), {"Content-Type": "image/jpeg"}),
        ("failed", "not_image"),
    ),
    "SVG": (
        "/vector.svg",
        lambda: Response(200, garbage.svg(), {"Content-Type": "image/svg+xml"}),
        ("failed", "not_image"),
    ),
    "PDF": (
        "/doc.pdf",
        lambda: Response(200, garbage.pdf(), {"Content-Type": "application/pdf"}),
        ("failed", "not_image"),
    ),
    "animated GIF": ("/anim.gif", lambda: Response(200, garbage.animated_gif()), ("ok", None)),
    "16-bit PNG": ("/deep.png", lambda: Response(200, garbage.png_16bit()), ("ok", None)),
    "CMYK JPEG": ("/cmyk.jpg", lambda: Response(200, garbage.cmyk_jpeg()), ("ok", None)),
    "palette PNG with transparency": (
        "/palette.png",
        lambda: Response(200, garbage.palette_png_with_transparency()),
        ("ok", None),
    ),
    "EXIF-rotated JPEG": (
        "/rotated.jpg",
        lambda: Response(200, garbage.exif_rotated_jpeg()),
        ("ok", None),
    ),
    "1x1 image": ("/dot.png", lambda: Response(200, garbage.one_pixel()), ("ok", None)),
    "30000x30000 PNG bomb": (
        "/bomb.png",
        lambda: Response(200, garbage.png_bomb()),
        ("failed", "decompression_bomb"),
    ),
    "gzip bomb": (
        "/gzip.jpg",
        lambda: Response(200, garbage.gzip_bomb(50), {"Content-Encoding": "gzip"}),
        ("failed", "too_large"),
    ),
    "redirect loop": (
        "/loop-a.jpg",
        lambda: Response.redirect("/loop-b.jpg"),
        ("failed", "too_many_redirects"),
    ),
    "429 with Retry-After": ("/limited.jpg", limited_once(), ("ok", None)),
    "flapping 500": ("/flapping.jpg", flapping(), ("ok", None)),
    "slow-drip server": (
        "/drip.jpg",
        lambda: Response(200, [GOOD[i : i + 100] for i in range(0, len(GOOD), 100)], drip=0.2),
        ("failed", "timeout"),
    ),
    "connection reset": (
        "/reset.jpg",
        lambda: Response(reset=True),
        ("failed", "connection_error"),
    ),
    "404": ("/missing.jpg", None, ("failed", "http_404")),
    "URL with spaces and unicode": (
        "/café vase.jpg",
        lambda: Response(200, garbage.jpeg((256, 256), "#508050")),
        ("ok", None),
    ),
    "exact duplicate bytes": (
        "/copy-of-good.jpg",
        lambda: Response(200, GOOD),
        ("duplicate", None),
    ),
}
ROUTES = {path: respond for path, respond, _ in KINDS_OF_GARBAGE.values() if respond}
ROUTES["/loop-b.jpg"] = lambda: Response.redirect("/loop-a.jpg")
ROUTES["/good.jpg"] = lambda: Response(200, GOOD)


def app(request):
    respond = ROUTES.get(request.path)
    return respond() if respond else Response(404)


def ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def status_by_url(data_dir: Path) -> dict[str, tuple]:
    with sqlite3.connect(data_dir / "curate.db") as db:
        rows = db.execute(
            """SELECT i.url, i.download_status, i.download_reason, COUNT(c.id) FROM items i
               LEFT JOIN crops c ON c.item_id = i.id AND c.status = 'ok' GROUP BY i.id"""
        ).fetchall()
    return {url: (status, reason, crops) for url, status, reason, crops in rows}


def test_every_kind_of_garbage_gets_a_status_and_good_items_go_through(tmp_path, data_dir):
    config = tmp_path / "sources.yaml"
    config.write_text(CONFIG)
    with ReplayServer(app) as server:
        servers = [server]
        lines = [server.url + "/good.jpg"] + [
            server.url + path for path, _, _ in KINDS_OF_GARBAGE.values()
        ]
        lines += [
            server.url + "/good.jpg",
            "file:///etc/passwd",
            "ftp://example.org/vase.jpg",
            "data:image/png;base64,iVBORw0KGgo=",
        ]
        ipv6 = ipv6_available()
        if ipv6:
            servers.append(ReplayServer(app, host="::1").start())
            lines.append(servers[1].url + "/good.jpg?v6")
        listing = tmp_path / "urls.txt"
        listing.write_text("\n".join(lines) + "\n", encoding="utf-8")  # raw unicode and spaces
        args = ["--config", str(config), "--data-dir", str(data_dir), "-q"]
        ingest = curate_subprocess(
            *args, "ingest", str(listing), "--json", stdout=-1, stderr=-1, text=True
        )
        out, err = ingest.communicate(timeout=60)
        run = curate_subprocess(*args, "run", "--json", stdout=-1, stderr=-1, text=True)
        run_out, run_err = run.communicate(timeout=300)
        for extra in servers[1:]:
            extra.stop()
    crashes = int(ingest.returncode != 0) + int(run.returncode != 0)
    assert crashes == 0, run_err[-3000:]
    assert "Traceback" not in err + run_err
    summary = json.loads(out)
    assert summary["bad"] == 3 and summary["known"] == 1  # three bad schemes, one duplicate URL
    assert {p.split(": ", 1)[1] for p in summary["problems"]} == {
        "not an http(s) URL (file)",
        "not an http(s) URL (ftp)",
        "not an http(s) URL (data)",
    }
    found = status_by_url(data_dir)
    wrong = {}
    for name, (path, _, (status, reason)) in KINDS_OF_GARBAGE.items():
        url = server.url + path
        got = found.get(url)
        cropped = status == "ok"
        if got is None or got[:2] != (status, reason) or (got[2] > 0) != cropped:
            wrong[name] = got
    good = found[server.url + "/good.jpg"]
    assert good == ("ok", None, 1)
    if ipv6:
        assert found[servers[1].url + "/good.jpg?v6"][0] == "duplicate"  # same bytes over IPv6
    assert wrong == {}
    kinds = (
        len(KINDS_OF_GARBAGE) + 4 + int(ipv6)
    )  # + 3 bad schemes, duplicate URL lines, IPv6 literal
    print(f"reliability: {kinds} kinds of bad input tried, 0 crashes, 0 lost items")
    RESULTS.parent.mkdir(exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous.update(
        {
            "kinds_tried": kinds,
            "kinds": sorted(KINDS_OF_GARBAGE)
            + ["file: URL", "ftp: URL", "data: URL", "duplicate URL"]
            + (["IPv6 loopback literal"] if ipv6 else []),
            "crashes": crashes,
            "wrong_status": len(wrong),
        }
    )
    RESULTS.write_text(json.dumps(previous, indent=2, sort_keys=True) + "\n")


# --- kill at random moments ------------------------------------------------------------------


def photo_server(count: int) -> ReplayServer:
    rng = np.random.default_rng(11)
    cache: dict[str, bytes] = {}

    def respond(request):
        name = request.path.rsplit("/", 1)[-1]
        if not name.endswith(".jpg") or not name[:-4].isdigit() or int(name[:-4]) >= count:
            return Response(404)
        if name not in cache:
            index = int(name[:-4]) % (
                count - 20
            )  # the last 20 repeat earlier bytes: exact duplicates
            local = np.random.default_rng([11, index])
            image, _ = museum_photo(
                KINDS[index % 4],
                (int(local.integers(300, 640)), int(local.integers(300, 640))),
                bool(index % 5 == 0),
                local,
            )
            from io import BytesIO

            out = BytesIO()
            image.save(out, "JPEG", quality=85)
            cache[name] = out.getvalue()
        return Response(200, cache[name], {"Content-Type": "image/jpeg"})

    del rng
    return ReplayServer(respond)


def final_state(data_dir: Path):
    with sqlite3.connect(data_dir / "curate.db") as db:
        items = db.execute(
            "SELECT url, download_status, download_reason, sha256, path, detect_status FROM items ORDER BY url"
        ).fetchall()
        detections = db.execute(
            "SELECT i.url, d.class_name, round(d.confidence, 4), round(d.x0, 1), round(d.y0, 1), round(d.x1, 1), round(d.y1, 1) FROM detections d JOIN items i ON i.id = d.item_id ORDER BY 1, 4"
        ).fetchall()
        crops = db.execute(
            "SELECT i.url, c.status, c.dhash FROM crops c JOIN items i ON i.id = c.item_id ORDER BY 1, 3"
        ).fetchall()
        dupes = db.execute(
            """SELECT i.url, r.url FROM dupes u JOIN crops c ON c.id = u.crop_id JOIN items i ON i.id = c.item_id
               JOIN crops rc ON rc.id = u.representative_id JOIN items r ON r.id = rc.item_id ORDER BY 1"""
        ).fetchall()
    clean = data_dir / "clean"
    files = sorted(
        (p.relative_to(clean).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
        for p in clean.rglob("*")
        if p.is_file()
    )
    leftovers = [p for p in data_dir.rglob(".part-*")]
    return {
        "items": items,
        "detections": detections,
        "crops": crops,
        "dupes": dupes,
        "files": files,
        "leftovers": leftovers,
    }


def kill_and_resume(tmp_path: Path, count: int, kills: int, seed: int) -> dict:
    config = tmp_path / "sources.yaml"
    config.write_text(
        CONFIG.replace("kind: none", f"kind: yolo, model: {TINY_MODEL}, imgsz: 256, batch: 16")
    )
    with photo_server(count) as server:
        listing = tmp_path / "urls.txt"
        listing.write_text("".join(f"{server.url}/{i}.jpg\n" for i in range(count)))
        states = {}
        killed_at = []
        for name in ("straight", "killed"):
            data_dir = tmp_path / name
            args = ["--config", str(config), "--data-dir", str(data_dir), "-q"]
            assert curate_subprocess(*args, "ingest", str(listing)).wait(60) == 0
            rng = random.Random(seed)
            for _ in range(kills if name == "killed" else 0):
                child = curate_subprocess(*args, "run")
                moment = rng.uniform(0.5, 6.0)
                deadline = time.monotonic() + moment
                while time.monotonic() < deadline and child.poll() is None:
                    time.sleep(0.02)
                if child.poll() is None:
                    child.send_signal(signal.SIGKILL)
                    killed_at.append(round(moment, 2))
                child.wait()
            assert curate_subprocess(*args, "run").wait(600) == 0
            states[name] = final_state(data_dir)
    assert states["killed"]["leftovers"] == [] and states["straight"]["leftovers"] == []
    metadata = {
        name: (tmp_path / name / "clean" / "metadata.jsonl").read_text().splitlines()
        for name in ("straight", "killed")
    }
    differing = [pair for pair in zip(*metadata.values(), strict=True) if pair[0] != pair[1]]
    assert not differing, [(json.loads(a), json.loads(b)) for a, b in differing[:3]]
    for key in ("items", "detections", "crops", "dupes", "files"):
        assert states["killed"][key] == states["straight"][key], key
    lost = len(states["straight"]["items"]) - len(states["killed"]["items"])
    return {
        "items": count,
        "kills": len(killed_at),
        "killed_at_seconds": killed_at,
        "lost_items": lost,
        "exported_files": len(states["straight"]["files"]),
    }


def test_curate_run_killed_twice_resumes_to_the_same_result(tmp_path):
    report = kill_and_resume(tmp_path, count=120, kills=2, seed=1)
    assert report["kills"] >= 1 and report["exported_files"] > 50


@pytest.mark.slow
def test_curate_run_on_1000_items_killed_five_times(tmp_path):
    report = kill_and_resume(tmp_path, count=1000, kills=5, seed=2)
    print(f"kill test: {report}")
    RESULTS.parent.mkdir(exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous["kill_test"] = report
    RESULTS.write_text(json.dumps(previous, indent=2, sort_keys=True) + "\n")


def test_review_decisions_posted_while_dedupe_and_export_run_are_all_kept(tmp_path, data_dir):
    from testkit import seed_review

    from pipeline.review.server import ReviewServer

    seed_review(data_dir, 400)
    config = tmp_path / "sources.yaml"
    config.write_text(CONFIG)
    args = ["--config", str(config), "--data-dir", str(data_dir), "-q"]
    with ReviewServer(data_dir / "curate.db", data_dir) as server:
        session = requests.Session()
        session.get(server.login_url)
        stages = threading.Thread(
            target=lambda: [
                curate_subprocess(*args, *command).wait(120)
                for command in (
                    ("dedupe", "--force"),
                    ("export",),
                    ("dedupe", "--force"),
                    ("export",),
                )
            ]
        )
        stages.start()
        expected: dict[int, str] = {}
        step = 0
        while stages.is_alive() or step < 100:
            crop = 1 + step % 400
            decision = "reject" if (step // 400) % 2 == 0 else "keep"
            item = {
                "id": crop,
                "decision": decision,
                "reason": "other" if decision == "reject" else None,
            }
            reply = session.post(
                server.url + "api/decide",
                json={"items": [item]},
                headers={"X-Curate-Token": server.token},
            )
            assert reply.status_code == 200 and reply.json() == {"stored": 1}
            expected[crop] = decision
            step += 1
        stages.join()
    with Manifest(data_dir / "curate.db") as manifest:
        stored = {
            row["id"]: row["decision"]
            for row in manifest.review_rows()
            if row["decision"] != "pending"
        }
    assert stored == expected
