"""Which spider serves which `kind:` of source."""

from spiders.met import MetSpider

SPIDERS = {"met": MetSpider}
