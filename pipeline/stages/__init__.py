"""Pipeline stages: one module each, items in, results out; none of them knows the manifest or CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# What one image URL carries from a spider or an input file into the manifest.
ITEM_FIELDS = (
    "source",
    "object_id",
    "url",
    "page_url",
    "title",
    "license",
    "classification",
    "scraped_at",
)


@dataclass
class Result:
    """What a stage says about one item: the runner turns it into manifest rows.

    `status` is "ok" or a stage-specific word ("failed", "no_object", "duplicate", ...); `reason`
    is a short machine-friendly cause from the stage's documented set (e.g. "http_404"); `data`
    carries the payload the manifest stores (sizes, hashes, boxes, paths).
    """

    item_id: int
    status: str
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"
