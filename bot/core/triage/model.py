"""Learned triage layer (issue 13): a classifier trained at load from example messages.

Staff add a missed message to knowledge/triage_examples/*.yaml instead of writing a rule. The
model is TF-IDF (character 2-5-grams and word 1-2-grams of the folded text) and a multinomial
logistic regression with balanced classes; the probability of "not none" sets the tier.
Training is deterministic (fixed solver, no randomness), takes well under a second and is
remembered per process by a digest of the training data (`trained_model`).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

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


class _AppliedTfidf:
    """One fitted TF-IDF vectoriser applied by hand to a single text.

    sklearn's `transform` spends ~90 % of a call on input checks and sparse-matrix building for
    one row; here its own analyzer makes the n-grams and the fitted vocabulary, idf, sublinear
    tf and l2 norm are applied with a dict and small numpy arrays (same figures to ~1e-6).
    """

    def __init__(self, vectorizer: TfidfVectorizer, weights: np.ndarray, kinds: np.ndarray) -> None:
        self._analyse = vectorizer.build_analyzer()
        self._columns: dict[str, int] = {
            term: int(col) for term, col in vectorizer.vocabulary_.items()
        }
        self._idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self._weights = weights
        self._kinds = kinds

    def apply(self, text: str) -> tuple[float, np.ndarray | None]:
        """(row . weights, row . kind weights) of the text's l2-normalised tf-idf row."""
        columns = self._columns
        found = [col for gram in self._analyse(text) if (col := columns.get(gram)) is not None]
        if not found:
            return 0.0, None
        cols, counts = np.unique(np.asarray(found, dtype=np.intp), return_counts=True)
        values = (1.0 + np.log(counts)) * self._idf[cols]
        values /= float(np.sqrt(values @ values))
        return float(values @ self._weights[cols]), values @ self._kinds[cols]


class TriageModel:
    """Danger probability (binary model) and danger kind (one-vs-rest models on urgent examples)."""

    def __init__(
        self, texts: list[str], labels: list[str], urgent_at: float = 0.7, check_at: float = 0.3
    ) -> None:
        self.urgent_at = urgent_at
        self.check_at = check_at
        # the folded words of the examples: the rules work them out once (`Triage.warm`)
        self.vocabulary = frozenset(word for text in texts for word in text.split())
        chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, dtype=np.float32
        )
        words = TfidfVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            sublinear_tf=True,
            token_pattern=r"(?u)\b\w+\b",
            dtype=np.float32,
        )
        char_rows = chars.fit_transform(texts)
        features = hstack([char_rows, words.fit_transform(texts)]).tocsr()
        danger = np.array([label != NONE for label in labels])
        # The dual problem: far fewer examples than n-grams, so liblinear's dual solver reaches
        # the same optimum (probabilities within 1e-4) about seven times faster than the primal.
        binary = LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear", dual=True)
        binary.fit(features, danger)
        # Kind: one-vs-rest logistic regressions over the danger examples (held-out kind
        # agreement 71-75 % on the four example sets, against 45-51 % for nearest centroid).
        danger_labels = np.array([label for label in labels if label != NONE])
        self.kinds: list[str] = sorted(set(danger_labels.tolist()))
        rows = features[danger]
        kind_of = OneVsRestClassifier(
            LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear", dual=True)
        ).fit(rows, danger_labels)
        if len(self.kinds) > 2:
            per_kind = [e.coef_.ravel() for e in kind_of.estimators_]
            self._kind_b = np.array([float(e.intercept_[0]) for e in kind_of.estimators_])
        else:  # two kinds: one estimator, its sign picks the second kind
            coef = kind_of.estimators_[0].coef_.ravel()
            per_kind = [-coef, coef]
            bias = float(kind_of.estimators_[0].intercept_[0])
            self._kind_b = np.array([-bias, bias])
        kind_weights = np.vstack(per_kind).T.astype(np.float64)
        weights = np.asarray(binary.coef_, dtype=np.float64).ravel()
        self._b = float(binary.intercept_[0])
        split = char_rows.shape[1]
        for vectorizer in (chars, words):
            # n-grams cut by min_df: only needed for pickling, and they hold training text
            vectorizer.stop_words_ = set()
        self._parts = (
            _AppliedTfidf(chars, weights[:split], np.ascontiguousarray(kind_weights[:split])),
            _AppliedTfidf(words, weights[split:], np.ascontiguousarray(kind_weights[split:])),
        )

    def scores(self, folded: str) -> tuple[float, str]:
        """P(danger) and the most likely danger kind."""
        logit = self._b
        closeness = self._kind_b.copy()
        for part in self._parts:
            dot, kinds = part.apply(folded)
            logit += dot
            if kinds is not None:
                closeness += kinds
        kind = self.kinds[int(closeness.argmax())]
        return 1.0 / (1.0 + math.exp(-logit)), kind

    def tier(self, danger: float) -> Tier:
        if danger >= self.urgent_at:
            return "urgent"
        return "check" if danger >= self.check_at else "none"


# Models already trained in this process, by digest of their training data (never user text):
# a reload of unchanged knowledge, or a second Responder in the tests, trains nothing.
_TRAINED: OrderedDict[bytes, TriageModel] = OrderedDict()
_TRAINED_KEEP = 2
_TRAINED_LOCK = threading.Lock()


def trained_model(
    texts: list[str], labels: list[str], fold: Callable[[str], str], fold_key: str
) -> TriageModel:
    """The model for these examples, trained once per process per knowledge version.

    `fold` turns an example into the text the model reads; `fold_key` names what it depends
    on (the lexicon), so a changed lexicon retrains too.
    """
    digest = hashlib.blake2b(fold_key.encode(), digest_size=20)
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{label}\x00{text}\x01".encode())
    key = digest.digest()
    with _TRAINED_LOCK:
        model = _TRAINED.get(key)
        if model is None:
            model = TriageModel([fold(text) for text in texts], labels)
            _TRAINED[key] = model
            while len(_TRAINED) > _TRAINED_KEEP:
                _TRAINED.popitem(last=False)
        _TRAINED.move_to_end(key)
        return model


def training_data(
    sets: list[ExampleSet], safe: list[str], danger: list[tuple[str, str | None]]
) -> tuple[list[str], list[str]]:
    """Texts and labels: urgent examples by kind, unclear left out (the check tier's doubt)."""
    texts: list[str] = []
    labels: list[str] = []
    for examples in sets:
        for ex in examples.urgent:
            texts.append(ex.text)
            labels.append(KIND_TO_CATEGORY.get(ex.kind, ex.kind))
        for text in [*examples.lookalike, *examples.question, *examples.out_of_scope]:
            texts.append(text)
            labels.append(NONE)
    for text in safe:
        texts.append(text)
        labels.append(NONE)
    for text, category in danger:
        texts.append(text)
        labels.append(category or NONE)
    return texts, labels
