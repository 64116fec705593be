"""The web's garbage, made on demand: bytes that claim to be images and are not quite.

Used by the reliability suite and by the demo museum. Every function returns the bytes of one
bad (or merely awkward) file; none needs a file on disk or the network.
"""

from __future__ import annotations

import gzip
import io
import struct
import zlib

import piexif
from PIL import Image, ImageDraw


def jpeg(size: tuple[int, int] = (320, 240), color: str = "#c8a070", quality: int = 90) -> bytes:
    """A plain, valid JPEG with a shape on it (the good case)."""
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).ellipse(
        (size[0] // 4, size[1] // 6, 3 * size[0] // 4, 5 * size[1] // 6), fill=color
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def zero_bytes() -> bytes:
    return b""


def truncated_jpeg() -> bytes:
    data = jpeg((640, 480))
    return data[: len(data) // 3]


def html_page() -> bytes:
    return b"<!doctype html><html><head><title>Request unsuccessful</title></head><body>Incapsula incident ID</body></html>"


def svg() -> bytes:
    return b"<svg xmlns='http://www.w3.org/2000/svg' width='100' height='100'><circle cx='50' cy='50' r='40'/></svg>"


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def animated_gif() -> bytes:
    frames = [Image.new("P", (64, 64), i * 40) for i in range(4)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def png_16bit() -> bytes:
    image = Image.new("I;16", (96, 64))
    image.putdata([(x * 700) % 65535 for x in range(96 * 64)])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def cmyk_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("CMYK", (120, 90), (0, 60, 120, 10)).save(out, "JPEG")
    return out.getvalue()


def palette_png_with_transparency() -> bytes:
    image = Image.new("P", (80, 80), 0)
    image.putpalette([255, 255, 255, 200, 50, 50] + [0] * 762)
    ImageDraw.Draw(image).rectangle((20, 10, 60, 70), fill=1)
    out = io.BytesIO()
    image.save(out, "PNG", transparency=0)
    return out.getvalue()


def exif_rotated_jpeg() -> bytes:
    """Stored 200x100 with Orientation=6: shown upright it is 100x200."""
    image = Image.new("RGB", (200, 100), "white")
    ImageDraw.Draw(image).rectangle((10, 20, 120, 80), fill="#35608a")
    out = io.BytesIO()
    image.save(out, "JPEG", exif=piexif.dump({"0th": {piexif.ImageIFD.Orientation: 6}}))
    return out.getvalue()


def one_pixel() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1, 1), "red").save(out, "PNG")
    return out.getvalue()


def png_bomb(side: int = 30000) -> bytes:
    """A valid 1-bit PNG of side×side pixels (900 megapixels) in about 100 KB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + b"\x00" * ((side + 7) // 8)  # filter byte + packed bits
    squeezer = zlib.compressobj(9)
    body = b"".join(squeezer.compress(row * 1000) for _ in range(side // 1000)) + squeezer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def gzip_bomb(megabytes: int = 200) -> bytes:
    """Gzip of `megabytes` of zeros (about 200 KB): serve with Content-Encoding: gzip."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as stream:
        block = b"\x00" * (1 << 20)
        for _ in range(megabytes):
            stream.write(block)
    return out.getvalue()


def noise_png(side: int = 1800, seed: int = 0) -> bytes:
    """An honest but oversized image: random pixels do not compress (about 3 bytes a pixel)."""
    import numpy as np

    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG", compress_level=1)
    return out.getvalue()
