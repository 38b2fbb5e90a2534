"""The ranker's index laid out for answering: what one message's search touches, and no more.

The built index (ranker.RankerIndex) is what is stored and fitted. Of the 2 x 2**20 hashed
features it keeps only those the questions hold (full idf and offset arrays would be 16 MB,
nearly all of it for features no question has, and loading them raised the bot's peak memory
by ~20 MB): one sorted array, where a message's features are found with one `searchsorted`.

The postings of the few features found in a large share of the questions (common letter pairs
such as " t", "ng") are most of what a message touches: they are kept as a small dense matrix
(features x questions, float32), and their contribution is one matrix product; the rest stay
posting lists, gathered and summed with one `bincount` (bench/speed.py: the dot product of a
message with every question about 2.5x faster than posting lists alone).
"""

from __future__ import annotations

import numpy as np

# Bytes the dense block may take; at most this many features, each in at least
# DENSE_MIN_SHARE of the questions (a larger base keeps fewer of them dense).
DENSE_BYTES = 2_000_000
DENSE_MIN_SHARE = 1 / 16


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
        order = np.argsort(-lengths, kind="stable")[:budget]
        order = np.sort(order[lengths[order] >= max(DENSE_MIN_SHARE * items, 1)])
        self.dense_row = np.full(self.features.size, -1, dtype=np.int32)
        self.dense_row[order] = np.arange(order.size, dtype=np.int32)
        self.dense = np.zeros((order.size, items), dtype=np.float32)
        for row, at in enumerate(order.tolist()):
            span = slice(int(starts[at]), int(starts[at] + lengths[at]))
            self.dense[row, questions[span]] = weights[span]
        # The other features' postings, in feature order. The weights stay float16 (2 bytes a
        # posting, ~22 MiB less at x100); `dot` widens them exactly.
        sparse = lengths.copy()
        sparse[order] = 0
        take = np.repeat(self.dense_row < 0, lengths)
        every = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(
            int(lengths.sum())
        )
        picked = every[take]
        self.questions = questions[picked].astype(np.int32)
        self.weights = weights[picked].astype(np.float16)
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
            # Positions of every posting of the query's features, without a Python loop.
            offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
            scores = np.bincount(
                self.questions[offsets],
                weights=self.weights[offsets] * np.repeat(sparse_w, lengths),
                minlength=self.items,
            )
        else:
            scores = np.zeros(self.items)
        if in_dense.any():
            scores += w[in_dense] @ self.dense[rows[in_dense]]
        return scores
