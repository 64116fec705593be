"""Validate items and write them to data/urls/<source>.jsonl, resumably.

The writer appends (a resumed crawl adds to what is there) and first reads the URLs already in
the file, so an object fetched again after a kill is not written twice.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from scrapy.exceptions import DropItem

from pipeline.stages.ingest import check_url


class ValidatePipeline:
    """Drop items that cannot become manifest rows, counting why."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item, spider=None):
        if reason := check_url(item.get("url")):
            self.stats.inc_value(f"curate/dropped/{reason}")
            raise DropItem(reason)
        if not item.get("object_id"):
            self.stats.inc_value("curate/dropped/no object id")
            raise DropItem("no object id")
        item.setdefault("scraped_at", datetime.now(UTC).isoformat(timespec="seconds"))
        return item


class JsonlWriterPipeline:
    def __init__(self, out_dir: Path, crawler):
        self.out_dir = out_dir
        self.crawler = crawler
        self.stats = crawler.stats
        self.handle = None
        self.seen: set[str] = set()
        self.objects: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(Path(crawler.settings.get("CURATE_OUT_DIR", "data/urls")), crawler)

    def open_spider(self, spider=None):
        self.out_dir.mkdir(parents=True, exist_ok=True)
        spider = self.crawler.spider  # newer Scrapy no longer passes it here
        path = self.out_dir / f"{getattr(spider, 'source_name', spider.name)}.jsonl"
        if path.exists():
            # A killed run may have left a half line at the end: keep only whole lines.
            lines = path.read_bytes().split(b"\n")
            whole = [line for line in lines if line.strip().endswith(b"}")]
            for line in whole:
                record = json.loads(line)
                self.seen.add(record["url"])
                self.objects.add(str(record.get("object_id")))
            path.write_bytes(b"".join(line + b"\n" for line in whole))
        self.handle = path.open("a", encoding="utf-8")

    def close_spider(self, spider=None):
        if self.handle:
            self.handle.close()

    def process_item(self, item, spider=None):
        if item["url"] in self.seen:
            self.stats.inc_value("curate/dropped/already written")
            raise DropItem("already written")
        self.seen.add(item["url"])
        self.objects.add(str(item["object_id"]))
        self.handle.write(json.dumps(dict(item), ensure_ascii=False, sort_keys=True) + "\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())  # a line written is a line kept, even on SIGKILL
        self.stats.inc_value("curate/kept")
        self.stats.set_value("curate/objects", len(self.objects))
        return item
