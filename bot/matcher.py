"""Find the knowledge entry a message asks about, with a 0-100 confidence score.

Two stages, because scanning every question with a fuzzy scorer grows linearly and gets slow
(about 400 ms per message at 100,000 questions):

1. Candidates: BM25 over an inverted index of syllables, syllable bigrams and synonym groups of
   the folded (no-diacritic) text, one document per entry (its questions, title and keywords).
   Only the best `CANDIDATES` entries go on.
2. Re-score: each candidate's questions and title are compared with the message by weighted
   coverage (how much of the question the message contains, and how much of the message the
   question explains, with rare words weighing more) blended with a `rapidfuzz` ratio on the
   folded text (typos, near-exact matches). When the user typed diacritics, the same coverage on
   the accented text is blended in, so "bán" and "bạn" stop being the same word.

The combination and the thresholds were picked with `bench/quality.py`; the score is meant to
separate out-of-scope messages (low) from in-scope ones, so it rewards coverage, never length.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from bot.text import Normalised, Normaliser, fold

DEFAULT_HIGH = 38.0
DEFAULT_LOW = 25.0

CANDIDATES = 12  # entries passed from BM25 to the re-scorer
MAX_QUERY_WORDS = 80  # a rambling message: only its most informative words are scored
FUZZ_CHARS = 200  # longer messages are not compared character by character
BIGRAM_WEIGHT = 0.5  # a bigram counts half a syllable of equal rarity
FUZZ_SHARE = 0.25  # share of the rapidfuzz ratio in a question's score
ACCENT_SHARE = 0.35  # share of accented coverage when the user typed diacritics
ENTRY_SHARE = 0.2  # share of "how much of the message the whole entry explains"
BLEND_POWER = 0.6  # weight of question coverage against message coverage (0.5: geometric mean)
LONG_FACTOR = 3.0  # message coverage counts at most this many times the question's weight
KEYWORD_BONUS = 0.08  # an entry keyword found verbatim in the message
BM25_K1 = 1.2
BM25_B = 0.5

Band = Literal["answer", "did-you-mean", "fallback"]


class EntryLike(Protocol):
    id: str
    title: str
    questions: list[str]
    keywords: list[str]


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


def _features(words: Sequence[str], synonyms: dict[tuple[str, ...], str]) -> set[str]:
    """Syllables, syllable bigrams and synonym-group ids of one word list."""
    feats = set(words)
    feats.update(f"{a}_{b}" for a, b in zip(words, words[1:], strict=False))
    if synonyms:
        for n in (3, 2, 1):
            for i in range(len(words) - n + 1):
                group = synonyms.get(tuple(words[i : i + n]))
                if group:
                    feats.add(group)
    return feats


@dataclass
class _Doc:
    """One question or title of an entry, in the forms the re-scorer compares."""

    entry: int
    folded: str
    fold_feats: frozenset[str]
    acc_feats: frozenset[str]
    fold_mass: float
    acc_mass: float


class Matcher:
    """Index built once from the entries; `search` ranks entries for one normalised message."""

    def __init__(self, entries: Iterable[EntryLike], normaliser: Normaliser) -> None:
        self._norm = normaliser
        self._ids: list[str] = []
        self._keywords: list[list[str]] = []
        # Synonym phrases: multi-syllable ones match without diacritics; one-syllable ones only
        # with them (folded "so" is both "số" and "sợ").
        self._syn_fold: dict[tuple[str, ...], str] = {}
        self._syn_acc: dict[tuple[str, ...], str] = {}
        for n, group in enumerate(normaliser.synonyms):
            for phrase in group:
                words = tuple(phrase.split())
                self._syn_acc[words] = f"~{n}"
                if len(words) > 1:
                    self._syn_fold[tuple(fold(phrase).split())] = f"~{n}"

        docs_raw: list[tuple[int, Normalised]] = []
        entry_feats: list[list[str]] = []
        for entry in entries:
            idx = len(self._ids)
            self._ids.append(entry.id)
            feats: list[str] = []
            for text in [*entry.questions, entry.title]:
                norm = normaliser(text)
                docs_raw.append((idx, norm))
                feats.extend(_features(norm.folded.split(), self._syn_fold))
            kws = []
            for kw in entry.keywords:
                folded = normaliser(str(kw)).folded
                if folded:
                    kws.append(f" {folded} ")
                    feats.extend(_features(folded.split(), self._syn_fold))
            self._keywords.append(kws)
            entry_feats.append(feats)

        # Inverse document frequency over questions (the unit a message resembles).
        n_docs = max(len(docs_raw), 1)
        df: dict[str, int] = {}
        doc_feats = []
        for _, norm in docs_raw:
            ff = _features(norm.folded.split(), self._syn_fold)
            af = {f"'{t}" for t in _features(norm.accented.split(), self._syn_acc)}
            doc_feats.append((ff, af))
            for t in ff | af:
                df[t] = df.get(t, 0) + 1
        self._idf = {t: math.log(1 + (n_docs - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._unknown_idf = math.log(1 + (n_docs + 0.5) / 0.5)
        self._docs: list[_Doc] = []
        self._entry_docs: list[list[int]] = [[] for _ in self._ids]
        for (idx, norm), (ff, af) in zip(docs_raw, doc_feats, strict=True):
            self._entry_docs[idx].append(len(self._docs))
            self._docs.append(
                _Doc(
                    entry=idx,
                    folded=norm.folded,
                    fold_feats=frozenset(ff),
                    acc_feats=frozenset(af),
                    fold_mass=sum(self._weight(t) for t in ff),
                    acc_mass=sum(self._weight(t) for t in af),
                )
            )

        self._entry_feats: list[frozenset[str]] = [frozenset() for _ in self._ids]
        for idx, docs in enumerate(self._entry_docs):
            self._entry_feats[idx] = frozenset().union(
                *(self._docs[d].fold_feats for d in docs)
            ) | frozenset(entry_feats[idx])

        # BM25 postings, one document per entry: feature -> [(entry, weight)].
        lengths = [len(f) for f in entry_feats]
        avg = sum(lengths) / max(len(lengths), 1) or 1.0
        n_entries = max(len(self._ids), 1)
        entry_df: dict[str, int] = {}
        counts = []
        for feats in entry_feats:
            c: dict[str, int] = {}
            for t in feats:
                c[t] = c.get(t, 0) + 1
            counts.append(c)
            for t in c:
                entry_df[t] = entry_df.get(t, 0) + 1
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for idx, c in enumerate(counts):
            norm_len = BM25_K1 * (1 - BM25_B + BM25_B * lengths[idx] / avg)
            for t, tf in c.items():
                d = entry_df[t]
                idf = math.log(1 + (n_entries - d + 0.5) / (d + 0.5))
                w = idf * tf * (BM25_K1 + 1) / (tf + norm_len)
                self._postings.setdefault(t, []).append((idx, w))
        self._entry_idf = {
            t: math.log(1 + (n_entries - d + 0.5) / (d + 0.5)) for t, d in entry_df.items()
        }
        # Syllables of the knowledge base, for correcting one-letter typos in a message.
        # One-edit neighbours through single-letter deletions (SymSpell): a dict lookup per
        # message word instead of a scan of the vocabulary.
        self._vocab_set = {t for t in df if "_" not in t and t[0] not in "'~"}
        self._deletes: dict[str, str] = {}
        for word in sorted(self._vocab_set, key=lambda w: (-df[w], w)):
            if len(word) > 2:
                for variant in {word, *_deletions(word)}:
                    self._deletes.setdefault(variant, word)

    def _weight(self, feature: str) -> float:
        idf = self._idf.get(feature, self._unknown_idf)
        return idf * BIGRAM_WEIGHT if "_" in feature else idf

    def _query_words(self, words: list[str]) -> list[str]:
        """Correct one-letter typos in unknown syllables; keep at most MAX_QUERY_WORDS words."""
        out = []
        for w in words:
            if w not in self._vocab_set and len(w) > 3 and not w.isdigit():
                for variant in (w, *_deletions(w)):
                    fixed = self._deletes.get(variant)
                    if fixed is not None and Levenshtein.distance(w, fixed) <= 1:
                        w = fixed
                        break
            out.append(w)
        if len(set(out)) > MAX_QUERY_WORDS:
            # Keep the words of the knowledge base that say most (rarest first), in order.
            unique = sorted(set(out), key=lambda w: (w not in self._idf, -self._idf.get(w, 0.0), w))
            keep = set(unique[:MAX_QUERY_WORDS])
            out = [w for w in out if w in keep]
        return out

    def search(self, message: Normalised, limit: int = 3) -> list[Hit]:
        """Rank entries for a message, best first; scores are 0-100."""
        fwords = message.folded.split()
        if not fwords or not self._ids:
            return []
        if len(fwords) > 4 * MAX_QUERY_WORDS:
            fwords = fwords[: 4 * MAX_QUERY_WORDS] + fwords[-MAX_QUERY_WORDS:]
        fwords = self._query_words(fwords)
        qf = _features(fwords, self._syn_fold)
        qa: set[str] = set()
        if message.typed_accents:
            awords = message.accented.split()
            if len(awords) == len(message.folded.split()) and len(awords) <= 4 * MAX_QUERY_WORDS:
                qa = {f"'{t}" for t in _features(awords, self._syn_acc)}

        # Stage 1: BM25 candidates.
        acc: dict[int, float] = {}
        postings = self._postings
        for t in qf:
            plist = postings.get(t)
            if plist is None:
                continue
            for idx, w in plist:
                acc[idx] = acc.get(idx, 0.0) + w
        if not acc:
            return []
        cands = heapq.nlargest(CANDIDATES, acc, key=acc.__getitem__)

        # Stage 2: re-score the candidates' questions.
        q_mass = sum(self._weight(t) for t in qf) or 1.0
        qa_mass = sum(self._weight(t) for t in qa) or 1.0
        qtext = message.folded[:FUZZ_CHARS]
        padded = f" {message.folded} "
        doc_ids = [d for idx in cands for d in self._entry_docs[idx]]
        ratio_of = fuzz.token_sort_ratio
        best: dict[int, float] = {}
        for d in doc_ids:
            doc = self._docs[d]
            ratio = ratio_of(qtext, doc.folded)
            common = sum(self._weight(t) for t in qf & doc.fold_feats)
            # A long message is not penalised for its story beyond twice the question's size.
            cov = _blend(
                common / (doc.fold_mass or 1.0),
                common / (min(q_mass, LONG_FACTOR * doc.fold_mass) or 1.0),
            )
            if qa:
                common_a = sum(self._weight(t) for t in qa & doc.acc_feats)
                cov_a = _blend(
                    common_a / (doc.acc_mass or 1.0),
                    common_a / (min(qa_mass, LONG_FACTOR * doc.acc_mass) or 1.0),
                )
                cov = (1 - ACCENT_SHARE) * cov + ACCENT_SHARE * cov_a
            score = (1 - FUZZ_SHARE) * cov + FUZZ_SHARE * float(ratio) / 100.0
            if score > best.get(doc.entry, -1.0):
                best[doc.entry] = score
        for idx in best:
            whole = sum(self._weight(t) for t in qf & self._entry_feats[idx]) / q_mass
            best[idx] = (1 - ENTRY_SHARE) * best[idx] + ENTRY_SHARE * whole
            if any(kw in padded for kw in self._keywords[idx]):
                best[idx] += KEYWORD_BONUS
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [Hit(self._ids[idx], round(min(100.0, 100.0 * s), 2)) for idx, s in ranked]


def _deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


def _blend(doc_cov: float, query_cov: float) -> float:
    """Coverage of the question by the message and of the message by the question, combined.

    Geometric mean: both must be high; a message that contains the whole question but also a lot
    more (a long story) keeps a fair score through the square root.
    """
    return max(doc_cov, 0.0) ** BLEND_POWER * max(query_cov, 0.0) ** (1 - BLEND_POWER)
