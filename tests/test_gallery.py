"""The generic gallery spider on local auction-style pages: JSON-LD, og:image, selector, paging."""

from __future__ import annotations

import json

from servers.base import ReplayServer, Response
from testkit import scrape


def page(body: str, head: str = "") -> Response:
    return Response(
        200,
        f"<html><head>{head}</head><body>{body}</body></html>".encode(),
        {"Content-Type": "text/html"},
    )


def json_ld(data) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


PAGES = {
    "/robots.txt": Response(200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"}),
    "/sale?page=1": page(
        '<a class="lot" href="/lot/1">1</a><a class="lot" href="/lot/2">2</a><a class="lot" href="/lot/3">3</a><a class="next" href="/sale?page=2">next</a>'
    ),
    "/sale?page=2": page(
        '<a class="lot" href="/lot/4">4</a><a class="lot" href="/lot/5">5</a><a class="lot" href="/lot/1">again</a>'
    ),
    "/lot/1": page(
        "<h1>Lot 1</h1>",
        json_ld(
            {
                "@context": "https://schema.org",
                "@type": "Product",
                "name": "A Chinese celadon vase",
                "image": ["https://cdn.example/1a.jpg", "https://cdn.example/1b.jpg"],
            }
        ),
    ),
    "/lot/2": page(
        "<h1>Lot 2</h1>",
        '<meta property="og:image" content="https://cdn.example/2.jpg"><meta property="og:title" content="A Meissen cup">',
    ),
    "/lot/3": page(
        '<div class="gallery"><img class="main" src="/images/3.jpg"></div><h1 class="t">A bowl</h1>'
    ),
    "/lot/4": page("<p>Image withdrawn at the consignor's request</p>"),
    "/lot/5": page(
        "",
        json_ld(
            {
                "@graph": [
                    {"@type": "WebPage"},
                    {
                        "@type": "VisualArtwork",
                        "name": "Jar",
                        "image": {
                            "@type": "ImageObject",
                            "contentUrl": "https://cdn.example/5.jpg",
                        },
                    },
                ]
            }
        ),
    ),
}


def app(request):
    key = request.path + (f"?page={request.arg('page')}" if request.arg("page") else "")
    return PAGES.get(key, Response(404))


def test_gallery_spider_finds_each_kind_of_image(tmp_path, data_dir):
    with ReplayServer(app) as server:
        config = tmp_path / "sources.yaml"
        config.write_text(
            f"""sources:
  - name: auction
    kind: gallery
    any_license: true
    options:
      start_urls: ["{server.url}/sale?page=1"]
      link_selector: "a.lot"
      next_selector: "//a[@class='next']/@href"
      image_selector: "img.main"
      title_selector: "h1.t::text"
scrape: {{autothrottle: false, download_delay: 0}}
"""
        )
        code, [report] = scrape(config, data_dir)
    assert code == 0
    lines = [
        json.loads(line) for line in (data_dir / "urls" / "auction.jsonl").read_text().splitlines()
    ]
    assert {line["url"] for line in lines} == {
        "https://cdn.example/1a.jpg",
        "https://cdn.example/1b.jpg",
        "https://cdn.example/2.jpg",
        f"{server.url}/images/3.jpg",
        "https://cdn.example/5.jpg",
    }
    titles = {line["page_url"].rsplit("/", 1)[1]: line["title"] for line in lines}
    assert titles == {
        "1": "A Chinese celadon vase",
        "2": "A Meissen cup",
        "3": "A bowl",
        "5": "Jar",
    }
    assert report["dropped"] == {"no image": 1}


def test_gallery_items_need_a_licence_decision(tmp_path, data_dir):
    with ReplayServer(app) as server:
        config = tmp_path / "sources.yaml"
        config.write_text(
            f'sources:\n  - {{name: auction, kind: gallery, options: {{start_urls: ["{server.url}/lot/2"]}}}}\n'
        )
        code, [report] = scrape(config, data_dir)
    assert code == 0
    assert report["kept"] == 0 and report["dropped"] == {"not open licence": 1}
