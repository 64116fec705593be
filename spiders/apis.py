"""Spiders for the JSON APIs whose search answers carry whole records (one request per page).

Each follows its API's own paging and licence flag, as documented in the README's source table.
The Met (search, then one request per object) lives in met.py.
"""

from __future__ import annotations

from urllib.parse import urlencode

import scrapy

from spiders.base import ApiSpider

OPEN_RIGHTS = ("creativecommons.org/publicdomain/", "/publicdomain/zero/")  # Europeana: PDM and CC0


def dig(record, *path, default=None):
    """record[a][b]… or `default` when any step is missing or null."""
    for key in path:
        if isinstance(record, dict):
            record = record.get(key)
        elif (
            isinstance(record, list) and isinstance(key, int) and -len(record) <= key < len(record)
        ):
            record = record[key]
        else:
            return default
        if record is None:
            return default
    return record


class PagedSpider(ApiSpider):
    """Search pages one after another per query; subclasses build URLs and read records."""

    page_size = 100
    max_pages = 100

    def page_url(self, query: str, page: int, cursor: str | None = None) -> str:
        raise NotImplementedError

    def records(self, data) -> list:
        raise NotImplementedError

    def next_page(self, data, page: int) -> tuple[int, str | None] | None:
        """(next page, cursor) or None at the end."""
        raise NotImplementedError

    def parse_record(self, record):
        raise NotImplementedError

    async def start(self):
        for query in self.queries:
            yield self.request(query, self.first_page, None)

    first_page = 0

    def request(self, query: str, page: int, cursor: str | None):
        return scrapy.Request(
            self.page_url(query, page, cursor),
            self.parse_page,
            cb_kwargs={"query": query, "page": page},
            dont_filter=True,
            headers=self.headers(),
        )

    def headers(self) -> dict:
        return {}

    def parse_page(self, response, query: str, page: int):
        data = self.load_json(response)
        if data is None:
            return
        for record in self.records(data) or []:
            yield from self.parse_record(record)
        following = self.next_page(data, page)
        if following and following[0] - self.first_page < self.max_pages:
            yield self.request(query, *following)


class ArticSpider(PagedSpider):
    """Art Institute of Chicago: /artworks/search, IIIF images from config.iiif_url + image_id."""

    name = "artic"
    max_pages = 10  # the API stops deep paging at about 1,000 results
    fields = "id,title,image_id,alt_image_ids,is_public_domain,artwork_type_title,copyright_notice"
    first_page = 1

    def page_url(self, query, page, cursor=None):
        params = {
            "q": query,
            "fields": self.fields,
            "limit": self.page_size,
            "page": page,
            **self.options,
        }
        if not self.any_license:
            params["query[term][is_public_domain]"] = "true"
        return f"{self.api_base}/artworks/search?{urlencode(params)}"

    def headers(self):
        return {"AIC-User-Agent": self.settings.get("USER_AGENT", "vessel-curate")}

    def records(self, data):
        self.iiif = dig(data, "config", "iiif_url", default="https://www.artic.edu/iiif/2")
        self.website = dig(data, "config", "website_url", default="https://www.artic.edu")
        return data.get("data")

    def next_page(self, data, page):
        return (
            (page + 1, None) if page < dig(data, "pagination", "total_pages", default=0) else None
        )

    def parse_record(self, record):
        if not self.first_visit(record.get("id")) or not self.open_licence(
            bool(record.get("is_public_domain"))
        ):
            return
        ids = [record.get("image_id"), *(record.get("alt_image_ids") or [])]
        yield from self.images(
            record["id"],
            [f"{self.iiif}/{i}/full/843,/0/default.jpg" for i in ids if i],
            page_url=f"{self.website}/artworks/{record['id']}",
            title=record.get("title"),
            license="CC0"
            if record.get("is_public_domain")
            else (record.get("copyright_notice") or "see page"),
            classification=record.get("artwork_type_title"),
        )


class ClevelandSpider(PagedSpider):
    """Cleveland Museum of Art Open Access: /artworks/?skip=&limit=, full records per page."""

    name = "cleveland"

    def page_url(self, query, page, cursor=None):
        params = {
            "q": query,
            "has_image": 1,
            "skip": page * self.page_size,
            "limit": self.page_size,
            **self.options,
        }
        if not self.any_license:
            params["cc0"] = 1
        return f"{self.api_base}/artworks/?{urlencode(params)}"

    def records(self, data):
        return data.get("data")

    def next_page(self, data, page):
        return (
            (page + 1, None)
            if (page + 1) * self.page_size < dig(data, "info", "total", default=0)
            else None
        )

    def parse_record(self, record):
        status = record.get("share_license_status")
        if not self.first_visit(record.get("id")) or not self.open_licence(status == "CC0"):
            return

        def best(images):  # the print JPEG (~3400 px); the "full" rendition is a TIFF
            return dig(images, "print", "url") or dig(images, "web", "url")

        urls = [best(record.get("images") or {})] + [
            best(alt) for alt in record.get("alternate_images") or []
        ]
        yield from self.images(
            record["id"],
            urls,
            page_url=record.get("url"),
            title=record.get("title"),
            license=status or record.get("copyright") or "see page",
            classification=record.get("type"),
        )


class HarvardSpider(PagedSpider):
    """Harvard Art Museums: /object?apikey=&page=; no public-domain flag (images are ©)."""

    name = "harvard"
    first_page = 1

    def page_url(self, query, page, cursor=None):
        params = {
            "apikey": self.api_key or "",
            "q": query,
            "hasimage": 1,
            "size": self.page_size,
            "page": page,
            **self.options,
        }
        return f"{self.api_base}/object?{urlencode(params)}"

    def records(self, data):
        return data.get("records")

    def next_page(self, data, page):
        return (page + 1, None) if dig(data, "info", "next") else None

    def parse_record(self, record):
        if record.get("imagepermissionlevel") == 2:  # "do not display": never taken
            self.crawler.stats.inc_value("curate/dropped/image not to be displayed")
            return
        if not self.first_visit(record.get("objectid")) or not self.open_licence(False):
            return
        images = sorted(record.get("images") or [], key=lambda i: i.get("displayorder") or 0)
        urls = [record.get("primaryimageurl")] + [i.get("baseimageurl") for i in images]
        copyright = dig(images, 0, "copyright") or "© President and Fellows of Harvard College"
        yield from self.images(
            record["objectid"],
            urls,
            page_url=record.get("url"),
            title=record.get("title"),
            license=copyright,
            classification=record.get("classification"),
        )


class RijksmuseumSpider(PagedSpider):
    """Rijksmuseum collection API (key): /collection?p=&ps=; permitDownload is the open flag."""

    name = "rijksmuseum"
    max_pages = 100  # p × ps stops at 10,000

    def page_url(self, query, page, cursor=None):
        params = {
            "key": self.api_key or "",
            "q": query,
            "imgonly": "True",
            "ps": self.page_size,
            "p": page,
            "format": "json",
            **self.options,
        }
        return f"{self.api_base}/collection?{urlencode(params)}"

    def records(self, data):
        return data.get("artObjects")

    def next_page(self, data, page):
        return (
            (page + 1, None)
            if (page + 1) * self.page_size < min(data.get("count") or 0, 10_000)
            else None
        )

    def parse_record(self, record):
        if not self.first_visit(record.get("objectNumber")) or not self.open_licence(
            bool(record.get("permitDownload"))
        ):
            return
        yield from self.images(
            record["objectNumber"],
            [dig(record, "webImage", "url")],
            page_url=dig(record, "links", "web"),
            title=record.get("title"),
            license="CC0" if record.get("permitDownload") else "see page",
        )


class VamSpider(PagedSpider):
    """Victoria and Albert Museum API v2: /objects/search?page=; no open-licence flag."""

    name = "vam"
    first_page = 1

    def page_url(self, query, page, cursor=None):
        params = {
            "q": query,
            "images_exist": 1,
            "page": page,
            "page_size": self.page_size,
            **self.options,
        }
        return f"{self.api_base}/objects/search?{urlencode(params)}"

    def records(self, data):
        return data.get("records")

    def next_page(self, data, page):
        return (page + 1, None) if page < dig(data, "info", "pages", default=0) else None

    def parse_record(self, record):
        if not self.first_visit(record.get("systemNumber")) or not self.open_licence(False):
            return
        base = dig(record, "_images", "_iiif_image_base_url")
        yield from self.images(
            record["systemNumber"],
            [f"{base}full/full/0/default.jpg" if base else None],
            page_url=f"https://collections.vam.ac.uk/item/{record['systemNumber']}/",
            title=record.get("_primaryTitle") or None,
            license="© Victoria and Albert Museum, London",
            classification=record.get("objectType"),
        )


class SmithsonianSpider(PagedSpider):
    """Smithsonian Open Access (api.data.gov key): /search?start=&rows=; licence per media item."""

    name = "smithsonian"

    def page_url(self, query, page, cursor=None):
        q = f"{query} AND online_media_type:Images" + (
            "" if self.any_license else " AND media_usage:CC0"
        )
        params = {
            "q": q,
            "api_key": self.api_key or "",
            "start": page * self.page_size,
            "rows": self.page_size,
            **self.options,
        }
        return f"{self.api_base}/search?{urlencode(params)}"

    def records(self, data):
        return dig(data, "response", "rows")

    def next_page(self, data, page):
        return (
            (page + 1, None)
            if (page + 1) * self.page_size < dig(data, "response", "rowCount", default=0)
            else None
        )

    def parse_record(self, record):
        if not self.first_visit(record.get("id")):
            return
        content = record.get("content") or {}
        media = [
            m
            for m in dig(content, "descriptiveNonRepeating", "online_media", "media", default=[])
            if m.get("type") == "Images"
        ]
        open_media = [m for m in media if dig(m, "usage", "access") == "CC0"]
        chosen = media if self.any_license else open_media
        if media and not chosen:
            self.open_licence(False)
            return
        yield from self.images(
            record["id"],
            [m.get("content") for m in chosen],
            page_url=dig(content, "descriptiveNonRepeating", "record_link"),
            title=record.get("title"),
            license="CC0" if chosen and chosen == open_media else "see page",
            classification=dig(content, "indexedStructured", "object_type", 0),
        )


class EuropeanaSpider(PagedSpider):
    """Europeana Search API (key): cursor paging; rights[0] must be PDM or CC0 by default."""

    name = "europeana"

    def page_url(self, query, page, cursor=None):
        params = {
            "query": query,
            "qf": "TYPE:IMAGE",
            "reusability": "open",
            "media": "true",
            "rows": self.page_size,
            "cursor": cursor or "*",
            "profile": "standard",
            "wskey": self.api_key or "",
            **self.options,
        }
        return f"{self.api_base}/search.json?{urlencode(params)}"

    def records(self, data):
        return data.get("items")

    def next_page(self, data, page):
        return (page + 1, data["nextCursor"]) if data.get("nextCursor") else None

    def parse_record(self, record):
        rights = dig(record, "rights", 0, default="")
        if not self.first_visit(record.get("id")) or not self.open_licence(
            any(r in rights for r in OPEN_RIGHTS)
        ):
            return
        page = dig(record, "guid", default="").split("?")[0] or dig(record, "edmIsShownAt", 0)
        yield from self.images(
            record["id"],
            [dig(record, "edmIsShownBy", 0)],
            page_url=page,
            title=dig(record, "title", 0),
            license=rights or "see page",
            classification=record.get("type"),
        )
