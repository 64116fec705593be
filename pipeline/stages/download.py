"""Download stage: fetch image URLs concurrently, politely and safely into content-addressed files.

Threads wait on the network, so a thread pool of `concurrency` workers, each with its own
keep-alive `requests.Session`, does the fetching; a semaphore per host caps how many of them talk
to one server at once. Every response is streamed with a byte limit (which also stops gzip bombs,
since the limit applies to decoded bytes), must decode as an image under a pixel limit, and is
written to raw/<ab>/<sha256>.<ext> through a temporary name, so no half-written original exists.

Every failure is a `Result` with one of REASONS, never an exception.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import random
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from PIL import Image, UnidentifiedImageError

from pipeline.atomic import atomic_path, clean_partial
from pipeline.config import DownloadSettings
from pipeline.stages import Result

# The fixed set of reasons a download can fail with (documented in README).
REASONS = {
    "http_404": "the server says the image does not exist",
    "http_4xx": "another client error (401, 403, 410, ...), not retried",
    "http_429": "still rate-limited after every retry",
    "http_5xx": "server error, still failing after every retry",
    "timeout": "no answer within the read timeout, or the item's total deadline passed",
    "connection_error": "DNS failure, refused or reset connection, TLS error",
    "too_many_redirects": "more redirects than download.max_redirects (or a loop)",
    "bad_scheme": "not http(s) (file:, ftp:, data: ...), also when a redirect leads there",
    "too_large": "more bytes than download.max_bytes (checked on decoded bytes: gzip bombs too)",
    "empty": "the body had no bytes",
    "not_image": "the bytes are not an image format we read (HTML, SVG, PDF, ...)",
    "corrupt": "an image format, but it does not decode (truncated, damaged)",
    "decompression_bomb": "more pixels than download.max_pixels",
    "missing_file": "a local file from an ingested folder is gone",
}

EXTENSIONS = {
    "JPEG": "jpg",
    "PNG": "png",
    "WEBP": "webp",
    "GIF": "gif",
    "TIFF": "tif",
    "BMP": "bmp",
    "MPO": "jpg",
}


class Failure(Exception):
    """Internal: ends one item's fetch with a reason (never leaves the stage)."""

    def __init__(
        self, reason: str, http_status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status
        self.retry_after = retry_after
        self.attempts = 0


@dataclass
class Fetched:
    body: bytes
    http_status: int | None
    attempts: int


class Downloader:
    """Fetch items ({id, url, local_path}) into `raw_dir`; one `Result` per item."""

    def __init__(
        self, settings: DownloadSettings, raw_dir: Path, user_agent: str, tidy: bool = True
    ):
        self.settings = settings
        self.raw_dir = raw_dir
        self.user_agent = user_agent
        self._local = threading.local()
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._hosts_lock = threading.Lock()
        if tidy:  # leftovers of a run killed mid-write (with many workers, the driver does it once)
            clean_partial(raw_dir)

    # --- the stage interface -------------------------------------------------------------

    def process(self, items: Iterable[dict[str, Any]]) -> Iterator[Result]:
        """Results in completion order; at most 2×concurrency items are in flight or queued."""
        window = 2 * self.settings.concurrency
        with ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="download") as pool:
            running: set[Future] = set()
            for item in items:
                running.add(pool.submit(self.fetch_item, item))
                if len(running) >= window:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    yield from (future.result() for future in done)
            for future in running:
                yield future.result()

    def fetch_item(self, item: dict[str, Any]) -> Result:
        try:
            if item.get("local_path"):
                fetched = Fetched(self._read_local(Path(item["local_path"])), None, 0)
            else:
                fetched = self._fetch(item["url"])
            info = probe_image(fetched.body, self.settings.max_pixels)
            sha256 = hashlib.sha256(fetched.body).hexdigest()
            path = self._store(fetched.body, sha256, info["format"])
        except Failure as failure:
            return Result(
                item["id"],
                "failed",
                failure.reason,
                {"http_status": failure.http_status, "attempts": failure.attempts},
            )
        return Result(
            item["id"],
            "ok",
            data={
                **info,
                "sha256": sha256,
                "bytes": len(fetched.body),
                "path": path,
                "http_status": fetched.http_status,
                "attempts": fetched.attempts,
            },
        )

    # --- fetching ------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(
                pool_connections=16, pool_maxsize=self.settings.per_host, max_retries=0
            )
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = self.user_agent
            session.headers["Accept"] = (
                "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8,*/*;q=0.5"
            )
            self._local.session = session
        return session

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        host = urlsplit(url).netloc.lower()
        with self._hosts_lock:
            if host not in self._hosts:
                self._hosts[host] = threading.BoundedSemaphore(self.settings.per_host)
            return self._hosts[host]

    def _fetch(self, url: str) -> Fetched:
        """GET with retries on connection errors, 429 and 5xx, within the item's deadline."""
        deadline = time.monotonic() + self.settings.deadline
        attempt = 0
        while True:
            attempt += 1
            try:
                body, status = self._get_following_redirects(url, deadline)
                return Fetched(body, status, attempt)
            except Failure as failure:
                failure.attempts = attempt
                retryable = failure.reason in ("connection_error", "http_429", "http_5xx") or (
                    failure.reason == "timeout" and time.monotonic() < deadline
                )
                if not retryable or attempt > self.settings.retries:
                    raise
                pause = self._backoff(attempt, failure.retry_after)
                if time.monotonic() + pause >= deadline:
                    raise
                time.sleep(pause)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.settings.retry_after_cap)
        # Exponential backoff with full jitter: 0.5 s, 1 s, 2 s … scaled by a random factor.
        return random.uniform(0.5, 1.0) * min(0.5 * 2 ** (attempt - 1), 30.0)

    def _get_following_redirects(self, url: str, deadline: float) -> tuple[bytes, int]:
        for _ in range(self.settings.max_redirects + 1):
            check_scheme(url)
            with self._host_slot(url):
                try:
                    response = self._session().get(
                        url,
                        stream=True,
                        allow_redirects=False,
                        timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                    )
                except requests.Timeout:
                    raise Failure("timeout") from None
                except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                    raise Failure("connection_error") from None
                except (
                    requests.exceptions.InvalidURL,
                    requests.exceptions.MissingSchema,
                    ValueError,
                ):
                    raise Failure("bad_scheme") from None
                with response:
                    if response.is_redirect and "Location" in response.headers:
                        url = urljoin(url, response.headers["Location"])
                        continue
                    status = response.status_code
                    if status >= 400:
                        raise Failure(status_reason(status), status, retry_after_seconds(response))
                    return self._read_body(response, deadline), status
        raise Failure("too_many_redirects")

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        limit = self.settings.max_bytes
        declared = response.headers.get("Content-Length")
        if (
            declared
            and declared.isdigit()
            and int(declared) > limit
            and "Content-Encoding" not in response.headers
        ):
            raise Failure("too_large", response.status_code)
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(chunk_size=1 << 16):
                size += len(chunk)
                if size > limit:
                    raise Failure("too_large", response.status_code)
                if time.monotonic() > deadline:
                    raise Failure("timeout", response.status_code)
                chunks.append(chunk)
        except requests.exceptions.ConnectionError:
            # requests reports a read timeout in the middle of a body as a ConnectionError.
            raise Failure("timeout", response.status_code) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            raise Failure("connection_error", response.status_code) from None
        return b"".join(chunks)

    def _read_local(self, path: Path) -> bytes:
        try:
            if path.stat().st_size > self.settings.max_bytes:
                raise Failure("too_large")
            return path.read_bytes()
        except FileNotFoundError:
            raise Failure("missing_file") from None

    # --- storing -------------------------------------------------------------------------

    def _store(self, body: bytes, sha256: str, image_format: str) -> str:
        """Write once under raw/<ab>/<sha256>.<ext>; return the path relative to the data dir."""
        relative = Path("raw") / sha256[:2] / f"{sha256}.{EXTENSIONS.get(image_format, 'img')}"
        target = self.raw_dir.parent / relative
        if not target.exists():
            with atomic_path(target) as temp:
                temp.write_bytes(body)
        return relative.as_posix()


def check_scheme(url: str) -> None:
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise Failure("bad_scheme")


def status_reason(status: int) -> str:
    if status == 404:
        return "http_404"
    if status == 429:
        return "http_429"
    return "http_5xx" if status >= 500 else "http_4xx"


def retry_after_seconds(response: requests.Response) -> float | None:
    """Retry-After as seconds (it may be a number or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def probe_image(body: bytes, max_pixels: int) -> dict[str, Any]:
    """Format and size of an image, or a Failure saying why the bytes are not a usable image.

    The header tells the size before any pixel is decoded, so bombs are refused cheaply; then the
    whole file is decoded (JPEGs at 1/8 scale via draft mode: every byte is still parsed, so a
    truncated file is caught at a fraction of the cost).
    """
    if not body:
        raise Failure("empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(body))
            width, height = image.size
            if width * height > max_pixels:
                raise Failure("decompression_bomb")
            if image.format == "JPEG":
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
            return {"format": image.format, "width": width, "height": height}
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Failure("decompression_bomb") from None
    except UnidentifiedImageError:
        raise Failure("not_image") from None
    except Failure:
        raise
    except Exception:  # Pillow raises many types for damaged data: OSError, SyntaxError, ...
        raise Failure("corrupt") from None
