"""Dedupe benchmark: quality and speed of near-duplicate search, in one run.

Quality: a labelled set built from real photographs that ship inside packages (scikit-image and
scikit-learn sample images; large ones cut into non-overlapping tiles as distinct bases), each
with the variants people meet — resized, JPEG q=30, slight crop, white padding to square,
brightness +15 %, rotation 3°, text overlay — plus hard negatives (overlapping crops, mirror
images, the other half of a stereo pair). Pairwise precision/recall/F1 for curate (dHash + colour
check, the defaults), plain imagehash dHash all-pairs at 10 bits, and imagededup's PHash, DHash,
AHash and WHash at their defaults.
Speed: search over 50,000 random 64-bit hashes, curate's index vs imagededup's search on the same
hashes; and curate's index on up to 1,000,000 hashes.

Runs in bench/.venv-imagededup (imagededup pins its own stack); `make bench-dedupe` creates it.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write  # noqa: E402

from pipeline import hashindex  # noqa: E402
from pipeline.config import DedupeSettings  # noqa: E402
from pipeline.stages.dedupe import folder_clusters  # noqa: E402


def bases() -> list[Image.Image]:
    import skimage.data as data
    from sklearn.datasets import load_sample_images

    photos = [Image.fromarray(a) for a in load_sample_images().images]
    for name in (
        "astronaut",
        "chelsea",
        "coffee",
        "rocket",
        "immunohistochemistry",
        "hubble_deep_field",
        "camera",
        "coins",
        "page",
        "moon",
        "eagle",
        "grass",
        "gravel",
        "brick",
        "retina",
        "cat",
        "colorwheel",
    ):
        try:
            photos.append(Image.fromarray(getattr(data, name)()))
        except Exception:  # a sample that needs a download is skipped
            continue
    left, right = data.stereo_motorcycle()[:2]
    photos += [
        Image.fromarray(left),
        Image.fromarray(right),
    ]  # similar objects: a hard negative pair
    out = []
    for photo in photos:
        photo = photo.convert("RGB")
        if min(photo.size) >= 512:  # cut into non-overlapping 256-px tiles: distinct bases
            for x, y in itertools.product(
                range(0, photo.width - 255, 256), range(0, photo.height - 255, 256)
            ):
                out.append(photo.crop((x, y, x + 256, y + 256)))
        else:
            out.append(photo)
    return out


def variants(image: Image.Image) -> dict[str, Image.Image]:
    w, h = image.size
    side = max(w, h)
    padded = Image.new("RGB", (side, side), "white")
    padded.paste(image, ((side - w) // 2, (side - h) // 2))
    texted = image.copy()
    ImageDraw.Draw(texted).text((8, h - 20), "© Museum 2026", fill="white")
    return {
        "resized": image.resize((max(8, w // 2), max(8, h // 2)), Image.LANCZOS),
        "jpeg30": image,  # saved with quality 30 below
        "cropped": image.crop((int(w * 0.04), int(h * 0.04), int(w * 0.96), int(h * 0.96))),
        "padded": padded,
        "brighter": ImageEnhance.Brightness(image).enhance(1.15),
        "rotated": image.rotate(3, resample=Image.BICUBIC, expand=False, fillcolor="white"),
        "text": texted,
    }


def build_set(folder: Path) -> tuple[list[str], set[frozenset]]:
    names, groups = [], []
    for index, base in enumerate(bases()):
        group = [f"b{index:03d}.jpg"]
        base.save(folder / group[0], quality=92)
        for kind, image in variants(base).items():
            name = f"b{index:03d}_{kind}.jpg"
            image.save(folder / name, quality=30 if kind == "jpeg30" else 92)
            group.append(name)
        # hard negatives: the mirror image and an overlapping (half-shifted) crop
        base.transpose(Image.FLIP_LEFT_RIGHT).save(folder / f"n{index:03d}_mirror.jpg", quality=92)
        w, h = base.size
        base.crop((w // 2, 0, w, h)).resize((w, h)).save(
            folder / f"n{index:03d}_half.jpg", quality=92
        )
        names += group + [f"n{index:03d}_mirror.jpg", f"n{index:03d}_half.jpg"]
        groups.append(group)
    truth = {frozenset(pair) for group in groups for pair in itertools.combinations(group, 2)}
    return names, truth


def score(found: set[frozenset], truth: set[frozenset]) -> dict:
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "pairs_found": len(found),
    }


def pairs_of(clusters) -> set[frozenset]:
    return {frozenset(p) for cluster in clusters for p in itertools.combinations(cluster, 2)}


def imagededup_pairs(method, folder: Path) -> set[frozenset]:
    duplicates = method.find_duplicates(image_dir=str(folder))  # defaults
    return {frozenset((a, b)) for a, others in duplicates.items() for b in others}


def plain_dhash_pairs(folder: Path, names: list[str], threshold: int = 10) -> set[frozenset]:
    import imagehash

    hashes = {n: imagehash.dhash(Image.open(folder / n)) for n in names}
    return {
        frozenset((a, b))
        for a, b in itertools.combinations(names, 2)
        if hashes[a] - hashes[b] <= threshold
    }


def speed(n_search: int, n_big: list[int]) -> dict:
    from imagededup.methods import PHash

    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 2**64, n_search, dtype=np.uint64, endpoint=False)
    hashindex.pairs_within(hashes[:1000], 10)  # compiled on first use (cached after): not timed
    started = time.perf_counter()
    ours = hashindex.pairs_within(hashes, 10)
    t_ours = time.perf_counter() - started
    encoding = {f"{i}": f"{int(h):016x}" for i, h in enumerate(hashes)}
    started = time.perf_counter()
    theirs = PHash(verbose=False).find_duplicates(encoding_map=encoding, max_distance_threshold=10)
    t_theirs = time.perf_counter() - started
    assert len(ours) == sum(len(v) for v in theirs.values()) // 2, "both must find the same pairs"
    result = {
        "n": n_search,
        "curate_seconds": t_ours,
        "imagededup_seconds": t_theirs,
        "speedup": t_theirs / t_ours,
        "pairs": len(ours),
    }
    big = {}
    for n in n_big:
        hashes = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
        started = time.perf_counter()
        found = hashindex.pairs_within(hashes, 10)
        big[str(n)] = {"seconds": time.perf_counter() - started, "pairs": len(found)}
    result["curate_large"] = big
    result["target_1M_within_60s"] = big["1000000"]["seconds"] <= 60
    return result


def main() -> None:
    from imagededup.methods import AHash, DHash, PHash, WHash

    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        names, truth = build_set(folder)
        settings = DedupeSettings()
        quality = {
            "curate (dHash ≤ 10 + colour ≤ 8)": score(
                pairs_of(
                    folder_clusters(
                        folder, settings.threshold, settings.hash_size, settings.colour_tolerance
                    )
                ),
                truth,
            ),
            "curate, dHash ≤ 10 clusters only": score(
                pairs_of(folder_clusters(folder, settings.threshold, settings.hash_size, None)),
                truth,
            ),
            "imagehash dHash all-pairs ≤ 10": score(plain_dhash_pairs(folder, names), truth),
        }
        for method in (PHash, DHash, AHash, WHash):
            quality[f"imagededup {method.__name__}"] = score(
                imagededup_pairs(method(verbose=False), folder), truth
            )
    timing = speed(50_000, [200_000, 1_000_000]) if "--no-speed" not in sys.argv else {}
    best_theirs = max(v["f1"] for k, v in quality.items() if k.startswith("imagededup"))
    data = {
        "images": len(names),
        "true_pairs": len(truth),
        "quality": quality,
        "speed": timing,
        "f1_curate_minus_best_imagededup": quality["curate (dHash ≤ 10 + colour ≤ 8)"]["f1"]
        - best_theirs,
    }
    if "--no-speed" not in sys.argv:
        write("dedupe", data)
    else:
        print(data["quality"])
    ours = quality["curate (dHash ≤ 10 + colour ≤ 8)"]["f1"]
    speedup = f"{timing['speedup']:.1f}x" if timing else "not measured"
    print(
        f"dedupe: F1 curate {ours:.3f} vs best imagededup {best_theirs:.3f}; search at 50k {speedup} imagededup"
    )


if __name__ == "__main__":
    main()
