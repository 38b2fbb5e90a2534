"""The ranker's index laid out for answering: what one message's search touches, and no more.

The built index (ranker.RankerIndex) is what is stored and fitted. Of the 2 x 2**20 hashed
features it keeps only those the questions hold (full idf and offset arrays would be 16 MB,
nearly all of it for features no question has, and loading them raised the bot's peak memory
by ~20 MB): one sorted array, where a message's features are found with one `searchsorted`.

The postings of the few features found in a large share of the questions (common letter pairs
such as " t", "ng") are most of what a message touches: they are kept as a dense matrix
(features x questions, float32), and their contribution is one product over the whole block
(numpy's einsum: it streams the block at ~0.1 ns an element, where gathering a posting costs
~6 ns; einsum rather than `@`, whose BLAS threads spin after each call and cost more CPU than
they save). The rest stay posting lists, each copied whole and summed with one `bincount`.

Which features are dense: those in at least DENSE_FREE_SHARE of the questions, whatever the
size of the base (a dense row then takes at most ~1.3x the bytes of its posting list: 4 bytes a
question against 6 a posting), and, within DENSE_BYTES, the next most common ones in at least
DENSE_MIN_SHARE (a small base: the block stays small, and each row saves gathering).
"""

from __future__ import annotations

import numpy as np

# bench/speed.py at x100 (89,420 indexed texts): search p50 19.9 -> 14.3 ms at 1/2, 12.6 ms at
# 0.35 (+0.09 KB a question), 8.9 ms at 1/4 (+0.23 KB a question: over the 2 KB target).
DENSE_FREE_SHARE = 0.35
# Bytes the rest of the dense block may take; features in at least DENSE_MIN_SHARE of the
# questions, most common first.
DENSE_BYTES = 2_000_000
DENSE_MIN_SHARE = 1 / 16
FIXED_ONE = 65535  # a sparse posting's weight 1.0


class Postings:
    """Feature -> (idf, the questions holding it with their weights) for the features the
    indexed questions hold; a feature not among them has `unseen_idf` and no postings."""

    def __init__(
        self, features: np.ndarray, idf: np.ndarray, unseen_idf: float, indptr: np.ndarray,
        questions: np.ndarray, weights: np.ndarray, items: int,
    ) -> None:
        """`features`: the known hashed features, sorted, with their `idf` and posting
        offsets (`indptr`, one more than features); any other feature has `unseen_idf`."""
        self.items = items
        self.unseen_idf = np.float32(unseen_idf)
        self.features = features.astype(np.int64)
        self.idf = idf.astype(np.float32)
        starts = indptr[:-1].astype(np.int64)
        lengths: np.ndarray = indptr[1:].astype(np.int64) - starts
        # The dense block: the features with the longest posting lists.
        budget = DENSE_BYTES // max(4 * items, 1)
        order = np.argsort(-lengths, kind="stable")
        common = lengths[order] >= max(DENSE_FREE_SHARE * items, 1)
        within = (np.arange(order.size) < budget) & (
            lengths[order] >= max(DENSE_MIN_SHARE * items, 1))
        order = np.sort(order[common | within])
        self.dense_row = np.full(self.features.size, -1, dtype=np.int32)
        self.dense_row[order] = np.arange(order.size, dtype=np.int32)
        self.dense = np.zeros((order.size, items), dtype=np.float32)
        for row, at in enumerate(order.tolist()):
            span = slice(int(starts[at]), int(starts[at] + lengths[at]))
            self.dense[row, questions[span]] = weights[span]
        # The other features' postings, in feature order. The weights (in [0, 1]) are kept
        # as 16-bit fixed point, weight x 65535 (2 bytes a posting, ~22 MiB less at x100 than
        # float32; as precise as the stored float16 to within 7.7e-6): numpy widens uint16 in
        # SIMD, float16 one value at a time, and that widening was a third of a search.
        sparse = lengths.copy()
        sparse[order] = 0
        # CSR: each feature's postings follow the previous feature's, so the sparse features'
        # postings are picked with one mask (index arrays of every posting cost the bot's
        # start ~10 MB of peak memory at x1)
        take = np.repeat(self.dense_row < 0, lengths)
        first, last = int(indptr[0]), int(indptr[-1])
        self.questions = questions[first:last][take].astype(np.int32, copy=False)
        del take
        self.weights = _fixed_point(weights[first:last], self.dense_row < 0, lengths)
        self.starts = np.zeros(self.features.size, dtype=np.int64)
        self.starts[1:] = np.cumsum(sparse)[:-1]
        self.lengths = sparse

    def find(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in `self.features`, found) of each feature."""
        if not self.features.size:
            return np.zeros(features.size, dtype=np.int64), np.zeros(features.size, dtype=bool)
        at = np.searchsorted(self.features, features)
        at[at >= self.features.size] = 0
        return at, self.features[at] == features

    def idf_of(self, at: np.ndarray, found: np.ndarray) -> np.ndarray:
        return np.where(found, self.idf[at], self.unseen_idf)

    def dot(self, at: np.ndarray, found: np.ndarray, w: np.ndarray) -> np.ndarray:
        """query . question for every question: `at`/`found` from `find`, `w` the query's
        weights (float64), all three in the query's feature order."""
        at, w = at[found], w[found]
        rows = self.dense_row[at]
        in_dense = rows >= 0
        sparse_at, sparse_w = at[~in_dense], w[~in_dense]
        starts, lengths = self.starts[sparse_at], self.lengths[sparse_at]
        total = int(lengths.sum())
        scores: np.ndarray
        if total:
            questions, weights = self._gather(starts, lengths)
            scores = np.bincount(
                questions,
                weights=weights * np.repeat(sparse_w * (1.0 / FIXED_ONE), lengths),
                minlength=self.items,
            )
        else:
            scores = np.zeros(self.items)
        if in_dense.any():
            query = np.zeros(self.dense.shape[0], dtype=np.float32)
            query[rows[in_dense]] = w[in_dense]
            scores += np.einsum("i,ij->j", query, self.dense)
        return scores

    def _gather(self, starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The questions and weights of the given posting lists, one after the other: each
        list copied whole (a memcpy), half the time of gathering through an index array of
        every posting at x10 (dot p50 1.03 -> 0.57 ms), the same at x1."""
        spans = [slice(a, a + n) for a, n in zip(starts.tolist(), lengths.tolist(), strict=True)]
        return (np.concatenate([self.questions[span] for span in spans]),
                np.concatenate([self.weights[span] for span in spans]))


def _fixed_point(weights: np.ndarray, kept: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The kept features' posting weights x FIXED_ONE, rounded, as uint16: worked out in float64
    (the same figures as ever) a slice of features at a time, as one float64 copy of every
    posting was ~8 MB of a start's peak memory."""
    ends = np.cumsum(lengths)
    out: list[np.ndarray] = []
    step = max(1, kept.size // 16)
    for lo in range(0, kept.size, step):
        hi = min(lo + step, kept.size)
        start = int(ends[lo - 1]) if lo else 0
        part = weights[start : int(ends[hi - 1])][np.repeat(kept[lo:hi], lengths[lo:hi])]
        out.append(np.round(part.astype(np.float64) * FIXED_ONE).astype(np.uint16))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.uint16)
