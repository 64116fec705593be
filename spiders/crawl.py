"""Run one source's spider in this process: `python -m spiders.crawl SOURCE_JSON`.

`curate scrape` starts one of these per source (Twisted's reactor runs once per process, and a
separate process per source keeps a killed crawl from taking the others with it). It prints the
crawl's counts as one JSON line at the end.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from spiders.registry import SPIDERS


def done_objects(job: dict) -> list[str]:
    """Objects whose every image line is already in this source's JSONL (from an earlier,
    interrupted run); an object cut short by a kill is fetched again."""
    path = Path(job["settings"]["CURATE_OUT_DIR"]) / f"{job['source']['name']}.jsonl"
    if not path.exists():
        return []
    lines: dict[str, int] = {}
    wanted: dict[str, int] = {}
    for line in path.read_bytes().splitlines():
        if line.strip().endswith(b"}"):
            record = json.loads(line)
            key = str(record.get("object_id"))
            lines[key] = lines.get(key, 0) + 1
            wanted[key] = record.get("object_images") or 1
    return sorted(key for key, count in lines.items() if count >= wanted[key])


def main() -> None:
    job = json.loads(sys.argv[1])
    settings = get_project_settings()
    settings.setmodule("spiders.settings")
    settings.update(job.get("settings", {}))
    process = CrawlerProcess(settings)
    spider_class = SPIDERS[job["source"]["kind"]]
    crawler = process.create_crawler(spider_class)
    process.crawl(
        crawler, source=job["source"], api_key=job.get("api_key"), done_objects=done_objects(job)
    )
    process.start()
    stats = crawler.stats.get_stats()
    counts = {
        "source": job["source"]["name"],
        "objects": stats.get("curate/objects", 0),
        "kept": stats.get("curate/kept", 0),
        "requests": stats.get("downloader/request_count", 0),
        "dropped": {
            k.removeprefix("curate/dropped/"): v
            for k, v in stats.items()
            if k.startswith("curate/dropped/")
        },
        "bad_json": stats.get("curate/bad_json", 0),
        "finish_reason": stats.get("finish_reason"),
    }
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
