"""The ranker's features: hashed n-gram counts of a folded text, and TF-IDF rows of them.

Character 2-5-grams inside words in [0, N), word 1-2-grams in [N, 2N), hashed with crc32 (the
same in every process, so an index built in a child answers as the parent would), sublinear tf;
rows l2-normalised bit for bit as scikit-learn does (tests/test_ngrams.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING
from zlib import crc32

import numpy as np

from bot.core.ngrams import char_wb_grams, word_grams

if TYPE_CHECKING:
    import scipy.sparse as sp

N_FEATURES = 2**20
_CHAR_GRAMS = char_wb_grams(2, 5, lowercase=False)
_WORD_GRAMS = word_grams(1, 2, lowercase=False)


def char_feature(gram: str) -> int:
    return crc32(gram.encode()) & (N_FEATURES - 1)


def _counted(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct features in the order they first appear, and how often each appears."""
    if not features.size:
        return features.astype(np.int32), np.zeros(0, dtype=np.float32)
    distinct, first, counts = np.unique(features, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    return distinct[order].astype(np.int32), counts[order].astype(np.float32)


def hashed(
    text: str, char_hashes: Callable[[str], np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Hashed n-gram counts of one text: (features int32, log(1 + count) float32), the char
    n-grams in [0, N), the word n-grams in [N, 2N), in the order they first appear.

    crc32, not Python's `hash`: that one changes per process, and an index built in a child
    process must give the very replies the parent would. `char_hashes`: the char n-grams'
    features worked out by word (a `WordGramHashes` over `char_feature`), the same figures.
    """
    chars = char_hashes(text) if char_hashes is not None else np.fromiter(
        map(char_feature, _CHAR_GRAMS(text)), dtype=np.int64
    )
    char_features, char_counts = _counted(chars)
    mask = N_FEATURES - 1
    words: dict[int, int] = {}
    # Each distinct word n-gram hashed once (Counter keeps first appearances in order).
    for gram, count in Counter(_WORD_GRAMS(text)).items():
        h = (crc32(gram.encode()) & mask) + N_FEATURES
        words[h] = words.get(h, 0) + count
    features = np.concatenate(
        [char_features, np.fromiter(words, dtype=np.int32, count=len(words))]
    )
    counts = np.concatenate(
        [char_counts, np.fromiter(words.values(), dtype=np.float32, count=len(words))]
    )
    return features, np.log1p(counts)  # sublinear tf


def hashed_counts(texts: list[str]) -> sp.csr_matrix:
    """The texts' `hashed` rows as one (texts x 2N) matrix (building the index only)."""
    import scipy.sparse as sp

    rows = [hashed(text) for text in texts]
    indptr = np.zeros(len(rows) + 1, dtype=np.int32)
    indptr[1:] = np.cumsum([len(features) for features, _ in rows])
    return sp.csr_matrix(
        (np.concatenate([c for _, c in rows]) if rows else np.zeros(0, dtype=np.float32),
         np.concatenate([f for f, _ in rows]) if rows else np.zeros(0, dtype=np.int32),
         indptr),
        shape=(len(texts), 2 * N_FEATURES),
    )


def l2_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Each row over its l2 norm, in place, bit for bit as scikit-learn's `normalize`: squares
    in the data's precision, summed in order in float64, the division in float64."""
    data, indptr = matrix.data, matrix.indptr
    squares = data * data
    norms = np.ones(matrix.shape[0], dtype=np.float64)
    for row in range(matrix.shape[0]):
        start, end = int(indptr[row]), int(indptr[row + 1])
        if start < end:
            total = float(np.cumsum(squares[start:end], dtype=np.float64)[-1])
            if total != 0.0:  # an all-zero row stays as it is
                norms[row] = np.sqrt(total)
    matrix.data = (data / np.repeat(norms, np.diff(indptr))).astype(data.dtype)
    return matrix


def weighed(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """TF-IDF rows, l2-normalised, float32."""
    counts.data = counts.data * idf[counts.indices]
    return l2_rows(counts.astype(np.float32)).tocsr()
