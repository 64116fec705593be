"""Each API spider against a replay of its API: several pages, objects with several images or none,
closed licences, a 429 with Retry-After and a 500 (both then succeed), and a broken JSON page
(logged; the crawl goes on). The output URL set must equal the expected set exactly."""

from __future__ import annotations

import json

import pytest
from servers import apis
from servers.base import ReplayServer, Response
from testkit import scrape

KEY = "test-key"


def fault_plan(
    path: str,
    page_param: str,
    second: str,
    third: str,
    first_of_broken: str,
    query: str = "q",
    wrap=lambda q: q,
):
    return {
        (path, ((query, wrap("vase")), (page_param, second))): [
            Response(429, b"slow down", {"Retry-After": "1"})
        ],
        (path, ((query, wrap("vase")), (page_param, third))): [Response(500, b"oops")],
        (path, ((query, wrap("crock")), (page_param, first_of_broken))): [
            Response(200, b'{"broken": ', {"Content-Type": "application/json"})
        ]
        * 5,
    }


def artic():
    records = [
        apis.artic_record(i, f"Vase {i}", public=i % 7 != 0, image=i % 11 != 0, alt=i % 3)
        for i in range(1, 251)
    ]
    records += [apis.artic_record(i, f"Crock {i}") for i in range(300, 305)]
    expected = {
        f"https://www.artic.edu/iiif/2/{img}/full/843,/0/default.jpg"
        for r in records
        if r["is_public_domain"] and "Vase" in r["title"]
        for img in [r["image_id"], *r["alt_image_ids"]]
        if img  # alternate views count even when the primary image is missing
    }
    app = apis.faulty(
        apis.artic_app(records), fault_plan("/api/v1/artworks/search", "page", "2", "3", "1")
    )
    return app, "/api/v1", expected, False


def cleveland():
    records = [
        apis.cleveland_record(i, f"Vase {i}", cc0=i % 7 != 0, image=i % 11 != 0, alt=i % 3)
        for i in range(1, 251)
    ]
    records += [apis.cleveland_record(i, f"Crock {i}") for i in range(300, 305)]
    expected = {
        img["print"]["url"]
        for r in records
        if r["share_license_status"] == "CC0" and r["images"] and "Vase" in r["title"]
        for img in [r["images"], *r["alternate_images"]]
    }
    app = apis.faulty(
        apis.cleveland_app(records), fault_plan("/api/artworks/", "skip", "100", "200", "0")
    )
    return app, "/api", expected, False


def harvard():
    records = [
        apis.harvard_record(i, f"Vase {i}", images=i % 3, permission=2 if i % 13 == 0 else 0)
        for i in range(1, 251)
    ]
    records += [apis.harvard_record(i, f"Crock {i}") for i in range(300, 305)]
    expected = {
        img["baseimageurl"]
        for r in records
        if r["imagepermissionlevel"] != 2 and "Vase" in r["title"]
        for img in r["images"]
    }
    app = apis.faulty(apis.harvard_app(records, KEY), fault_plan("/object", "page", "2", "3", "1"))
    return app, "", expected, True  # no public-domain flag: only with any_license


def rijksmuseum():
    records = [
        apis.rijks_record(i, f"Vase {i}", download=i % 7 != 0, image=i % 11 != 0)
        for i in range(1, 251)
    ]
    records += [apis.rijks_record(i, f"Crock {i}") for i in range(300, 305)]
    expected = {
        r["webImage"]["url"]
        for r in records
        if r["permitDownload"] and r["webImage"] and "Vase" in r["title"]
    }
    app = apis.faulty(
        apis.rijks_app(records, KEY), fault_plan("/api/en/collection", "p", "1", "2", "0")
    )
    return app, "/api/en", expected, False


def vam():
    records = [apis.vam_record(i, f"Vase {i}", image=i % 11 != 0) for i in range(1, 251)]
    records += [apis.vam_record(i, f"Crock {i}") for i in range(300, 305)]
    expected = {
        r["_images"]["_iiif_image_base_url"] + "full/full/0/default.jpg"
        for r in records
        if r["_images"] and "Vase" in r["_primaryTitle"]
    }
    app = apis.faulty(
        apis.vam_app(records), fault_plan("/v2/objects/search", "page", "2", "3", "1")
    )
    return app, "/v2", expected, True  # no open-licence flag: only with any_license


def smithsonian():
    usages = [
        ["CC0"],
        ["CC0", "CC0"],
        ["Usage conditions apply"],
        ["CC0", "Usage conditions apply"],
        [],
    ]
    records = [apis.smithsonian_record(i, f"Vase {i}", usages[i % 5]) for i in range(1, 251)]
    records += [apis.smithsonian_record(i, f"Crock {i}", ["CC0"]) for i in range(300, 305)]
    expected = {
        m["content"]
        for r in records
        if "Vase" in r["title"]
        for m in r["content"]["descriptiveNonRepeating"].get("online_media", {}).get("media", [])
        if m["usage"]["access"] == "CC0"
    }
    wrap = lambda q: f"{q} AND online_media_type:Images AND media_usage:CC0"  # noqa: E731
    app = apis.faulty(
        apis.smithsonian_app(records, KEY),
        fault_plan("/openaccess/api/v1.0/search", "start", "100", "200", "0", wrap=wrap),
    )
    return app, "/openaccess/api/v1.0", expected, False


def europeana():
    rights = [
        apis.PDM,
        "http://creativecommons.org/publicdomain/zero/1.0/",
        "http://creativecommons.org/licenses/by/4.0/",
        apis.IN_COPYRIGHT,
    ]
    records = [
        apis.europeana_record(i, f"Vase {i}", rights[i % 4], image=i % 11 != 0)
        for i in range(1, 251)
    ]
    records += [apis.europeana_record(i, f"Crock {i}") for i in range(300, 305)]
    expected = {
        r["edmIsShownBy"][0]
        for r in records
        if r["edmIsShownBy"] and "publicdomain" in r["rights"][0] and "Vase" in r["title"][0]
    }
    app = apis.faulty(
        apis.europeana_app(records, KEY),
        fault_plan("/record/v2/search.json", "cursor", "c100", "c200", "*", query="query"),
    )
    return app, "/record/v2", expected, False


@pytest.mark.parametrize(
    "kind", ["artic", "cleveland", "harvard", "rijksmuseum", "vam", "smithsonian", "europeana"]
)
def test_spider_output_equals_the_expected_set(kind, tmp_path, data_dir, monkeypatch):
    app, prefix, expected, needs_any_license = globals()[kind]()
    monkeypatch.setenv("CURATE_TEST_KEY", KEY)
    with ReplayServer(app) as server:
        config = tmp_path / "sources.yaml"
        config.write_text(
            f"""sources:
  - {{name: {kind}, kind: {kind}, queries: [vase, crock], api_base: "{server.url}{prefix}", api_key_env: CURATE_TEST_KEY, any_license: {str(needs_any_license).lower()}}}
scrape: {{autothrottle: false, download_delay: 0, concurrency_per_domain: 8, retry_after_cap: 0.2}}
"""
        )
        code, [report] = scrape(config, data_dir, "--no-ingest")
    assert code == 0
    lines = [
        json.loads(line) for line in (data_dir / "urls" / f"{kind}.jsonl").read_text().splitlines()
    ]
    urls = [line["url"] for line in lines]
    assert len(urls) == len(set(urls))
    assert set(urls) == expected
    assert report["bad_json"] >= 1  # the broken page was logged and skipped
    assert all(line["page_url"] and line["object_id"] and line["source"] == kind for line in lines)


def test_closed_sources_keep_nothing_without_any_license(tmp_path, data_dir, monkeypatch):
    app, prefix, expected, _ = harvard()
    monkeypatch.setenv("CURATE_TEST_KEY", KEY)
    with ReplayServer(app) as server:
        config = tmp_path / "sources.yaml"
        config.write_text(
            f'sources:\n  - {{name: h, kind: harvard, queries: [vase], api_base: "{server.url}{prefix}", api_key_env: CURATE_TEST_KEY}}\n'
            "scrape: {autothrottle: false, download_delay: 0, retry_after_cap: 0.2}\n"
        )
        code, [report] = scrape(config, data_dir, "--no-ingest")
    assert code == 0 and report["kept"] == 0 and report["dropped"]["not open licence"] > 100
