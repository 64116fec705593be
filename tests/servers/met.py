"""A replay of The Met's Collection API, in its real response shapes, over a list of records.

    app = MetApp(records, images={"/img/1.jpg": b"..."}, faults={"/path": [Response(429, ...)]})
    with ReplayServer(app) as server:
        ...  # api base: server.url + "/public/collection"

`records` are object records as /v1/objects/{id} returns them (objectID, title, objectName,
isPublicDomain, primaryImage, additionalImages, objectURL, classification, ... — `met_record`
fills in the rest). Search matches a query against title, objectName, classification and tags,
case-insensitively, like the real one roughly does. `faults` maps a path (with query string for
searches) to responses served before the normal answer, for retry tests. `images` maps a path on
this server to bytes, or to a callable returning a Response (slow, broken, ...).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from servers.base import Request, Response

BASE = "/public/collection"


def met_record(object_id: int, **fields: Any) -> dict[str, Any]:
    """A full object record with the real API's fields; text fields default to "" as there."""
    record = {
        "objectID": object_id,
        "isHighlight": False,
        "accessionNumber": f"{object_id}.1",
        "isPublicDomain": True,
        "primaryImage": "",
        "primaryImageSmall": "",
        "additionalImages": [],
        "constituents": None,
        "department": "Asian Art",
        "objectName": "",
        "title": "",
        "culture": "",
        "period": "",
        "objectDate": "",
        "medium": "Porcelain",
        "classification": "",
        "tags": None,
        "objectURL": f"https://www.metmuseum.org/art/collection/search/{object_id}",
        "measurements": None,
    }
    record.update(fields)
    return record


class MetApp:
    def __init__(
        self,
        records: list[dict[str, Any]],
        images: dict[str, bytes | Callable[[], Response]] | None = None,
        faults: dict[str, list[Response]] | None = None,
    ):
        self.records = {int(r["objectID"]): r for r in records}
        self.images = images or {}
        self.faults = {key: list(value) for key, value in (faults or {}).items()}

    def __call__(self, request: Request) -> Response:
        key = request.path + (
            "?" + urlencode({k: v[0] for k, v in request.query.items()}) if request.query else ""
        )
        for candidate in (key, request.path):
            if self.faults.get(candidate):
                return self.faults[candidate].pop(0)
        if request.path == "/robots.txt":
            return Response(200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"})
        if request.path in self.images:
            image = self.images[request.path]
            return (
                image() if callable(image) else Response(200, image, {"Content-Type": "image/jpeg"})
            )
        if request.path == f"{BASE}/v1/search":
            return Response.json(
                {
                    "message": "This endpoint was retired on 2026-10-01.",
                    "replacement": f"{BASE}/v1.1/search",
                    "documentation": "https://metmuseum.github.io/",
                },
                status=410,
            )
        if request.path == f"{BASE}/v1.1/search":
            return self.search(request)
        if request.path.startswith(f"{BASE}/v1/objects/"):
            raw = request.path.rsplit("/", 1)[1]
            if not raw.isdigit():
                return Response.json({"message": "could not parse objectID"}, status=400)
            record = self.records.get(int(raw))
            if record is None:
                return Response.json({"message": "ObjectID not found"}, status=404)
            return Response(200, json.dumps(record).encode(), {"Content-Type": "application/json"})
        return Response.json({"message": "Not Found"}, status=404)

    def search(self, request: Request) -> Response:
        query = (request.arg("q") or "").lower()
        has_images = (
            request.arg("hasImages") == "true"
        )  # values are case-sensitive, as on the real API
        hits = []
        for object_id, record in sorted(self.records.items()):
            text = " ".join(
                [
                    record["title"],
                    record["objectName"],
                    record["classification"],
                    *(record.get("tags") or []),
                ]
            ).lower()
            if query in text and (
                not has_images or record["primaryImage"] or not record["isPublicDomain"]
            ):
                hits.append(object_id)
        offset = max(0, int(request.arg("offset", "0")))
        limit = int(request.arg("limit", "100"))
        limit = 100 if limit <= 0 else min(limit, 500)
        window = hits[:10_000]
        page = window[offset : offset + limit]
        return Response.json({"total": len(hits), "objectIDs": page or None})
