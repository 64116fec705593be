"""A generic spider for collection sites without an API (auction houses and the like).

Configured per site in sources.yaml (`kind: gallery`, options: start_urls, link_selector,
next_selector, image_selector, title_selector, allowed_domains, license). It walks listing pages
(following `next_selector`), opens every lot/detail page found by `link_selector`, and takes the
image from, in order: JSON-LD (`image` of a Product, VisualArtwork or CreativeWork), the
`og:image` meta tag, then `image_selector`. Selectors are CSS, or XPath when they start with `/`
or `(`. Such sites carry no open-licence flag: their items are kept only with `any_license: true`
(or an `options.license` you have checked), and their terms may forbid scraping — check first.
"""

from __future__ import annotations

import json
from typing import Any

import scrapy

from spiders.base import ApiSpider

ARTWORK_TYPES = {"Product", "VisualArtwork", "CreativeWork", "Painting", "Sculpture", "ImageObject"}


def select(response, selector: str):
    return response.xpath(selector) if selector.startswith(("/", "(")) else response.css(selector)


def values(response, selector: str | None) -> list[str]:
    """Attribute or text values of a selector (href/src/content for elements, text otherwise)."""
    if not selector:
        return []
    found = []
    for node in select(response, selector):
        if isinstance(node.root, str):  # ::text, ::attr(x) or @x already selected a value
            value = node.get()
        else:
            value = node.attrib.get("href") or node.attrib.get("src") or node.attrib.get("content")
        if value and value.strip():
            found.append(value.strip())
    return found


def json_ld_objects(response) -> list[dict[str, Any]]:
    objects = []
    for block in response.xpath('//script[@type="application/ld+json"]/text()').getall():
        try:
            data = json.loads(block)
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                stack += item.get("@graph", []) if isinstance(item.get("@graph"), list) else []
                kinds = item.get("@type")
                kinds = set(kinds) if isinstance(kinds, list) else {kinds}
                if kinds & ARTWORK_TYPES:
                    objects.append(item)
            elif isinstance(item, list):
                stack += item
    return objects


def image_urls(value: Any) -> list[str]:
    """JSON-LD `image`: a URL, a list of them, or ImageObjects with url/contentUrl."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [u for u in (value.get("contentUrl") or value.get("url"),) if isinstance(u, str)]
    if isinstance(value, list):
        return [u for v in value for u in image_urls(v)]
    return []


class GallerySpider(ApiSpider):
    name = "gallery"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.start_urls = list(self.options.get("start_urls", []))
        self.allowed_domains = list(self.options.get("allowed_domains") or [])

    async def start(self):
        for url in self.start_urls:
            yield scrapy.Request(url, self.parse_listing, dont_filter=True)

    def parse_listing(self, response):
        links = values(response, self.options.get("link_selector"))
        if not links:  # a start URL that is itself a detail page
            yield from self.parse_detail(response)
        for link in links:
            url = response.urljoin(link)
            if self.first_visit(url):
                yield scrapy.Request(url, self.parse_detail, dont_filter=True)
        for link in values(response, self.options.get("next_selector"))[:1]:
            yield scrapy.Request(response.urljoin(link), self.parse_listing)

    def parse_detail(self, response):
        objects = json_ld_objects(response)
        urls = [u for o in objects for u in image_urls(o.get("image"))]
        urls = (
            urls
            or values(response, 'meta[property="og:image"]')
            or values(response, self.options.get("image_selector"))
        )
        title = next((o.get("name") for o in objects if isinstance(o.get("name"), str)), None)
        title = (
            title
            or (
                values(response, self.options.get("title_selector"))
                or values(response, 'meta[property="og:title"]')
                or [response.css("title::text").get()]
            )[0]
        )
        license = self.options.get("license")
        if not self.open_licence(bool(license)):
            return
        yield from self.images(
            response.url,  # the lot page is the object's identity
            [response.urljoin(u) for u in urls],
            page_url=response.url,
            title=title.strip() if isinstance(title, str) else None,
            license=license or "unknown (see page)",
        )
