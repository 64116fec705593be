"""The Scrapy project that finds image URLs: one spider per source, run by `curate scrape`.

Spiders only parse and yield items; validation and writing live in pipelines.py; politeness
lives in settings.py (as in Scrapy's own project template).
"""
