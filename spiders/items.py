"""What every spider yields: one image URL with its provenance."""

from __future__ import annotations

import scrapy


class ImageItem(scrapy.Item):
    source = scrapy.Field()  # the source's name in sources.yaml
    object_id = scrapy.Field()  # the collection's id of the object (several images share it)
    url = scrapy.Field()  # the image itself
    page_url = scrapy.Field()  # the object's page, for people
    title = scrapy.Field()
    license = scrapy.Field()  # e.g. "CC0", "Public Domain", or the API's own words
    classification = scrapy.Field()  # the collection's type/classification, when it has one
    scraped_at = scrapy.Field()
    object_images = scrapy.Field()  # how many image URLs the object has: a resumed crawl refetches
    # objects with fewer lines than that (a kill can land between two lines of one object)
