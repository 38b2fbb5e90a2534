"""P(entry | message): logistic regression over the entries' own questions and titles.

Why beside the cosine ranker (issue 14, bench/quality.py): the cosine asks "which single question
is this message closest to", so a long or teencode message that shares only a few n-grams with
every question scores low everywhere; a classifier learns which n-grams tell one entry from the
others and puts the right entry first more often (dev set: 88.9 % top-1 against 80.6 %). The
ranker blends the two scores.

Fitting takes about a second, so fitted weights are kept per knowledge version (keyed by a digest
of the entries' folded questions: knowledge-base vocabulary only, never user text), in this
process and, as plain arrays, by bot.core.fitting: answering needs no scikit-learn.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.core.fitting import Arrays, obtain, weights_key

if TYPE_CHECKING:
    import scipy.sparse as sp

C = 30.0  # weak regularisation: the questions are few and all of them are meant
MEMO_SIZE = 4  # knowledge versions kept fitted (the live one, a reload, tests' variants)
# Weights are entries x features, dense, and fitting grows with both: beyond this many entries
# (the bundled base has under 100) the classifier is not fitted and the ranker uses its cosine
# alone (bench/speed.py's synthetic x10 and x100 bases run that way).
MAX_ENTRIES = 300


# Everything the fit depends on besides the data: a change here refits (bot.core.fitting).
FIT_SETTINGS = (
    f"LogisticRegression C={C} max_iter=2000 newton-cg on used hashed columns;"
    " coef rounded to float16, kept as int8 per-row scaled"
)


QUANTUM_ROWS = 4096  # rows turned into 8 bits at a time (the float32 scratch stays ~2 MB)


@dataclass(frozen=True)
class EntryWeights:
    used: np.ndarray  # the hashed features seen in the questions, int64; row i of `coef`
    coef: np.ndarray  # used features x entries: float32 when fitted, int8 once read
    intercept: np.ndarray  # entries, float64
    scale: np.ndarray | None = None  # per row, float32: coef[i] x scale[i] when coef is int8

    def arrays(self) -> Arrays:
        # stored as it is held, 8 bits a weight with a scale per feature: a start reads 4.7 MB
        # and converts nothing (read from float16, the 9.3 MB array and its conversion were
        # ~14 MB of the start's peak memory for a moment)
        coef, scale = (self.coef, self.scale) if self.scale is not None else _quantised(
            self.coef.astype(np.float16))
        return {"used": self.used, "coef": coef, "scale": scale, "intercept": self.intercept}

    def dense(self) -> np.ndarray:
        """The weights as floats, whatever their form in memory."""
        if self.scale is None:
            return self.coef
        return self.coef.astype(np.float32) * self.scale[:, None]

    @classmethod
    def read(cls, arrays: Arrays) -> EntryWeights:
        # 8 bits a weight, scaled per feature: the largest array the bot holds, 9.3 MB as
        # float16, 4.7 MB so (issue 12's memory target). On 1,532 messages P(entry) moves by
        # at most 0.004 and no message's first entry changes.
        return cls(
            np.asarray(arrays["used"], dtype=np.int64), np.asarray(arrays["coef"], np.int8),
            np.asarray(arrays["intercept"], dtype=np.float64),
            np.asarray(arrays["scale"], dtype=np.float32),
        )


def _quantised(coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row as int8 times its own scale (its largest weight / 127), a slice at a time."""
    scale = np.ones(coef.shape[0], dtype=np.float32)
    out = np.zeros(coef.shape, dtype=np.int8)
    for lo in range(0, coef.shape[0], QUANTUM_ROWS):
        part = coef[lo : lo + QUANTUM_ROWS].astype(np.float32)
        top = np.abs(part).max(axis=1) if part.shape[1] else np.zeros(part.shape[0])
        step = np.where(top > 0, top / 127, 1.0).astype(np.float32)
        scale[lo : lo + QUANTUM_ROWS] = step
        out[lo : lo + QUANTUM_ROWS] = np.round(part / step[:, None]).astype(np.int8)
    return out, scale


_memo: OrderedDict[str, EntryWeights] = OrderedDict()


def _digest(rows: sp.csr_matrix, owners: np.ndarray, n_entries: int) -> bytes:
    h = hashlib.blake2b(f"{n_entries}\x00".encode(), digest_size=16)
    for part in (rows.indptr, rows.indices, rows.data, owners):
        h.update(np.ascontiguousarray(part).tobytes())
    return h.digest()


def fit_entries(rows: sp.csr_matrix, owners: np.ndarray, n_entries: int) -> EntryWeights:
    """Fit on the questions' rows (scikit-learn, imported here: only fitting needs it)."""
    from sklearn.linear_model import LogisticRegression

    used = np.unique(rows.indices).astype(np.int64)
    # newton-cg, not the default lbfgs: lbfgs keeps ten copies of the weights (entries x
    # features) as history, 150 MB at start-up for nothing; the optimum is the same.
    model = LogisticRegression(C=C, max_iter=2000, solver="newton-cg").fit(rows[:, used], owners)
    coef = np.zeros((len(used), n_entries), dtype=np.float32)
    intercept = np.full(n_entries, -1e4, dtype=np.float64)  # an entry never seen: never picked
    classes = model.classes_.astype(np.int64)
    if len(classes) == 2:  # binary logistic regression keeps one row of weights
        coef[:, classes[1]] = model.coef_[0]
        intercept[classes[0]], intercept[classes[1]] = 0.0, float(model.intercept_[0])
    else:
        coef[:, classes] = model.coef_.T
        intercept[classes] = model.intercept_
    return EntryWeights(used, coef, intercept)


def can_fit(rows: sp.csr_matrix, n_entries: int) -> bool:
    """Something to tell apart, and not too many entries to fit at start-up."""
    return 2 <= n_entries <= MAX_ENTRIES and rows.shape[0] > 0


def entry_weights(
    rows: sp.csr_matrix, owners: np.ndarray, n_entries: int
) -> EntryWeights | None:
    """The weights fitted right here (the ranker's index is built where fitting happens)."""
    return fit_entries(rows, owners, n_entries) if can_fit(rows, n_entries) else None


def _sorted(weights: EntryWeights) -> EntryWeights:
    """The weights with `used` in increasing order, as `probabilities` looks features up
    with `searchsorted` (fit_entries already writes them so: np.unique)."""
    used = weights.used
    if used.size < 2 or bool(np.all(used[1:] > used[:-1])):
        return weights
    order = np.argsort(used, kind="stable")
    scale = None if weights.scale is None else weights.scale[order]
    return EntryWeights(used[order], weights.coef[order], weights.intercept, scale)


class EntryClassifier:
    """Fitted once per knowledge version; `probabilities` scores one message's TF-IDF weights."""

    def __init__(self, rows: sp.csr_matrix, owners: np.ndarray, n_entries: int) -> None:
        self.n_entries = n_entries
        self._weights: EntryWeights | None = None
        if not can_fit(rows, n_entries):
            return
        key = weights_key("entries", FIT_SETTINGS, _digest(rows, owners, n_entries))
        known = _memo.get(key)
        if known is None:
            weights = obtain(
                "entries", key, EntryWeights.read, fit_entries, (rows, owners, n_entries)
            )
            known = _sorted(weights)
            _memo[key] = known
            while len(_memo) > MEMO_SIZE:
                _memo.popitem(last=False)
        else:
            _memo.move_to_end(key)
        self._weights = known

    @classmethod
    def from_weights(cls, weights: EntryWeights | None, n_entries: int) -> EntryClassifier:
        """A classifier from weights fitted elsewhere (None: not fitted)."""
        classifier = cls.__new__(cls)
        classifier.n_entries = n_entries
        classifier._weights = None if weights is None else _sorted(weights)
        return classifier

    @property
    def weights(self) -> EntryWeights | None:
        return self._weights

    @property
    def fitted(self) -> bool:
        return self._weights is not None

    def probabilities(self, features: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Softmax over the entries for one message's hashed features (int64) and their
        TF-IDF weights (float64), in the same order (call only when `fitted`)."""
        if self._weights is None:
            raise RuntimeError("classifier not fitted")
        w = self._weights
        logits = w.intercept.copy()
        if features.size and w.used.size:
            # `used` is sorted (np.unique): one searchsorted finds every feature's row
            rows = np.searchsorted(w.used, features)
            rows[rows >= w.used.size] = 0
            known = w.used[rows] == features
            if known.any():
                at = rows[known]
                weights = values[known] if w.scale is None else values[known] * w.scale[at]
                logits += weights @ w.coef[at]
        logits -= logits.max()
        exp = np.exp(logits)
        return exp / exp.sum()
