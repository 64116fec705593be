"""Honour Retry-After on 429 and 503 before Scrapy's own retry takes the response."""

from __future__ import annotations

import email.utils
import time

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater


def retry_after_seconds(value: bytes | str | None) -> float | None:
    if not value:
        return None
    text = value.decode() if isinstance(value, bytes) else value
    if text.strip().isdigit():
        return float(text)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(text).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class RetryAfterMiddleware:
    """Wait what the server asked (at most RETRY_AFTER_CAP seconds), then let RetryMiddleware
    (which runs after this one on the way back) schedule the retry as usual."""

    def __init__(self, cap: float, crawler=None):
        self.cap = cap
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getfloat("RETRY_AFTER_CAP", 60.0), crawler)

    async def process_response(self, request, response):
        if response.status in (429, 503):
            delay = retry_after_seconds(response.headers.get("Retry-After"))
            if delay:
                from twisted.internet import reactor  # imported late: Scrapy installs the reactor

                self.crawler.spider.logger.info(
                    "%s asked to wait %.1f s (Retry-After)", request.url, delay
                )
                await maybe_deferred_to_future(
                    deferLater(reactor, min(delay, self.cap), lambda: None)
                )
        return response
