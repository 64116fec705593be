"""Replays of seven collection APIs in their real response shapes (values invented), for the spiders.

Each `*_app(records)` serves a search over `records` (already in the API's record shape) with the
API's own paging; `*_record(i, ...)` builds one record. Search matches the query against the title
case-insensitively. `faulty(app, faults)` puts scripted answers (429, 500, broken JSON) in front of
chosen requests, keyed by path plus the query parameters named in the key.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from servers.base import Request, Response

App = Callable[[Request], Response]


def faulty(app: App, faults: dict[tuple[str, tuple[tuple[str, str], ...]], list[Response]]) -> App:
    """Answer the listed requests (path, ((param, value), ...)) with the given responses first."""

    def serve(request: Request) -> Response:
        for (path, params), queue in faults.items():
            if request.path == path and queue and all(request.arg(k) == v for k, v in params):
                return queue.pop(0)
        return app(request)

    return serve


def matching(records: list[dict], query: str, title: Callable[[dict], str]) -> list[dict]:
    return [r for r in records if query.lower() in (title(r) or "").lower()]


def page_of(hits: list, start: int, size: int) -> list:
    return hits[start : start + size]


# --- Art Institute of Chicago ------------------------------------------------------------------


def artic_record(i: int, title: str, public: bool = True, image: bool = True, alt: int = 0) -> dict:
    return {
        "id": i,
        "title": title,
        "image_id": f"img-{i}" if image else None,
        "alt_image_ids": [f"img-{i}-{k}" for k in range(alt)],
        "is_public_domain": public,
        "artwork_type_title": "Vessel",
        "copyright_notice": None if public else "© the artist",
    }


def artic_app(records: list[dict]) -> App:
    def serve(request: Request) -> Response:
        if request.path != "/api/v1/artworks/search":
            return Response.json({"status": 404, "error": "Not found"}, status=404)
        hits = matching(records, request.arg("q", ""), lambda r: r["title"])
        if request.arg("query[term][is_public_domain]") == "true":
            hits = [r for r in hits if r["is_public_domain"]]
        limit, page = int(request.arg("limit", "10")), int(request.arg("page", "1"))
        fields = (request.arg("fields") or "id,title").split(",")
        data = [{k: r.get(k) for k in fields} for r in page_of(hits, (page - 1) * limit, limit)]
        total_pages = -(-len(hits) // limit)
        return Response.json(
            {
                "preference": None,
                "pagination": {
                    "total": len(hits),
                    "limit": limit,
                    "offset": (page - 1) * limit,
                    "total_pages": total_pages,
                    "current_page": page,
                },
                "data": data,
                "info": {"license_text": "CC0", "license_links": [], "version": "1.13"},
                "config": {
                    "iiif_url": "https://www.artic.edu/iiif/2",
                    "website_url": "http://www.artic.edu",
                },
            }
        )

    return serve


# --- Cleveland Museum of Art -----------------------------------------------------------------------


def cleveland_record(
    i: int, title: str, cc0: bool = True, image: bool = True, alt: int = 0
) -> dict:
    def rendition(name: str) -> dict:
        return {
            "print": {
                "url": f"https://openaccess-cdn.clevelandart.org/{name}_print.jpg",
                "width": "3400",
                "filesize": "1234567",
            },
            "web": {
                "url": f"https://openaccess-cdn.clevelandart.org/{name}_web.jpg",
                "width": "1000",
            },
            "full": {"url": f"https://openaccess-cdn.clevelandart.org/{name}_full.tif"},
        }

    return {
        "id": 90000 + i,
        "accession_number": f"1953.{i}",
        "title": title,
        "type": "Ceramic",
        "url": f"https://clevelandart.org/art/1953.{i}",
        "share_license_status": "CC0" if cc0 else "Copyrighted",
        "copyright": None if cc0 else "© estate",
        "images": rendition(f"1953.{i}") if image else None,
        "alternate_images": [rendition(f"1953.{i}-alt{k}") for k in range(alt)],
    }


def cleveland_app(records: list[dict]) -> App:
    def serve(request: Request) -> Response:
        if request.path != "/api/artworks/":
            return Response.json({"detail": "Not Found"}, status=404)
        hits = matching(records, request.arg("q", ""), lambda r: r["title"])
        if request.arg("cc0"):
            hits = [r for r in hits if r["share_license_status"] == "CC0"]
        if request.arg("has_image"):
            hits = [r for r in hits if r["images"]]
        skip, limit = int(request.arg("skip", "0")), int(request.arg("limit", "1000"))
        parameters = {k: v[0] for k, v in request.query.items()}
        return Response.json(
            {
                "info": {"total": len(hits), "parameters": parameters},
                "data": page_of(hits, skip, limit),
            }
        )

    return serve


# --- Harvard Art Museums ---------------------------------------------------------------------------


def harvard_record(i: int, title: str, images: int = 1, permission: int = 0) -> dict:
    shots = [
        {
            "baseimageurl": f"https://nrs.harvard.edu/urn-3:HUAM:{i}-{k}_dynmc",
            "displayorder": k + 1,
            "copyright": "© President and Fellows of Harvard College",
            "iiifbaseuri": f"https://ids.lib.harvard.edu/ids/iiif/{i}{k}",
        }
        for k in range(images)
    ]
    return {
        "objectid": i,
        "id": i,
        "title": title,
        "classification": "Vessels",
        "classificationid": 57,
        "url": f"https://www.harvardartmuseums.org/collections/object/{i}",
        "imagepermissionlevel": permission,
        "primaryimageurl": shots[0]["baseimageurl"] if shots else None,
        "images": shots,
    }


def harvard_app(records: list[dict], key: str) -> App:
    def serve(request: Request) -> Response:
        if request.arg("apikey") != key:
            return Response.json({"error": "Unauthorized"}, status=401)
        hits = matching(records, request.arg("q", ""), lambda r: r["title"])
        size, page = int(request.arg("size", "10")), int(request.arg("page", "1"))
        pages = -(-len(hits) // size)
        info = {
            "totalrecordsperquery": size,
            "totalrecords": len(hits),
            "pages": pages,
            "page": page,
        }
        if page < pages:
            info["next"] = f"https://api.harvardartmuseums.org/object?page={page + 1}"
        if page > 1:
            info["prev"] = f"https://api.harvardartmuseums.org/object?page={page - 1}"
        return Response.json({"info": info, "records": page_of(hits, (page - 1) * size, size)})

    return serve


# --- Rijksmuseum -------------------------------------------------------------------------------------


def rijks_record(i: int, title: str, download: bool = True, image: bool = True) -> dict:
    number = f"AK-MAK-{i}"
    return {
        "links": {
            "self": f"http://www.rijksmuseum.nl/api/en/collection/{number}",
            "web": f"http://www.rijksmuseum.nl/en/collection/{number}",
        },
        "id": f"en-{number}",
        "objectNumber": number,
        "title": title,
        "hasImage": image,
        "principalOrFirstMaker": "anonymous",
        "longTitle": f"{title}, anonymous, c. 1700",
        "showImage": image,
        "permitDownload": download,
        "webImage": {
            "guid": f"g{i}",
            "width": 2500,
            "height": 2000,
            "url": f"https://lh3.googleusercontent.com/img{i}=s0",
        }
        if image
        else None,
        "headerImage": None,
        "productionPlaces": [],
    }


def rijks_app(records: list[dict], key: str) -> App:
    def serve(request: Request) -> Response:
        if request.arg("key") != key:
            return Response(401, b"Invalid key")
        hits = matching(records, request.arg("q", ""), lambda r: r["title"])
        if request.arg("imgonly") == "True":
            hits = [r for r in hits if r["hasImage"]]
        ps, p = int(request.arg("ps", "10")), int(request.arg("p", "0"))
        return Response.json(
            {
                "elapsedMilliseconds": 12,
                "count": len(hits),
                "countFacets": {"hasimage": len(hits), "ondisplay": 0},
                "artObjects": page_of(hits, p * ps, ps),
                "facets": [],
            }
        )

    return serve


# --- Victoria and Albert Museum ----------------------------------------------------------------------


def vam_record(i: int, title: str, image: bool = True) -> dict:
    number = f"O{100000 + i}"
    base = f"https://framemark.vam.ac.uk/collections/2006AM{i}/"
    return {
        "systemNumber": number,
        "accessionNumber": f"C.{i}-1920",
        "objectType": "Vase",
        "_primaryTitle": title,
        "_primaryMaker": {"name": "", "association": ""},
        "_primaryImageId": f"2006AM{i}" if image else None,
        "_images": {
            "_primary_thumbnail": f"{base}full/!100,100/0/default.jpg",
            "_iiif_image_base_url": base,
            "_iiif_presentation_url": None,
        }
        if image
        else None,
    }


def vam_app(records: list[dict]) -> App:
    def serve(request: Request) -> Response:
        if request.path != "/v2/objects/search":
            return Response.json({"detail": "Not Found"}, status=404)
        hits = matching(records, request.arg("q", ""), lambda r: r["_primaryTitle"])
        if request.arg("images_exist") == "1":
            hits = [r for r in hits if r["_images"]]
        size, page = int(request.arg("page_size", "15")), int(request.arg("page", "1"))
        info = {
            "version": "2.0",
            "record_count": len(hits),
            "record_count_exact": True,
            "parameters": {},
            "page_size": size,
            "pages": -(-len(hits) // size),
            "page": page,
            "image_count": len(hits),
        }
        return Response.json({"info": info, "records": page_of(hits, (page - 1) * size, size)})

    return serve


# --- Smithsonian Open Access -------------------------------------------------------------------------


def smithsonian_record(i: int, title: str, media: list[str]) -> dict:
    """`media`: the usage of each image, e.g. ["CC0", "Usage conditions apply"]."""
    items = [
        {
            "type": "Images",
            "content": f"https://ids.si.edu/ids/deliveryService?id=FS-{i}-{k}",
            "thumbnail": f"https://ids.si.edu/ids/deliveryService?id=FS-{i}-{k}&max=90",
            "usage": {"access": usage},
        }
        for k, usage in enumerate(media)
    ]
    content = {
        "descriptiveNonRepeating": {
            "record_ID": f"fsg_{i}",
            "title": {"label": "Title", "content": title},
            "record_link": f"https://asia.si.edu/object/F1900.{i}/",
            "metadata_usage": {"access": "CC0"},
        },
        "indexedStructured": {"object_type": ["Vessel"]},
    }
    if items:
        content["descriptiveNonRepeating"]["online_media"] = {
            "mediaCount": len(items),
            "media": items,
        }
    return {
        "id": f"ld1-{i}",
        "title": title,
        "unitCode": "FSG",
        "type": "edanmdm",
        "url": f"edanmdm:fsg_{i}",
        "content": content,
    }


def smithsonian_app(records: list[dict], key: str) -> App:
    def serve(request: Request) -> Response:
        if request.arg("api_key") != key:
            return Response.json(
                {"error": {"code": "API_KEY_MISSING", "message": "No api_key was supplied."}},
                status=403,
            )
        q = request.arg("q", "")
        term = q.split(" AND ")[0]
        hits = matching(records, term, lambda r: r["title"])
        if "media_usage:CC0" in q:
            hits = [
                r
                for r in hits
                if any(
                    m["usage"]["access"] == "CC0"
                    for m in r["content"]["descriptiveNonRepeating"]
                    .get("online_media", {})
                    .get("media", [])
                )
            ]
        start, rows = int(request.arg("start", "0")), int(request.arg("rows", "10"))
        return Response.json(
            {
                "status": 200,
                "responseCode": 1,
                "response": {
                    "rows": page_of(hits, start, rows),
                    "rowCount": len(hits),
                    "message": "content found",
                },
            }
        )

    return serve


# --- Europeana -------------------------------------------------------------------------------------------

PDM = "http://creativecommons.org/publicdomain/mark/1.0/"
IN_COPYRIGHT = "http://rightsstatements.org/vocab/InC/1.0/"


def europeana_record(i: int, title: str, rights: str = PDM, image: bool = True) -> dict:
    return {
        "id": f"/2048128/item_{i}",
        "type": "IMAGE",
        "title": [title],
        "rights": [rights],
        "previewNoDistribute": False,
        "guid": f"https://www.europeana.eu/item/2048128/item_{i}?utm_source=api&utm_medium=api",
        "edmIsShownBy": [f"https://museum.example/images/{i}.jpg"] if image else [],
        "edmIsShownAt": [f"https://museum.example/objects/{i}"],
        "edmPreview": [f"https://api.europeana.eu/thumbnail/v2/url.json?uri={i}"],
    }


def europeana_app(records: list[dict], key: str) -> App:
    def serve(request: Request) -> Response:
        if request.arg("wskey") != key:
            return Response.json({"success": False, "error": "Invalid API key"}, status=401)
        hits = matching(records, request.arg("query", ""), lambda r: r["title"][0])
        if request.arg("media") == "true":
            hits = [r for r in hits if r["edmIsShownBy"]]
        rows = int(request.arg("rows", "12"))
        cursor = request.arg("cursor", "*")
        start = 0 if cursor == "*" else int(cursor.removeprefix("c"))
        body = {
            "apikey": key,
            "success": True,
            "requestNumber": 999,
            "itemsCount": len(page_of(hits, start, rows)),
            "totalResults": len(hits),
            "items": page_of(hits, start, rows),
        }
        if start + rows < len(hits):
            body["nextCursor"] = f"c{start + rows}"
        return Response(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    return serve
