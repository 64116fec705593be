"""The demo's fake museum: about 200 objects behind a replay of The Met's API, with the web's usual
garbage mixed in. Everything is generated from a seed when first asked for; nothing is stored.

    records, images = build_museum(base_url)   # Met-shaped records and image responses
    app = MetApp(records, images)               # serve with servers.base.ReplayServer

What it holds (for seed 7): vases, cups, bowls and cakes photographed on plain and busy
backgrounds at 600–1600 px; exact duplicates (same bytes, other URL); near-duplicates (resized,
re-encoded, padded); objects with a second view; non-vessels; non-public-domain objects (the
spider drops them); and broken images: truncated JPEGs, an HTML page served as image/jpeg, 404s,
a slow response and an oversized file.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache

import numpy as np
from detector.scenes import KINDS, background, draw_distractor, museum_photo
from PIL import Image, ImageOps

from servers import garbage
from servers.base import Response
from servers.met import met_record

SIZES = [(1600, 1200), (1200, 1600), (1024, 1024), (800, 600), (600, 800), (1400, 1000)]
TITLES = {"vase": "Vase", "cup": "Cup", "bowl": "Bowl", "cake": "Cake mould study"}


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def build_museum(
    n_objects: int = 200, seed: int = 7
) -> tuple[list[dict], dict[str, Callable[[], Response]]]:
    plans = []  # (object_id, kind, how)
    for object_id in range(1, n_objects + 1):
        r = object_id % 40
        how = {
            3: "exact_duplicate",  # same bytes as object - 1, a photo
            11: "exact_duplicate",
            6: "near_resized",  # made from object - 2, a photo
            14: "near_recoded",
            22: "near_padded",
            7: "non_vessel",
            17: "non_vessel",
            9: "not_public",
            19: "corrupt",
            23: "html",
            27: "missing",
            29: "slow",
            31: "oversized",
            33: "second_view",
            37: "second_view",
        }.get(r, "photo")
        plans.append((object_id, KINDS[object_id % 4], how))

    @cache
    def photo(object_id: int, view: int = 0) -> bytes:
        local = np.random.default_rng([seed, object_id, view])
        kind = KINDS[object_id % 4]
        size = SIZES[int(local.integers(len(SIZES)))]
        image, _ = museum_photo(kind, size, bool(local.random() < 0.25), local)
        return jpeg_bytes(image)

    @cache
    def non_vessel(object_id: int) -> bytes:
        local = np.random.default_rng([seed, object_id])
        image = background((900, 700), False, local)
        thing = draw_distractor(400, local)
        image.paste(thing, (250, 150), thing)
        return jpeg_bytes(image)

    def near(object_id: int, how: str) -> bytes:
        source = Image.open(io.BytesIO(photo(object_id - 2)))
        if how == "near_resized":
            return jpeg_bytes(
                source.resize((source.width * 3 // 5, source.height * 3 // 5), Image.LANCZOS)
            )
        if how == "near_recoded":
            return jpeg_bytes(source, quality=35)
        return jpeg_bytes(ImageOps.expand(source, border=source.width // 12, fill="white"))

    records, images = [], {}

    def serve(path: str, make: Callable[[], bytes], **kwargs) -> str:
        images[path] = lambda: Response(200, make(), {"Content-Type": "image/jpeg"}, **kwargs)
        return path

    for object_id, kind, how in plans:
        path = f"/images/{object_id}.jpg"
        extra: list[str] = []
        if how in ("photo", "not_public"):
            serve(path, lambda i=object_id: photo(i))
        elif how == "second_view":
            serve(path, lambda i=object_id: photo(i))
            extra.append(serve(f"/images/{object_id}-2.jpg", lambda i=object_id: photo(i, 1)))
        elif how == "exact_duplicate":
            serve(path, lambda i=object_id: photo(i - 1))  # same bytes as the previous object's
        elif how.startswith("near_"):
            serve(path, lambda i=object_id, h=how: near(i, h))
        elif how == "non_vessel":
            serve(path, lambda i=object_id: non_vessel(i))
        elif how == "corrupt":
            serve(path, lambda i=object_id: photo(i)[:20_000])
        elif how == "html":
            serve(path, garbage.html_page)
        elif how == "slow":
            serve(path, lambda i=object_id: photo(i), delay=1.5)
        elif how == "oversized":
            images[path] = lambda: Response(200, oversized(), {"Content-Type": "image/png"})
        # "missing": the record points at an image the server does not have (404)
        title = TITLES[kind] if how != "non_vessel" else f"Woodblock print of a {kind}"
        public = how != "not_public"  # the real API blanks the image fields of closed objects
        records.append(
            met_record(
                object_id,
                title=f"{title} no. {object_id}",
                objectName=title if how != "non_vessel" else "Print",
                classification="Ceramics" if how != "non_vessel" else "Prints",
                tags=["demo", kind if how != "non_vessel" else "print"],
                isPublicDomain=public,
                primaryImage=path if public else "",
                additionalImages=extra if public else [],
            )
        )
    return records, images


@cache
def oversized() -> bytes:
    return garbage.noise_png(1800)  # about 9.7 MB: over the demo's 8 MB download limit


def absolute(records: list[dict], base_url: str) -> list[dict]:
    """The records with image paths turned into URLs on the running server."""

    def url(path: str) -> str:
        return base_url + path if path.startswith("/") else path

    return [
        {
            **r,
            "primaryImage": url(r["primaryImage"]),
            "additionalImages": [url(p) for p in r["additionalImages"]],
        }
        for r in records
    ]
