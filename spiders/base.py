"""What every API spider shares: its source settings, the object limit, and de-duplication of
objects found by several query terms.

Resuming: Scrapy's JOBDIR keeps the request queue across a clean stop, but a crawl killed with
SIGKILL leaves that queue stale. So spiders also re-issue their searches on every start
(`dont_filter`) and skip objects the JSONL file already holds: a killed crawl ends complete
and without duplicates either way.
"""

from __future__ import annotations

import json
from typing import Any

import scrapy
from scrapy.exceptions import CloseSpider

from spiders.items import ImageItem


class ApiSpider(scrapy.Spider):
    """Configured from one `sources:` entry: queries, limit, api_base, api key, licence rule."""

    def __init__(
        self,
        source: dict[str, Any] | None = None,
        api_key: str | None = None,
        done_objects: list[str] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        source = source or {}
        self.source_name = source.get("name", self.name)
        self.queries = source.get("queries") or ["vase"]
        self.limit = source.get("limit")
        self.api_base = (source.get("api_base") or self.default_api_base).rstrip("/")
        self.any_license = bool(source.get("any_license"))
        self.options = source.get("options") or {}
        self.api_key = api_key
        # Objects already written by an earlier, interrupted run are not fetched again.
        self.objects_seen: set[str] = set(done_objects or [])
        self.objects_kept = 0

    default_api_base = ""

    def first_visit(self, object_id: Any) -> bool:
        """True once per object, however many queries find it."""
        key = str(object_id)
        if key in self.objects_seen:
            return False
        self.objects_seen.add(key)
        return True

    def load_json(self, response) -> Any | None:
        """The page as JSON, or None (logged and counted) when the server sent something else."""
        try:
            return json.loads(response.text)
        except (ValueError, AttributeError):
            self.logger.warning("not JSON: %s (HTTP %s); going on", response.url, response.status)
            self.crawler.stats.inc_value("curate/bad_json")
            return None

    def open_licence(self, is_open: bool) -> bool:
        """Keep the object? By default only open (public-domain / CC0) objects are kept."""
        if is_open or self.any_license:
            return True
        self.crawler.stats.inc_value("curate/dropped/not open licence")
        return False

    def images(self, object_id: Any, urls: list[str], **fields: Any):
        """One item per image URL of an object; counts the object against the limit."""
        urls = [u for u in dict.fromkeys(urls) if u]
        if not urls:
            self.crawler.stats.inc_value("curate/dropped/no image")
            return
        if self.limit and self.objects_kept >= self.limit:
            raise CloseSpider("limit reached")
        self.objects_kept += 1
        for url in urls:
            yield ImageItem(
                source=self.source_name,
                object_id=str(object_id),
                url=url,
                object_images=len(urls),
                **fields,
            )
