"""Learned triage layer (issue 13): a classifier trained at load from example messages.

Staff add a missed message to knowledge/triage_examples/*.yaml instead of writing a rule. The
model is TF-IDF (character 2-5-grams and word 1-2-grams of the folded text) and a multinomial
logistic regression with balanced classes; the probability of "not none" sets the tier.
Training is deterministic (fixed solver, no randomness) and takes about a second.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

Kind = Literal[
    "sexual_abuse", "physical_violence", "self_harm", "trafficking", "kidnapping", "neglect",
    "forced_marriage", "online_exploitation", "bullying", "accident_medical", "distress", "other",
]
Tier = Literal["urgent", "check", "none"]
NONE = "none"
# Example kinds that have no danger.yaml category of their own yet.
KIND_TO_CATEGORY = {"bullying": "physical_violence", "other": "distress",
                    "accident_medical": "distress"}


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


class TriageModel:
    """Danger probability (binary model) and danger kind (a second model on urgent examples)."""

    def __init__(self, texts: list[str], labels: list[str],
                 urgent_at: float = 0.7, check_at: float = 0.3) -> None:
        self.urgent_at = urgent_at
        self.check_at = check_at
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2,
                                      sublinear_tf=True, dtype=np.float32)
        self._words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2),
                                      sublinear_tf=True, token_pattern=r"(?u)\b\w+\b",
                                      dtype=np.float32)
        features = hstack([self._chars.fit_transform(texts),
                           self._words.fit_transform(texts)]).tocsr()
        danger = np.array([label != NONE for label in labels])
        binary = LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear")
        binary.fit(features, danger)
        # Kind by nearest centroid of the danger examples (cheap, deterministic).
        danger_labels = np.array([label for label in labels if label != NONE])
        self.kinds: list[str] = sorted(set(danger_labels.tolist()))
        rows = features[danger]
        centroids = np.vstack([
            np.asarray(rows[danger_labels == kind].mean(axis=0)).ravel()
            for kind in self.kinds
        ])
        # Weights applied by hand: sklearn's per-call checks cost more than the arithmetic.
        self._w = np.asarray(binary.coef_, dtype=np.float32).ravel()
        self._b = float(binary.intercept_[0])
        self._kw = np.ascontiguousarray(centroids.T, dtype=np.float32)

    def scores(self, folded: str) -> tuple[float, str]:
        """P(danger) and the most likely danger kind."""
        row = hstack([self._chars.transform([folded]), self._words.transform([folded])]).tocsr()
        logit = float((row @ self._w)[0]) + self._b
        kind = self.kinds[int(np.asarray(row @ self._kw).ravel().argmax())]
        return 1.0 / (1.0 + float(np.exp(-logit))), kind

    def tier(self, danger: float) -> Tier:
        if danger >= self.urgent_at:
            return "urgent"
        return "check" if danger >= self.check_at else "none"


def training_data(sets: list[ExampleSet], safe: list[str],
                  danger: list[tuple[str, str | None]]) -> tuple[list[str], list[str]]:
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
