"""Exact near-duplicate search over 64-bit perceptual hashes: multi-index hashing, compiled.

Two hashes within `threshold` differing bits, cut into m chunks, differ in at most
threshold // m bits in at least one chunk (pigeonhole; Norouzi et al., "Fast search in Hamming
space with multi-index hashing", 2012). So each chunk gets a table (hashes bucketed by that
chunk's value, counting-sorted), and each hash looks up the buckets of every chunk value within
threshold // m bits of its own, verifying candidates with XOR + popcount. A pair found in
several chunks is kept only in the first one, so no pair is reported twice. The number of chunks
is chosen by a cost model (probes × bucket sizes); for threshold 10 on 64 bits it is four 16-bit
chunks with two flipped bits.

The loops are compiled with numba (Python loops would be ~100× slower; numpy cannot express the
variable-length bucket scans without materialising every candidate pair). The result is exactly
the set of pairs brute force finds, which the tests check.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations
from math import comb

import numba
import numpy as np

BITS = 64
MAX_CHUNK_BITS = 24  # a table of 2^24 buckets is 64 MB of offsets; wider chunks are not worth it


def to_unsigned(values) -> np.ndarray:
    """Signed 64-bit integers (as SQLite stores them) to the uint64 bit patterns they hold."""
    return np.asarray(values, dtype=np.int64).view(np.uint64)


def to_signed(value: int) -> int:
    """An unsigned 64-bit hash as the signed integer SQLite can store."""
    return value - (1 << 64) if value >= 1 << 63 else value


def pairs_within(hashes, threshold: int) -> np.ndarray:
    """All index pairs (i < j) whose hashes differ in at most `threshold` bits, shape (k, 2),
    sorted."""
    h = np.ascontiguousarray(hashes, dtype=np.uint64)
    n = len(h)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    chunks = plan_chunks(n, threshold)
    bounds = np.linspace(0, BITS, chunks + 1).astype(np.int64)
    radius = threshold // chunks

    def search(k: int) -> np.ndarray:
        lo, width = int(bounds[k]), int(bounds[k + 1] - bounds[k])
        return _search_chunk(h, threshold, radius, bounds, k, lo, width, flip_masks(width, radius))

    # The chunks are independent and the compiled search releases the GIL: one thread per core.
    with ThreadPoolExecutor(max_workers=min(chunks, os.cpu_count() or 1)) as pool:
        pairs = np.concatenate(list(pool.map(search, range(chunks))))
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    return pairs[order]


def plan_chunks(n: int, threshold: int) -> int:
    """The number of chunks with the least estimated work: probes (a random memory access
    each, weighted 4) plus candidates (n / 2^bits per probed bucket)."""
    best, best_cost = BITS, float("inf")
    for m in range(1, BITS + 1):  # more chunks than threshold + 1 is allowed, just rarely cheaper
        width = -(-BITS // m)  # the widest chunk
        if width > MAX_CHUNK_BITS:
            continue
        probes = sum(comb(width, k) for k in range(threshold // m + 1))
        cost = m * probes * (4 + n / 2**width)
        if cost < best_cost:
            best, best_cost = m, cost
    return best


def flip_masks(width: int, radius: int) -> np.ndarray:
    """Every `width`-bit value with at most `radius` bits set: the XOR masks to probe."""
    masks = [0]
    for k in range(1, min(radius, width) + 1):
        masks += [sum(1 << b for b in bits) for bits in combinations(range(width), k)]
    return np.array(masks, dtype=np.int64)


@numba.njit(cache=True)
def _popcount(x: np.uint64) -> int:
    # SWAR popcount: numba has no portable intrinsic, and LLVM turns this into POPCNT.
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@numba.njit(cache=True, nogil=True)
def _search_chunk(h, threshold, radius, bounds, k, lo, width, flips):
    n = h.shape[0]
    size = 1 << width
    mask = np.uint64(size - 1)
    keys = ((h >> np.uint64(lo)) & mask).astype(np.int64)
    # Counting sort by this chunk's value: bucket b holds order[start[b]:start[b + 1]].
    start = np.zeros(size + 1, dtype=np.int64)
    for i in range(n):
        start[keys[i] + 1] += 1
    for b in range(size):
        start[b + 1] += start[b]
    fill = start[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[fill[keys[i]]] = i
        fill[keys[i]] += 1
    sorted_h = h[order]
    out_i = np.empty(1024, dtype=np.int64)
    out_j = np.empty(1024, dtype=np.int64)
    count = 0
    for q in range(n):
        # In bucket order: consecutive hashes probe the same buckets, which stay in cache.
        i = order[q]
        hi_ = sorted_h[q]
        for f in range(flips.shape[0]):
            bucket = keys[i] ^ flips[f]
            for p in range(start[bucket], start[bucket + 1]):
                j = order[p]
                if j <= i:
                    continue
                x = hi_ ^ sorted_h[p]
                if _popcount(x) > threshold:
                    continue
                # Report the pair only in the first chunk that finds it.
                earlier = False
                for e in range(k):
                    w = bounds[e + 1] - bounds[e]
                    part = (x >> np.uint64(bounds[e])) & np.uint64((1 << w) - 1)
                    if _popcount(part) <= radius:
                        earlier = True
                        break
                if earlier:
                    continue
                if count == out_i.shape[0]:
                    out_i = np.concatenate((out_i, np.empty(count, dtype=np.int64)))
                    out_j = np.concatenate((out_j, np.empty(count, dtype=np.int64)))
                out_i[count] = i
                out_j[count] = j
                count += 1
    result = np.empty((count, 2), dtype=np.int64)
    result[:, 0] = out_i[:count]
    result[:, 1] = out_j[:count]
    return result


def brute_force_pairs(hashes, threshold: int) -> np.ndarray:
    """The reference: every pair compared (quadratic; for tests and small sets)."""
    h = np.asarray(hashes, dtype=np.uint64)
    out = []
    for i in range(len(h) - 1):
        close = np.flatnonzero(np.bitwise_count(h[i] ^ h[i + 1 :]) <= threshold) + i + 1
        out.extend((i, int(j)) for j in close)
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def clusters(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected components of the 'near-duplicate' graph: a cluster label per hash."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
    )
    return connected_components(graph, directed=False)[1]
