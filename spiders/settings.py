"""Scrapy settings: polite by default. `curate scrape` overrides a few from sources.yaml."""

BOT_NAME = "vessel-curate"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

USER_AGENT = "vessel-curate/0.1 (+https://github.com/vessel-curate/vessel-curate)"
ROBOTSTXT_OBEY = True

# Be gentle with public collections: few requests per host, adapt to the server's latency.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# 429 and 5xx are retried; a Retry-After header is honoured (capped) by RetryAfterMiddleware.
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_AFTER_CAP = 60.0
DOWNLOADER_MIDDLEWARES = {"spiders.middlewares.RetryAfterMiddleware": 540}

ITEM_PIPELINES = {
    "spiders.pipelines.ValidatePipeline": 100,
    "spiders.pipelines.JsonlWriterPipeline": 200,
}

HTTPCACHE_ENABLED = False  # `scrape.http_cache: true` in sources.yaml turns it on for development
HTTPCACHE_DIR = "httpcache"

LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
