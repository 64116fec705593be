"""Exact near-duplicate search over 64-bit perceptual hashes, without all-pairs Python loops.

Multi-index hashing by the pigeonhole principle: cut the 64 bits into `threshold + 1` chunks; two
hashes within `threshold` differing bits must agree exactly on at least one chunk. So for each
chunk the hashes are sorted by that chunk's value, only hashes in the same bucket become
candidates, and candidates are verified with a vectorised XOR + popcount. The result is exactly
the set of pairs brute force finds (tests check this), at a cost that grows with the bucket
sizes instead of with N².
"""

from __future__ import annotations

import numpy as np

BITS = 64


def to_unsigned(values) -> np.ndarray:
    """Signed 64-bit integers (as SQLite stores them) to the uint64 bit patterns they hold."""
    return np.asarray(values, dtype=np.int64).view(np.uint64)


def to_signed(value: int) -> int:
    """An unsigned 64-bit hash as the signed integer SQLite can store."""
    return value - (1 << 64) if value >= 1 << 63 else value


def pairs_within(hashes, threshold: int) -> np.ndarray:
    """All index pairs (i < j) whose hashes differ in at most `threshold` bits, shape (k, 2)."""
    h = np.asarray(hashes, dtype=np.uint64)
    n = len(h)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    chunks = min(threshold + 1, BITS)
    bounds = np.linspace(0, BITS, chunks + 1).astype(np.int64)
    found = []
    positions = np.arange(n)
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        key = (h >> np.uint64(lo)) & np.uint64((1 << int(hi - lo)) - 1)
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        sizes = np.diff(np.r_[starts, n])
        if sizes.max() < 2:
            continue
        group_end = np.repeat(starts + sizes, sizes)
        # Pair every position with the one `step` places later in its bucket, for every step.
        active = positions[sizes.repeat(sizes) > 1]
        step = 1
        while active.size:
            active = active[active + step < group_end[active]]
            if not active.size:
                break
            a, b = order[active], order[active + step]
            close = np.bitwise_count(h[a] ^ h[b]) <= threshold
            if close.any():
                found.append(
                    np.stack(
                        [np.minimum(a[close], b[close]), np.maximum(a[close], b[close])], axis=1
                    )
                )
            step += 1
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    return np.unique(pairs, axis=0)  # a pair agreeing on several chunks is found several times


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
