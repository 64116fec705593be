"""Which spider serves which `kind:` of source."""

from spiders.apis import (
    ArticSpider,
    ClevelandSpider,
    EuropeanaSpider,
    HarvardSpider,
    RijksmuseumSpider,
    SmithsonianSpider,
    VamSpider,
)
from spiders.gallery import GallerySpider
from spiders.met import MetSpider

SPIDERS = {
    spider.name: spider
    for spider in (
        MetSpider,
        ArticSpider,
        ClevelandSpider,
        HarvardSpider,
        RijksmuseumSpider,
        VamSpider,
        SmithsonianSpider,
        EuropeanaSpider,
        GallerySpider,
    )
}
