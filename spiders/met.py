"""The Metropolitan Museum of Art Collection API (no key).

Search: GET {base}/v1.1/search?q=&hasImages=true&offset=&limit= → {total, objectIDs} (the v1
search answers 410 Gone since October 2026; the result window stops at 10,000). Objects:
GET {base}/v1/objects/{id} → flat record; isPublicDomain is the licence flag (CC0), and when it is
false the image fields are empty anyway. Images: primaryImage + additionalImages[].
"""

from __future__ import annotations

from urllib.parse import urlencode

import scrapy

from spiders.base import ApiSpider

PAGE = 100
WINDOW = 10_000


class MetSpider(ApiSpider):
    name = "met"
    default_api_base = "https://collectionapi.metmuseum.org/public/collection"

    def search_url(self, query: str, offset: int) -> str:
        params = {"q": query, "hasImages": "true", "offset": offset, "limit": PAGE, **self.options}
        return f"{self.api_base}/v1.1/search?{urlencode(params)}"

    async def start(self):
        for query in self.queries:
            yield scrapy.Request(
                self.search_url(query, 0),
                self.parse_search,
                cb_kwargs={"query": query, "offset": 0},
            )

    def parse_search(self, response, query: str, offset: int):
        data = self.load_json(response)
        if not data:
            return
        ids = data.get("objectIDs") or []  # null past the end
        for object_id in ids:
            if self.first_visit(object_id):
                yield scrapy.Request(
                    f"{self.api_base}/v1/objects/{object_id}", self.parse_object, dont_filter=True
                )
        next_offset = offset + PAGE
        if ids and next_offset < min(data.get("total") or 0, WINDOW):
            yield scrapy.Request(
                self.search_url(query, next_offset),
                self.parse_search,
                cb_kwargs={"query": query, "offset": next_offset},
            )

    def parse_object(self, response):
        record = self.load_json(response)
        if not record or "objectID" not in record:
            return
        if not self.open_licence(bool(record.get("isPublicDomain"))):
            return
        urls = [record.get("primaryImage")] + list(record.get("additionalImages") or [])
        yield from self.images(
            record["objectID"],
            urls,
            page_url=record.get("objectURL") or None,
            title=record.get("title") or record.get("objectName") or None,
            license="CC0" if record.get("isPublicDomain") else "see page",
            classification=record.get("classification") or record.get("objectName") or None,
        )
