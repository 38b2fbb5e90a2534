"""Learned triage layer (issue 13): a classifier trained at load from example messages.

Staff add a missed message to knowledge/triage_examples/*.yaml instead of writing a rule. The
model reads the folded text plus marker words (bot.core.triage.markers): TF-IDF of character
2-5-grams and word 1-2-grams into a logistic regression with balanced classes (look-alikes
weighted up), averaged with a second one over word 1-3-grams; that P(danger) sets the tier.
Training is deterministic (fixed solver, seeded order), takes ~1.2-1.5 s CPU and is
remembered per process by a digest of the training data (`trained_model`); the fitted weights
are plain arrays (`TriageWeights`) kept by bot.core.fitting, so answering needs no scikit-learn.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from bot.core.fitting import (
    Arrays,
    PackedTexts,
    obtain,
    pack_texts,
    unpack_texts,
    weights_key,
)
from bot.core.keptfolds import folded_texts
from bot.core.ngrams import WORD_PATTERN, WordGramHashes, char_wb_grams, word_grams

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

Kind = Literal[
    "sexual_abuse",
    "physical_violence",
    "self_harm",
    "trafficking",
    "kidnapping",
    "neglect",
    "forced_marriage",
    "online_exploitation",
    "bullying",
    "accident_medical",
    "fire",
    "distress",
    "other",
]
Tier = Literal["urgent", "check", "none"]
NONE = "none"
# Example kinds that have no danger.yaml category of their own: answered as this category.
KIND_TO_CATEGORY = {
    "bullying": "physical_violence",
    "other": "distress",
}


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)
    kind: Kind


class ExampleSet(BaseModel):
    """One examples file: urgent and unclear messages with a kind, and safe messages."""

    model_config = ConfigDict(extra="forbid")
    urgent: list[Example] = Field(default_factory=list)
    unclear: list[Example] = Field(default_factory=list)
    lookalike: list[str] = Field(default_factory=list)
    question: list[str] = Field(default_factory=list)
    out_of_scope: list[str] = Field(default_factory=list)

    def texts(self) -> list[str]:
        """Every message of the file, whatever its list."""
        return [*(e.text for e in (*self.urgent, *self.unclear)), *self.lookalike,
                *self.question, *self.out_of_scope]


# Everything the fit depends on besides the data: a change here refits (bot.core.fitting).
FIT_SETTINGS = (
    "tfidf char_wb 2-5 min_df=2 sublinear float32 + word 1-2 \\b\\w+\\b sublinear float32;"
    " binary LR C=10 balanced liblinear dual seed 0 sample weights; + phrase model: word 1-3"
    " sublinear float32, binary LR same settings, P averaged; kinds one-vs-rest LR, same settings;"
    " per-term arrays stored float32"
)
# random_state: liblinear's dual solver visits the examples in a shuffled order; unseeded, two
# fits of the same examples differed by ~3e-6 in P(danger). Seeded: same examples, same weights.
_LIBLINEAR = {
    "C": 10.0, "class_weight": "balanced", "solver": "liblinear", "dual": True, "random_state": 0
}
# Tiers by P(danger) (bench/triage_oof.py, leave-one-author-out): urgent from URGENT_AT, or
# when a rule fired from its category's `rule_urgent_at` (danger.yaml; rules raised 81 of 112
# held-out false alarms when every rule hit was urgent from 0.3); check from CHECK_AT, and
# always on a rule hit.
URGENT_AT = 0.75
CHECK_AT = 0.25
# A look-alike example counts this many times in the binary fit: it is the evidence that
# separates "telling about" from "talking about" (held out: 8.3 % -> 6.6 % false alarms).
LOOKALIKE_WEIGHT = 3.0
_CHAR_GRAMS = char_wb_grams(2, 5, lowercase=True)
_WORD_GRAMS = word_grams(1, 2, lowercase=True)
_PHRASE_GRAMS = word_grams(1, 3, lowercase=True)


Terms = list[str] | PackedTexts


@dataclass(frozen=True)
class TriageWeights:
    """The fitted model as plain arrays: n-gram vocabularies (column order) and idf of the two
    TF-IDF parts, then the binary model's and the kind models' weights over both parts; then the
    phrase model (a second binary model over word 1-3-grams): vocabulary, idf, weights, bias."""

    # the n-gram vocabularies: lists from a fit, packed (read a slice at a time) from a store
    char_terms: Terms
    # per-term arrays: float64 from a fit, float32 once stored and read (`arrays`)
    char_idf: np.ndarray
    word_terms: Terms
    word_idf: np.ndarray
    weights: np.ndarray  # P(danger) weights over char then word columns
    bias: float
    kinds: list[str]
    kind_weights: np.ndarray  # columns x kinds
    kind_bias: np.ndarray  # kinds, float64
    phrase_terms: Terms
    phrase_idf: np.ndarray
    phrase_weights: np.ndarray
    phrase_bias: float

    def arrays(self) -> Arrays:
        # The per-term arrays are stored in single precision, as `_AppliedTfidf` applies
        # them: a start then never holds float64 copies next to the float32 ones (the kind
        # weights alone were 4 MB of the bot's peak memory).
        single = np.float32
        return {
            "char_terms": pack_texts(self.char_terms),
            "char_count": np.array([len(self.char_terms)]),
            "char_idf": self.char_idf.astype(single),
            "word_terms": pack_texts(self.word_terms),
            "word_count": np.array([len(self.word_terms)]),
            "word_idf": self.word_idf.astype(single),
            "weights": self.weights.astype(single),
            "bias": np.array([self.bias]),
            "kinds": pack_texts(self.kinds),
            "kind_count": np.array([len(self.kinds)]),
            "kind_weights": self.kind_weights.astype(single),
            "kind_bias": self.kind_bias,
            "phrase_terms": pack_texts(self.phrase_terms),
            "phrase_count": np.array([len(self.phrase_terms)]),
            "phrase_idf": self.phrase_idf.astype(single),
            "phrase_weights": self.phrase_weights.astype(single),
            "phrase_bias": np.array([self.phrase_bias]),
        }

    @classmethod
    def read(cls, arrays: Arrays) -> TriageWeights:
        return cls(
            char_terms=PackedTexts(arrays["char_terms"], int(arrays["char_count"][0])),
            char_idf=np.asarray(arrays["char_idf"]),
            word_terms=PackedTexts(arrays["word_terms"], int(arrays["word_count"][0])),
            word_idf=np.asarray(arrays["word_idf"]),
            weights=np.asarray(arrays["weights"]),
            bias=float(arrays["bias"][0]),
            kinds=unpack_texts(arrays["kinds"], int(arrays["kind_count"][0])),
            kind_weights=np.asarray(arrays["kind_weights"]),
            kind_bias=np.asarray(arrays["kind_bias"], dtype=np.float64),
            phrase_terms=PackedTexts(arrays["phrase_terms"], int(arrays["phrase_count"][0])),
            phrase_idf=np.asarray(arrays["phrase_idf"]),
            phrase_weights=np.asarray(arrays["phrase_weights"]),
            phrase_bias=float(arrays["phrase_bias"][0]),
        )


def fit_triage(texts: list[str], labels: list[str], weights: list[float]) -> TriageWeights:
    """Fit the model on folded texts (scikit-learn, imported here: only fitting needs it)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, dtype=np.float32
    )
    def word_vectorizer(longest: int) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer="word", ngram_range=(1, longest), sublinear_tf=True,
                               token_pattern=WORD_PATTERN, dtype=np.float32)

    words = word_vectorizer(2)
    char_rows = chars.fit_transform(texts)
    features = hstack([char_rows, words.fit_transform(texts)]).tocsr()
    danger = np.array([label != NONE for label in labels])
    # The dual problem: far fewer examples than n-grams, so liblinear's dual solver reaches
    # the same optimum (probabilities within 1e-4) about seven times faster than the primal.
    binary = LogisticRegression(**_LIBLINEAR)
    sample_weight = np.asarray(weights, dtype=np.float64)
    binary.fit(features, danger, sample_weight=sample_weight)
    # The phrase model: word 1-3-grams alone, its P averaged with the first model's. Held out
    # (bench/triage_oof.py) the average ranks urgent messages above look-alikes better than
    # either model: at ~5 % look-alike false alarms, urgent-or-check 98.6 -> 99.0 %.
    phrases = word_vectorizer(3)
    phrase_model = LogisticRegression(**_LIBLINEAR)
    phrase_model.fit(phrases.fit_transform(texts), danger, sample_weight=sample_weight)
    # Kind: one-vs-rest logistic regressions over the danger examples (held-out kind
    # agreement 71-75 % on the four example sets, against 45-51 % for nearest centroid).
    danger_labels = np.array([label for label in labels if label != NONE])
    kinds: list[str] = sorted(set(danger_labels.tolist()))
    kind_of = OneVsRestClassifier(
        LogisticRegression(**_LIBLINEAR)
    ).fit(features[danger], danger_labels)
    if len(kinds) > 2:
        per_kind = [e.coef_.ravel() for e in kind_of.estimators_]
        kind_bias = np.array([float(e.intercept_[0]) for e in kind_of.estimators_])
    else:  # two kinds: one estimator, its sign picks the second kind
        coef = kind_of.estimators_[0].coef_.ravel()
        per_kind = [-coef, coef]
        bias = float(kind_of.estimators_[0].intercept_[0])
        kind_bias = np.array([-bias, bias])

    def terms(vectorizer: TfidfVectorizer) -> list[str]:
        by_column = sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])
        return [term for term, _ in by_column]

    return TriageWeights(
        char_terms=terms(chars),
        char_idf=np.asarray(chars.idf_, dtype=np.float64),
        word_terms=terms(words),
        word_idf=np.asarray(words.idf_, dtype=np.float64),
        weights=np.asarray(binary.coef_, dtype=np.float64).ravel(),
        bias=float(binary.intercept_[0]),
        kinds=kinds,
        kind_weights=np.vstack(per_kind).T.astype(np.float64),
        kind_bias=kind_bias,
        phrase_terms=terms(phrases),
        phrase_idf=np.asarray(phrases.idf_, dtype=np.float64),
        phrase_weights=np.asarray(phrase_model.coef_, dtype=np.float64).ravel(),
        phrase_bias=float(phrase_model.intercept_[0]),
    )


def _data_digest(texts: list[str], labels: list[str], weights: list[float]) -> bytes:
    digest = hashlib.blake2b(digest_size=20)
    for text, label, weight in zip(texts, labels, weights, strict=True):
        digest.update(f"{label}\x00{weight!r}\x00{text}\x01".encode())
    return digest.digest()


class _AppliedTfidf:
    """The fitted TF-IDF parts (char, word, phrase) applied to a single text in one pass.

    sklearn's `transform` spends ~90 % of a call on input checks and sparse-matrix building for
    one row; here the same analyzers make the n-grams (bot.core.ngrams) and the fitted
    vocabularies (as hashes), idf, sublinear tf and each part's l2 norm are applied with small
    numpy arrays (same figures to ~1e-6). The three parts share one sorted hash table, so a
    message costs one lookup instead of three (most of a part's cost was numpy's fixed
    per-call overhead, paid again for each part).
    """

    def __init__(self, parts: list[_Part]) -> None:
        self._analysers = [part.analyse for part in parts]
        self._hashers = [part.hashed for part in parts]
        # Each part's n-gram hashes are salted with its position, so a term of one part (the
        # word "ba") never matches the same string in another (the char n-gram "ba").
        self._salts = [_salt(i) for i in range(len(parts))]
        # The vocabulary as the sorted 64-bit hashes of its terms (Python's `hash`, fixed
        # within a process, and only compared within it) and their columns: 136 k n-gram
        # strings in a dict cost ~20 MB of the bot's memory, these arrays ~2 MB.
        hashes = np.concatenate([
            np.fromiter((hash(term) ^ salt for term in part.terms), dtype=np.int64,
                        count=len(part.terms))
            for part, salt in zip(parts, self._salts, strict=True)
        ]) if parts else np.zeros(0, dtype=np.int64)
        order = np.argsort(hashes, kind="stable")
        self._hashes = hashes[order]
        # Every per-term array is kept in the hashes' order, so a message's terms (looked up
        # in sorted order) are found with no detour through a column table, and idf and
        # weight sit side by side (one cache line a term, not two: the bot reads them cold,
        # between two messages). Single precision (half the memory; P(danger) moves by ~1e-7,
        # and no tier changes on the 9,000 bundled messages): dot products add up in float64.
        self._idf_weight = np.stack([
            np.concatenate([p.idf for p in parts]).astype(np.float32)[order],
            np.concatenate([p.weights for p in parts]).astype(np.float32)[order],
        ], axis=1) if parts else np.zeros((0, 2), dtype=np.float32)
        self._part_of = np.concatenate(  # int8: three parts; 1.1 MB less than intp
            [np.full(len(p.terms), i, dtype=np.int8) for i, p in enumerate(parts)]
        )[order] if parts else np.zeros(0, dtype=np.int8)
        # kind weights only for the leading parts that have them, by column (part order);
        # `_columns`: each hash's column
        self._columns = order.astype(np.int32)
        with_kinds = [p.kinds for p in parts if p.kinds.shape[1]]
        self._kind_columns = sum(len(p.terms) for p in parts if p.kinds.shape[1])
        width = with_kinds[0].shape[1] if with_kinds else 0
        self._kinds = (np.concatenate(with_kinds).astype(np.float32) if with_kinds
                       else np.zeros((0, width), dtype=np.float32))
        self._n_parts = len(parts)

    def apply(self, text: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Per part, row . weights; and the kind parts' row . kind weights (None: no known
        n-gram), for the text's l2-normalised (per part) tf-idf row."""
        dots = np.zeros(self._n_parts)
        wanted: list[np.ndarray] = []
        for analyse, hashed, salt in zip(
            self._analysers, self._hashers, self._salts, strict=True
        ):
            if hashed is not None:
                wanted.append(hashed(text))
                continue
            grams = analyse(text)
            wanted.append(np.fromiter(
                map(hash, grams) if not salt else (hash(g) ^ salt for g in grams),
                dtype=np.int64, count=len(grams),
            ))
        hashes = np.concatenate(wanted) if wanted else np.zeros(0, dtype=np.int64)
        if not hashes.size or not self._hashes.size:
            return dots, None
        # Sorted keys: numpy's binary search starts each key where the previous one ended, so
        # a long message's lookups in the 1.6 MB table take half the time, and the terms found
        # come out in the table's order, repeats side by side.
        hashes.sort()
        at = np.searchsorted(self._hashes, hashes)
        np.minimum(at, self._hashes.size - 1, out=at)
        known = at[self._hashes[at] == hashes]
        if not known.size:
            return dots, None
        # the distinct terms and how often each occurs (np.unique, without its per-call
        # overhead)
        first = np.empty(known.size, dtype=bool)
        first[0] = True
        np.not_equal(known[1:], known[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        terms = known[starts]
        counts = np.diff(starts, append=known.size)
        idf_weight = self._idf_weight[terms]
        values = (1.0 + np.log(counts)) * idf_weight[:, 0]
        part = self._part_of[terms]
        norms = np.sqrt(np.bincount(part, weights=values * values, minlength=self._n_parts))
        values /= norms[part]
        dots = np.bincount(part, weights=values * idf_weight[:, 1],
                           minlength=self._n_parts).astype(np.float64)
        cols = self._columns[terms]
        with_kinds = cols < self._kind_columns
        if not with_kinds.any():
            return dots, None
        return dots, values[with_kinds] @ self._kinds[cols[with_kinds]]


def _salt(part: int) -> int:
    """0 for the first part, a fixed 64-bit pattern for the others, as a signed value (so a
    salted hash still fits numpy's int64)."""
    salt = (part * 0x9E3779B97F4A7C15) & ((1 << 64) - 1)
    return salt - (1 << 64) if salt >= 1 << 63 else salt


class _Part(NamedTuple):
    analyse: Callable[[str], list[str]]
    terms: Terms
    idf: np.ndarray
    weights: np.ndarray
    kinds: np.ndarray  # (terms, kinds); (terms, 0) for a part without kind weights
    # the part's salted n-gram hashes worked out faster (by word), the same figures as hashing
    # `analyse`'s n-grams; None: hash them
    hashed: Callable[[str], np.ndarray] | None = None


def _sigmoid(logit: float) -> float:
    if logit < -700.0:  # math.exp overflows past ~709
        return 0.0
    return 1.0 / (1.0 + math.exp(-logit))


class TriageModel:
    """Danger probability (binary model) and danger kind (one-vs-rest models on urgent examples).

    The weights come from bot.core.fitting: stored ones for the same examples, else a fit.
    """

    def __init__(
        self,
        texts: list[str],
        labels: list[str],
        weights: list[float] | None = None,
        *,
        urgent_at: float = URGENT_AT,
        check_at: float = CHECK_AT,
    ) -> None:
        self.urgent_at = urgent_at
        self.check_at = check_at
        weights = weights if weights is not None else [1.0] * len(texts)
        # the folded words of the examples: the rules work them out once (`Triage.warm`)
        self.vocabulary = frozenset(word for text in texts for word in text.split())
        key = weights_key("triage", FIT_SETTINGS, _data_digest(texts, labels, weights))
        fitted = obtain("triage", key, TriageWeights.read, fit_triage, (texts, labels, weights))
        self.kinds: list[str] = fitted.kinds
        self._b = fitted.bias
        self._kind_b = fitted.kind_bias
        split = len(fitted.char_terms)
        self._phrase_b = fitted.phrase_bias
        char_hashes = WordGramHashes((word.lower() for word in self.vocabulary), 2, 5, hash)
        # parts 0 and 1 make the binary model with kinds, part 2 the phrase model
        self._applied = _AppliedTfidf([
            _Part(_CHAR_GRAMS, fitted.char_terms, fitted.char_idf, fitted.weights[:split],
                  np.ascontiguousarray(fitted.kind_weights[:split]),
                  lambda text: char_hashes(text.lower())),  # the first part's salt is 0
            _Part(_WORD_GRAMS, fitted.word_terms, fitted.word_idf, fitted.weights[split:],
                  np.ascontiguousarray(fitted.kind_weights[split:])),
            _Part(_PHRASE_GRAMS, fitted.phrase_terms, fitted.phrase_idf, fitted.phrase_weights,
                  np.zeros((len(fitted.phrase_terms), 0))),
        ])

    def scores(self, folded: str) -> tuple[float, str]:
        """P(danger) (the mean of the two binary models') and the most likely danger kind."""
        dots, kinds = self._applied.apply(folded)
        logit = self._b + float(dots[0]) + float(dots[1])
        closeness = self._kind_b if kinds is None else self._kind_b + kinds
        kind = self.kinds[int(closeness.argmax())]
        phrase_logit = self._phrase_b + float(dots[2])
        return (_sigmoid(logit) + _sigmoid(phrase_logit)) / 2.0, kind

    def tier(self, danger: float, rule_at: float | None = None) -> Tier:
        """`rule_at`: a rule fired, whose category is urgent from this P(danger); a rule hit
        is at least a check."""
        if danger >= (self.urgent_at if rule_at is None else rule_at):
            return "urgent"
        return "check" if rule_at is not None or danger >= self.check_at else "none"


# Models already trained in this process, by digest of their training data (never user text):
# a reload of unchanged knowledge, or a second Responder in the tests, trains nothing.
_TRAINED: OrderedDict[bytes, TriageModel] = OrderedDict()
_TRAINED_KEEP = 2
_TRAINED_LOCK = threading.Lock()


def trained_model(
    data: TrainingData, fold: Callable[[str], str], fold_key: str
) -> TriageModel:
    """The model for these examples, trained once per process per knowledge version.

    `fold` turns an example into the text the model reads; `fold_key` names what it depends
    on (the lexicon), so a changed lexicon retrains too.
    """
    texts, labels, weights = data
    key = hashlib.blake2b(fold_key.encode() + _data_digest(texts, labels, weights)).digest()
    with _TRAINED_LOCK:
        model = _TRAINED.get(key)
        if model is None:
            model = TriageModel(folded_texts("triagetexts", texts, fold, fold_key), labels, weights)
            _TRAINED[key] = model
            while len(_TRAINED) > _TRAINED_KEEP:
                _TRAINED.popitem(last=False)
        _TRAINED.move_to_end(key)
        return model


class TrainingData(NamedTuple):
    texts: list[str]
    labels: list[str]  # a danger category, or NONE
    weights: list[float]  # per example: look-alikes count LOOKALIKE_WEIGHT times


def training_data(
    sets: list[ExampleSet], safe: list[str], danger: list[tuple[str, str | None]]
) -> TrainingData:
    """Texts, labels and weights: urgent examples by kind, unclear left out (the check tier's
    doubt), look-alikes weighted up (they are what the model must tell apart)."""
    data = TrainingData([], [], [])

    def add(text: str, label: str, weight: float = 1.0) -> None:
        data.texts.append(text)
        data.labels.append(label)
        data.weights.append(weight)

    for examples in sets:
        for ex in examples.urgent:
            add(ex.text, KIND_TO_CATEGORY.get(ex.kind, ex.kind))
        for text in examples.lookalike:
            add(text, NONE, LOOKALIKE_WEIGHT)
        for text in [*examples.question, *examples.out_of_scope]:
            add(text, NONE)
    for text in safe:
        add(text, NONE)
    for text, category in danger:
        add(text, category or NONE)
    return data
