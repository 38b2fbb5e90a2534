"""Rank knowledge entries for a message: TF-IDF over the entries' questions and titles.

Each question and title of an entry becomes a vector of character 2-5-grams (inside words) and
word 1-2-grams of its folded text (no diacritics, teencode expanded by the normaliser), weighted
by TF-IDF and normalised; a message is scored against every question by cosine similarity and an
entry takes the best of its questions, blended with the similarity to the entry as a whole (its
centroid), so an entry with many questions about one thing is not beaten by one stray question.

The score is then blended half and half with P(entry | message) from a logistic regression over
the same questions (classifier.py), which puts the right entry first more often. Example
questions (knowledge/examples/) are indexed with the entry's own; out-of-scope messages are one
more class of the classifier, "none", whose probability is taken from every entry's.

Why this shape (bench/quality.py, issue 14): character n-grams carry teencode, typos and missing
diacritics; word n-grams carry the order of syllables; a cosine on normalised vectors is a score
with a fixed scale, so one pair of thresholds separates "answer", "did you mean" and "not mine".

Memory and speed: features are hashed (no vocabulary dict grows with the base) and the question
matrix is kept transposed (feature -> questions) in float32, so a search touches only the
postings of the message's own n-grams; the per-entry maximum is one `np.maximum.reduceat`.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from bot.core.fitting import Arrays, obtain, weights_key
from bot.core.keptfolds import folded_texts
from bot.core.matching.classifier import FIT_SETTINGS as CLASSIFIER_SETTINGS
from bot.core.matching.classifier import (
    MAX_ENTRIES,
    EntryClassifier,
    EntryWeights,
    entry_weights,
)
from bot.core.matching.features import (
    N_FEATURES,
    char_feature,
    hashed,
    hashed_counts,
    weighed,
)
from bot.core.matching.postings import Postings
from bot.core.ngrams import WordGramHashes
from bot.core.text import Normalised, Normaliser

if TYPE_CHECKING:
    pass

# Bands on the 0-100 score (half the cosine blend, half the classifier's probability, x 100),
# calibrated by bench/calibrate.py on out-of-fold scores of knowledge/examples/ and the triage
# examples' out-of-scope messages (5 folds, 501 + 200 messages): best top-1 with at least 97 % of
# out-of-scope messages rejected (85.4 % top-1, 97.0 % top-3 there); never on a test set.
DEFAULT_HIGH = 25.5
DEFAULT_LOW = 18.0

MAX_DF_SHARE = 1.0  # features in more than this share of the questions are not indexed
MIN_DF_KEPT = 50  # ...unless they are in fewer questions than this (a small base keeps all)
CLASSIFIER_SHARE = 0.5  # share of P(entry | message) (classifier.py) in an entry's score
CENTROID_SHARE = 0.3  # share of the entry-as-a-whole similarity in an entry's score
FOCUS_SHARE = 0.3  # weight of the question found in a long message against the whole message
# (round-12 sets, 2026-12-06, once the finder worked: 0.3-0.45 best, 0.6 and up lose long
# messages whose question alone is generic, "báo ai?")
NOT_OURS_FACTOR = 0.6  # a message on another service's topic (lexicon not_ours) keeps this share
ROLE_BONUS = 0.03  # an entry written for the writer's role alone (settles twin entries)
# Examples (knowledge/examples/) are searched by the cosine too, not only learned by the
# classifier: out-of-fold top-1 85.4 % against 83.0 % (bench/calibrate.py), for a larger index.
EXAMPLES_IN_INDEX = True
HEAD_CHARS, TAIL_CHARS = 200, 400  # a rambling message: its start and end carry the topic

Band = Literal["answer", "did-you-mean", "fallback"]


class EntryLike(Protocol):
    """What the ranker reads of an entry; `audience` (its readers) is optional."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def questions(self) -> list[str]: ...


@dataclass(frozen=True)
class Hit:
    entry_id: str
    score: float  # 0-100


@dataclass(frozen=True)
class Thresholds:
    high: float = DEFAULT_HIGH
    low: float = DEFAULT_LOW


def band(score: float, thresholds: Thresholds) -> Band:
    """Answer above `high`, offer choices from `low` up to `high`, fall back below `low`."""
    if score >= thresholds.high:
        return "answer"
    if score >= thresholds.low:
        return "did-you-mean"
    return "fallback"


# Everything the index depends on besides the questions: a change here rebuilds it.
INDEX_SETTINGS = (
    f"hashed char_wb 2-5 + word 1-2, crc32, {N_FEATURES} each, sublinear tf, smooth idf, l2,"
    f" float16 postings of the known features, max_df {MAX_DF_SHARE} unless < {MIN_DF_KEPT};"
    f" classifier up to {MAX_ENTRIES} entries (+ learned-only rows, a 'none' class last):"
    f" {CLASSIFIER_SETTINGS}"
)
INDEX_MEMO_SIZE = 2  # knowledge versions kept built in this process (live, a reload)


@dataclass(frozen=True)
class RankerIndex:
    """The built index as plain arrays: the hashed features the questions hold (sorted) with
    their idf and postings (CSR arrays: feature -> questions), the idf of any other feature,
    each entry's norm as a whole, the classifier's weights if fitted."""

    features: np.ndarray  # known features, int64, sorted
    idf: np.ndarray  # per known feature, float32
    unseen_idf: np.ndarray  # (1,), float32: the idf of a feature no question holds
    indptr: np.ndarray  # known features + 1, int32
    questions: np.ndarray  # int32: the question of each posting
    weights: np.ndarray  # float16: the posting's weight
    entry_norms: np.ndarray  # entries, float64
    classifier: EntryWeights | None

    def arrays(self) -> Arrays:
        arrays = {
            "features": self.features, "idf": self.idf, "unseen_idf": self.unseen_idf,
            "indptr": self.indptr, "questions": self.questions, "weights": self.weights,
            "entry_norms": self.entry_norms,
        }
        if self.classifier is not None:
            arrays.update({f"classifier_{k}": v for k, v in self.classifier.arrays().items()})
        return arrays

    @classmethod
    def read(cls, arrays: Arrays) -> RankerIndex:
        prefix = "classifier_"
        fitted = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        return cls(
            np.asarray(arrays["features"], dtype=np.int64),
            np.asarray(arrays["idf"], dtype=np.float32),
            np.asarray(arrays["unseen_idf"], dtype=np.float32),
            np.asarray(arrays["indptr"], dtype=np.int32),
            np.asarray(arrays["questions"], dtype=np.int32),
            np.asarray(arrays["weights"], dtype=np.float16),
            np.asarray(arrays["entry_norms"], dtype=np.float64),
            EntryWeights.read(fitted) if fitted else None,
        )

    def postings(self, items: int) -> Postings:
        return Postings(self.features, self.idf, float(self.unseen_idf[0]), self.indptr,
                        self.questions, self.weights, items)


def build_index(
    texts: list[str],
    starts: np.ndarray,
    learned: Sequence[str] = (),
    labels: Sequence[int] = (),
) -> RankerIndex:
    """Build the index of the folded questions (`starts`: each entry's first question).
    `learned`: folded texts the classifier learns but the index does not hold, with their
    `labels` (an entry's row, or len(starts) for the "none" class of out-of-scope messages).
    scipy and scikit-learn are imported here only: answering needs numpy alone."""
    import scipy.sparse as sp

    counts = hashed_counts(texts)
    df = np.bincount(counts.indices, minlength=2 * N_FEATURES).astype(np.float32)
    n = float(len(texts))
    # Smooth idf as scikit-learn's TfidfTransformer; unseen features weigh as the rarest.
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    docs = weighed(counts, idf)
    owner = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(texts))))
    if learned:
        # weighed with the index's idf; the out-of-scope messages are one more class, last
        rows = sp.vstack([docs, weighed(hashed_counts(list(learned)), idf)]).tocsr()
        owners = np.concatenate([owner, np.asarray(labels, dtype=owner.dtype)])
        has_none = bool(np.any(owners == len(starts)))
        classifier = entry_weights(rows, owners, len(starts) + (1 if has_none else 0))
    else:
        classifier = entry_weights(docs, owner, len(starts))
    pick = sp.csr_matrix(
        (np.ones(len(texts), dtype=np.float32), (owner, np.arange(len(texts)))),
        shape=(len(starts), len(texts)),
    )
    # An entry as a whole is the sum of its question vectors: its cosine with a message is
    # the sum of the questions' dot products over the sum's norm, so only the norm is kept.
    sums = pick @ docs
    norms = np.sqrt(np.asarray(sums.multiply(sums).sum(axis=1)).ravel())
    entry_norms = np.where(norms > 0, norms, 1.0)
    del sums, pick
    # Features found in more than MAX_DF_SHARE of the questions (common letter pairs) say
    # little and would make most of the postings a message touches: they are dropped.
    keep = df[docs.indices] <= max(MAX_DF_SHARE * n, MIN_DF_KEPT)
    docs.data[~keep] = 0.0
    docs.eliminate_zeros()
    postings = docs.T.tocsr()
    # Only the features the questions hold are kept: df = 0 gives the largest idf (smooth
    # idf), and only those features lack postings.
    unseen = idf.max()
    starts = postings.indptr
    known = np.flatnonzero((starts[1:] != starts[:-1]) | (idf != unseen))
    indptr = np.append(starts[known], starts[known[-1] + 1] if known.size else 0)
    # Half precision: weights in [0, 1] keep three digits, the scores' own precision,
    # and the index takes 6 bytes a posting instead of 8.
    return RankerIndex(
        known.astype(np.int64), idf[known], np.asarray([unseen], dtype=np.float32),
        indptr.astype(np.int32), postings.indices.astype(np.int32),
        postings.data.astype(np.float16), entry_norms.astype(np.float64), classifier,
    )


def _index_digest(
    texts: list[str], starts: np.ndarray, learned: Sequence[str], labels: Sequence[int]
) -> bytes:
    """Everything the index is built from: the indexed texts (the entries' questions, titles
    and, with EXAMPLES_IN_INDEX, knowledge/examples/), and the classifier-only texts with their
    labels (out-of-scope messages): an edit to any of them builds and fits again."""
    h = hashlib.blake2b(np.ascontiguousarray(starts, dtype=np.int64).tobytes(), digest_size=20)
    for text in texts:
        h.update(text.encode())
        h.update(b"\x00")
    h.update(b"\x01learned\x00")
    h.update(np.asarray(labels, dtype=np.int64).tobytes())
    for text in learned:
        h.update(text.encode())
        h.update(b"\x00")
    return h.digest()


# What answering keeps of a built index: its postings laid out for search (postings.py), the
# entries' norms and the classifier's weights (the full RankerIndex is dropped once read).
_Prepared = tuple[Postings, np.ndarray, EntryWeights | None]
# A message as the search reads it: features, weights, their places in the postings, found.
_Query = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_built: OrderedDict[str, _Prepared] = OrderedDict()


class Ranker:
    """Index built once from the entries; `search` ranks entries for one normalised message.

    The index comes from bot.core.fitting (kept on disk by `python -m bot run`, built in a
    child process there), so this process needs neither scipy nor scikit-learn to answer.
    """

    def __init__(
        self,
        entries: Iterable[EntryLike],
        normaliser: Normaliser,
        *,
        examples: Mapping[str, Sequence[str]] | None = None,
        out_of_scope: Sequence[str] = (),
    ) -> None:
        """`examples`: more questions per entry id (knowledge/examples/), indexed with the
        entry's own questions (EXAMPLES_IN_INDEX) or else learned by the classifier only;
        `out_of_scope`: messages that are not ours, a "none" class of the classifier whose
        probability is taken from every entry's."""
        examples = examples or {}
        self.ids: list[str] = []
        self._not_ours = [f" {p} " for p in normaliser.not_ours if p.strip()]
        self._sole_reader: list[str | None] = []
        texts: list[str] = []
        starts: list[int] = []
        for entry in entries:
            readers = list(getattr(entry, "audience", None) or [])
            self._sole_reader.append(readers[0] if len(readers) == 1 else None)
            self.ids.append(entry.id)
            starts.append(len(texts))
            extra = examples.get(entry.id, ()) if EXAMPLES_IN_INDEX else ()
            texts += [*entry.questions, *extra, entry.title]
        self._starts = np.asarray(starts, dtype=np.int64)
        learned, labels = self._learned_only(examples, out_of_scope)
        # folded in one go, and kept with the fitted weights: ~4,500 texts, a start's slowest part
        folded = folded_texts(
            "rankertexts", [*texts, *learned], normaliser.folded, normaliser.key
        )
        texts, learned = folded[: len(texts)], folded[len(texts) :]
        self._char_hashes = WordGramHashes(
            (word for text in folded for word in text.split()), 2, 5, char_feature
        )
        self._question_count = len(texts)
        if not texts:
            prepared: _Prepared = (
                Postings(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 1.0,
                         np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.int32),
                         np.zeros(0, dtype=np.float16), 0),
                np.ones(0), None,
            )
        else:
            key = weights_key(
                "ranker", INDEX_SETTINGS, _index_digest(texts, self._starts, learned, labels)
            )
            found = _built.get(key)
            if found is None:
                index = obtain(
                    "ranker", key, RankerIndex.read, build_index,
                    (texts, self._starts, learned, labels),
                )
                found = (
                    index.postings(len(texts)),
                    index.entry_norms, index.classifier,
                )
                del index
                _built[key] = found
                while len(_built) > INDEX_MEMO_SIZE:
                    _built.popitem(last=False)
            else:
                _built.move_to_end(key)
            prepared = found
        self._postings, self._entry_norms, fitted = prepared
        classes = len(starts) if fitted is None else fitted.intercept.size
        self._classifier = EntryClassifier.from_weights(fitted, classes)

    def _learned_only(
        self,
        examples: Mapping[str, Sequence[str]],
        out_of_scope: Sequence[str],
    ) -> tuple[list[str], list[int]]:
        """What the classifier learns besides the index's texts, with labels: the examples
        when they are not indexed, then the out-of-scope messages as one more class after the
        entries ("none")."""
        row_of = {entry_id: i for i, entry_id in enumerate(self.ids)}
        texts: list[str] = []
        labels: list[int] = []
        for entry_id, questions in examples.items():
            if entry_id in row_of and not EXAMPLES_IN_INDEX:
                texts += questions
                labels += [row_of[entry_id]] * len(questions)
        texts += out_of_scope
        labels += [len(self.ids)] * len(out_of_scope)
        return texts, labels

    @property
    def question_count(self) -> int:
        return self._question_count

    def _query(self, folded: str) -> _Query:
        """The message's hashed features (first appearance order, int64), their normalised
        TF-IDF weights (float64) and where they are in the postings (`Postings.find`): plain
        numpy, as a message is one row and scipy's per-call overhead would be most of the
        search time."""
        if len(folded) > HEAD_CHARS + TAIL_CHARS:
            folded = f"{folded[:HEAD_CHARS]} {folded[-TAIL_CHARS:]}"
        features, counts = hashed(folded, self._char_hashes)
        features = features.astype(np.int64)
        at, found = self._postings.find(features)
        if features.size == 0:
            return features, np.zeros(0), at, found
        weights = counts.astype(np.float64) * self._postings.idf_of(at, found)
        weights /= float(np.sqrt(np.dot(weights, weights))) or 1.0
        return features, weights, at, found

    def _focused(self, folded: str, focus: str) -> _Query:
        """The whole message and the question found in it, mixed (FOCUS_SHARE) and
        normalised again."""
        whole, whole_w, whole_at, whole_found = self._query(folded)
        part, part_w, part_at, part_found = self._query(focus)
        # The focus's features already in the message add to them; the others follow, in the
        # order they appear (the order of the sum below, so the norm is the same to the bit
        # as summing a dict of both). Each feature is looked up in the postings once.
        sorter = np.argsort(whole, kind="stable")
        pos = np.searchsorted(whole, part, sorter=sorter).clip(max=max(whole.size - 1, 0))
        shared = (whole[sorter[pos]] == part) if whole.size else np.zeros(part.size, dtype=bool)
        weights = (1 - FOCUS_SHARE) * whole_w
        weights[sorter[pos[shared]]] += FOCUS_SHARE * part_w[shared]
        new = ~shared
        weights = np.concatenate([weights, FOCUS_SHARE * part_w[new]])
        norm = float(np.sqrt(sum(w * w for w in weights.tolist()))) or 1.0
        return (np.concatenate([whole, part[new]]), weights / norm,
                np.concatenate([whole_at, part_at[new]]),
                np.concatenate([whole_found, part_found[new]]))

    def search(
        self,
        message: Normalised,
        limit: int = 3,
        *,
        focus: str | None = None,
        role: str | None = None,
    ) -> list[Hit]:
        """Rank entries for a message, best first; scores are 0-100.

        `focus`: the question found inside a long message, weighed above the rest of it;
        `role`: who writes ("parent", "teacher", "child"), a small bonus for entries written
        for that reader alone.
        """
        if not message.folded.strip() or not self.ids:
            return []
        if focus:
            features, weights, at, found = self._focused(message.folded, focus)
        else:
            features, weights, at, found = self._query(message.folded)
        if not features.size:
            return []
        per_doc = self._postings.dot(at, found, weights)
        best = np.maximum.reduceat(per_doc, self._starts) if per_doc.size else per_doc
        whole = np.add.reduceat(per_doc, self._starts) / self._entry_norms
        scores = (1 - CENTROID_SHARE) * best + CENTROID_SHARE * whole
        if self._classifier.fitted:
            likely = self._classifier.probabilities(features, weights)[: len(self.ids)]
            scores = (1 - CLASSIFIER_SHARE) * scores + CLASSIFIER_SHARE * likely
        if role is not None:
            bonus = np.fromiter(
                (ROLE_BONUS if r == role else 0.0 for r in self._sole_reader),
                dtype=np.float64,
                count=len(self._sole_reader),
            )
            scores = scores + bonus * (scores > 0)
        padded = f" {message.folded} "
        if any(p in padded for p in self._not_ours):
            scores = scores * NOT_OURS_FACTOR
        k = min(max(limit, 1), scores.size)
        top = np.argpartition(-scores, k - 1)[:k]
        order = sorted(top.tolist(), key=lambda i: (-scores[i], self.ids[i]))
        return [
            Hit(self.ids[i], round(float(min(100.0, 100.0 * scores[i])), 2))
            for i in order
            if scores[i] > 0
        ]

