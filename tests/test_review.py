"""`curate review` in a real browser (Playwright driving Debian's Chromium) and its security."""

from __future__ import annotations

import shutil
import sqlite3
import time

import pytest
import requests
from testkit import ROOT, chromium_args, seed_review

from pipeline.manifest import Manifest
from pipeline.review.server import REASONS, ReviewServer

ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture
def server(data_dir):
    seed_review(data_dir, 5000)
    with ReviewServer(data_dir / "curate.db", data_dir) as running:
        yield running


def decisions(data_dir):
    with sqlite3.connect(data_dir / "curate.db") as db:
        rows = db.execute(
            """SELECT crop_id, decision, reason FROM decisions d
               WHERE id = (SELECT MAX(id) FROM decisions WHERE crop_id = d.crop_id) AND decision != 'pending'
               ORDER BY crop_id"""
        ).fetchall()
    return rows


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("needs Debian's chromium (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        args = [
            a
            for a in chromium_args(tmp_path_factory.mktemp("profile"))
            if not a.startswith(("--headless", "--user-data-dir"))
        ]
        browser = playwright.chromium.launch(executable_path=chromium, args=args)
        yield browser
        browser.close()


def wait_saved(page, data_dir, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(decisions(data_dir)) != count and time.monotonic() < deadline:
        page.wait_for_timeout(50)


def test_review_by_keyboard_in_chromium(server, browser, data_dir):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    started = time.monotonic()
    page.goto(server.login_url)
    page.wait_for_selector("body[data-complete='1'] .tile img")
    first_screen = time.monotonic() - started
    assert "reviewed 0 of 5000" in page.inner_text("#progress")
    # virtualized: a few rows of tiles exist, not 5,000
    assert 20 < page.locator(".tile").count() < 400

    page.keyboard.press("G")  # jump to the end and back: tiles follow the scroll
    page.wait_for_selector(".tile[data-id='5000']")
    assert page.locator(".tile").count() < 400
    page.keyboard.press("g")
    page.wait_for_selector(".tile[data-id='1'].cursor")

    for step in range(10):  # reject ten, alternating reasons 1 and 2; the cursor moves on itself
        page.keyboard.press(str(1 + step % 2))
    page.keyboard.press("u")  # take the tenth back
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("x")  # bulk-reject 11..13 with the last reason used
    page.keyboard.press("a")  # keep 14
    wait_saved(page, data_dir, 9 + 3 + 1)
    expected = [(i, "reject", REASONS[(i - 1) % 2]) for i in range(1, 10)]
    expected += [(i, "reject", REASONS[1]) for i in (11, 12, 13)] + [(14, "keep", None)]
    assert decisions(data_dir) == expected
    assert "reviewed 13 of 5000" in page.inner_text("#progress")

    page.keyboard.press("g")
    page.keyboard.press("Space")  # detail view of crop 1, which has a duplicate
    page.wait_for_selector("#detail:not([hidden]) #detail-cluster figure")
    assert "Vase 0" in page.inner_text("#detail-title")
    assert page.locator("#detail-cluster figure").count() == 2
    page.screenshot(path=str(ARTIFACTS / "review-detail.png"))
    page.keyboard.press("Escape")
    page.screenshot(path=str(ARTIFACTS / "review-grid.png"))

    page.reload()  # the same state comes back from the manifest
    page.wait_for_selector("body[data-complete='1'] .tile img")
    assert "reviewed 13 of 5000" in page.inner_text("#progress")
    assert "not the object 5" in page.inner_text("#rejections") and "fragment 7" in page.inner_text(
        "#rejections"
    )
    print(f"first screen {first_screen:.2f} s")
    page.close()


def test_filters_show_only_matching_crops(server, browser, data_dir):
    with Manifest(data_dir / "curate.db") as manifest:
        manifest.decide([(7, "reject", "other")])
    page = browser.new_page()
    page.goto(server.login_url)
    page.wait_for_selector("body[data-complete='1'] .tile img")
    page.select_option("#f-status", "reject")
    page.wait_for_selector(".tile[data-id='7']")
    assert page.locator(".tile").count() == 1
    page.select_option("#f-status", "all")
    page.check("#f-dupes")
    assert "showing 200" in page.inner_text("#progress")
    page.close()


def test_security(server):
    url = server.url
    assert requests.get(url + "api/crops").status_code == 403  # no token
    assert requests.get(url + "thumb/1").status_code == 403
    session = requests.Session()
    assert session.get(server.login_url).status_code == 200  # sets the cookie
    assert session.get(url + "api/crops").status_code == 200
    assert (
        session.get(url + "api/crops", headers={"Host": "evil.example:80"}).status_code == 400
    )  # rebinding
    for path in (
        "thumb/../../etc/passwd",
        "thumb/%2e%2e%2fcurate.db",
        "original/-1",
        "thumb/99999",
        "static/../server.py",
        "api/crops/abc",
    ):
        assert session.get(url + path).status_code in (400, 404), path
    # state changes: POST only, and only with the token header
    assert session.get(url + "api/decide").status_code == 405
    assert (
        session.post(
            url + "api/decide", json={"items": [{"id": 1, "decision": "reject"}]}
        ).status_code
        == 403
    )
    headers = {"X-Curate-Token": server.token}
    assert (
        session.post(
            url + "api/decide", json={"items": [{"id": "1", "decision": "reject"}]}, headers=headers
        ).status_code
        == 400
    )
    assert (
        session.post(
            url + "api/decide", json={"items": [{"id": 1, "decision": "burn"}]}, headers=headers
        ).status_code
        == 400
    )
    ok = session.post(
        url + "api/decide",
        json={"items": [{"id": 1, "decision": "reject", "reason": "fragment"}]},
        headers=headers,
    )
    assert ok.status_code == 200 and ok.json() == {"stored": 1}
    assert session.post(url + "api/representative", json={"id": 2}, headers=headers).json() == {
        "representative": 2
    }
    assert (
        session.post(url + "api/representative", json={"id": 3}, headers=headers).status_code == 404
    )  # no cluster


def test_decisions_survive_concurrent_writers(server, data_dir):
    """Decisions posted while another process writes the manifest are all kept."""
    import threading

    session = requests.Session()
    session.get(server.login_url)
    headers = {"X-Curate-Token": server.token}
    stop = threading.Event()

    def writer():
        with Manifest(data_dir / "curate.db") as other:
            while not stop.is_set():
                other.replace_dupes([(c, 1, 1) for c in range(1, 200)])
                time.sleep(0.005)  # a stage commits in batches, not in a tight loop

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for crop in range(100, 160):
            assert (
                session.post(
                    server.url + "api/decide",
                    json={"items": [{"id": crop, "decision": "reject", "reason": "other"}]},
                    headers=headers,
                ).status_code
                == 200
            )
    finally:
        stop.set()
        thread.join()
    assert [row[0] for row in decisions(data_dir)] == list(range(100, 160))
