"""Which spider serves which `kind:` of source."""

from spiders.gallery import GallerySpider
from spiders.met import MetSpider

SPIDERS = {"met": MetSpider, "gallery": GallerySpider}
