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

Rarity weights count question-frame words (lexicon `light_words`: là gì, thế nào...) at a
fraction, so a message that only shares the frame of a question ("mua xe cần giấy tờ gì") stays
low; i/y spellings (lý/lí) meet; when the message shows who writes (lexicon `reader_cues`: "con
tôi", "học sinh lớp tôi"), entries written for that reader alone get a small bonus, which settles
the parent/teacher twin entries. Per-question forms are precomputed at index time; a search does
set intersections and one batched `rapidfuzz.process.extract` call.

The combination and the thresholds were picked with `bench/quality.py`; the score is meant to
separate out-of-scope messages (low) from in-scope ones, so it rewards coverage, never length.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, Protocol

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot.core.matching import Hit  # the same result type as today's ranker
from bot.core.text import Normalised, Normaliser, fold

DEFAULT_HIGH = 43.0
DEFAULT_LOW = 32.0

CANDIDATES = 8  # entries passed from BM25 to the re-scorer (6-12 rank the eval set alike)
MAX_QUERY_WORDS = 80  # a rambling message: only its most informative words are scored
FUZZ_CHARS = 200  # longer messages are not compared character by character
BIGRAM_WEIGHT = 0.5  # a bigram counts half a syllable of equal rarity
FUZZ_SHARE = 0.25  # share of the rapidfuzz ratio in a question's score
ACCENT_SHARE = 0.35  # share of accented coverage when the user typed diacritics
ENTRY_SHARE = 0.2  # share of "how much of the message the whole entry explains"
BLEND_POWER = 0.6  # weight of question coverage against message coverage (0.5: geometric mean)
LONG_FACTOR = 3.0  # message coverage counts at most this many times the question's weight
KEYWORD_BONUS = 0.08  # an entry keyword found verbatim in the message
LIGHT_WEIGHT = 0.5  # share of its rarity a question-frame word (lexicon light_words) keeps
READER_BONUS = 0.06  # an entry written for the reader the message shows (lexicon reader_cues)
AMBIGUITY_MARGIN = 0.0  # runner-up closer than this (score points): a near-tie, not an answer...
TIE_CAP = DEFAULT_HIGH - 0.5  # ...its score is capped here, so the user gets "did you mean"
BM25_K1 = 1.2
BM25_B = 0.5


class EntryLike(Protocol):
    id: str
    title: str
    questions: list[str]
    keywords: list[str]
    # optional: `audience` (list of readers the entry is written for)


_IY_RE = re.compile(r"^([^aeiouy]+)([yýỳỷỹỵ])$")
_Y_TO_I = str.maketrans("yýỳỷỹỵ", "iíìỉĩị")


@lru_cache(maxsize=100_000)
def _spelling(word: str) -> str:
    """One spelling for syllables written with either i or y (lý/lí, kỹ/kĩ, mỹ/mĩ, tỷ/tỉ)."""
    return word.translate(_Y_TO_I) if _IY_RE.match(word) else word


class _Synonyms(NamedTuple):
    """Synonym phrases (word tuples) -> group id, and the words any phrase starts with."""

    groups: dict[tuple[str, ...], str]
    firsts: frozenset[str]


def _synonyms(groups: dict[tuple[str, ...], str]) -> _Synonyms:
    return _Synonyms(groups, frozenset(phrase[0] for phrase in groups))


def _features(words: Sequence[str], synonyms: _Synonyms) -> set[str]:
    """Syllables, syllable bigrams and synonym-group ids of one word list."""
    words = [_spelling(w) for w in words]
    feats = set(words)
    feats.update(f"{a}_{b}" for a, b in zip(words, words[1:], strict=False))
    if synonyms.groups:
        size = len(words)
        for i, word in enumerate(words):
            if word not in synonyms.firsts:
                continue
            for n in (1, 2, 3):
                if i + n <= size:
                    group = synonyms.groups.get(tuple(words[i : i + n]))
                    if group:
                        feats.add(group)
    return feats


@dataclass(slots=True)
class _Doc:
    """One question or title of an entry, in the forms the re-scorer compares (precomputed at
    index time so a search does set intersections and one batched rapidfuzz call)."""

    entry: int
    sorted_folded: str  # folded words in sorted order: token_sort_ratio = ratio of these
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
        # Question-frame words, as folded features and as accented ("'"-prefixed) ones.
        self._light = frozenset(_spelling(fold(w)) for w in normaliser.light_words) | frozenset(
            f"'{_spelling(w)}" for w in normaliser.light_words
        )
        self._reader_cues = {
            reader: [f" {cue} " for cue in cues] for reader, cues in normaliser.reader_cues.items()
        }
        self._sole_reader: list[str | None] = []
        # Synonym phrases: multi-syllable ones match without diacritics; one-syllable ones only
        # with them (folded "so" is both "số" and "sợ").
        syn_fold: dict[tuple[str, ...], str] = {}
        syn_acc: dict[tuple[str, ...], str] = {}
        for n, group in enumerate(normaliser.synonyms):
            for phrase in group:
                words = tuple(phrase.split())
                syn_acc[words] = f"~{n}"
                if len(words) > 1:
                    syn_fold[tuple(fold(phrase).split())] = f"~{n}"
        self._syn_fold = _synonyms(syn_fold)
        self._syn_acc = _synonyms(syn_acc)

        # One pass over the texts: each question's features are computed once.
        raw_docs: list[tuple[int, str, frozenset[str], frozenset[str]]] = []
        entry_feats: list[list[str]] = []
        df: dict[str, int] = {}
        for entry in entries:
            idx = len(self._ids)
            self._ids.append(entry.id)
            readers = list(getattr(entry, "audience", None) or [])
            self._sole_reader.append(readers[0] if len(readers) == 1 else None)
            feats: list[str] = []
            for text in [*entry.questions, entry.title]:
                norm = normaliser(text)
                ff = frozenset(_features(norm.folded.split(), self._syn_fold))
                af = frozenset(
                    f"'{t}" for t in _features(norm.accented.split(), self._syn_acc)
                )
                raw_docs.append((idx, _sorted_words(norm.folded), ff, af))
                feats.extend(ff)
                for t in ff:
                    df[t] = df.get(t, 0) + 1
                for t in af:
                    df[t] = df.get(t, 0) + 1
            kws = []
            for kw in entry.keywords:
                folded = normaliser(str(kw)).folded
                if folded:
                    kws.append(f" {folded} ")
                    feats.extend(_features(folded.split(), self._syn_fold))
            self._keywords.append(kws)
            entry_feats.append(feats)

        # Inverse document frequency over questions (the unit a message resembles).
        n_docs = max(len(raw_docs), 1)
        self._idf = {t: math.log(1 + (n_docs - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._unknown_idf = math.log(1 + (n_docs + 0.5) / 0.5)
        self._weights: dict[str, float] = {}
        weight = self._weight
        self._weights = {t: weight(t) for t in self._idf}
        self._docs: list[_Doc] = []
        self._entry_docs: list[list[int]] = [[] for _ in self._ids]
        for idx, sorted_folded, ff, af in raw_docs:
            self._entry_docs[idx].append(len(self._docs))
            self._docs.append(
                _Doc(
                    entry=idx,
                    sorted_folded=sorted_folded,
                    fold_feats=ff,
                    acc_feats=af,
                    fold_mass=sum(map(weight, ff)),
                    acc_mass=sum(map(weight, af)),
                )
            )
        del raw_docs

        self._entry_feats: list[frozenset[str]] = [
            frozenset(feats) for feats in entry_feats
        ]

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
        del entry_feats
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for idx, c in enumerate(counts):
            norm_len = BM25_K1 * (1 - BM25_B + BM25_B * lengths[idx] / avg)
            for t, tf in c.items():
                d = entry_df[t]
                idf = math.log(1 + (n_entries - d + 0.5) / (d + 0.5))
                w = idf * tf * (BM25_K1 + 1) / (tf + norm_len)
                self._postings.setdefault(t, []).append((idx, w))
        del counts
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
        """Rarity of a feature: bigrams count half, question-frame words a fraction."""
        cached = self._weights.get(feature)
        if cached is not None:
            return cached
        idf = self._idf.get(feature, self._unknown_idf)
        if "_" in feature:
            first, _, second = feature.partition("_")
            if first in self._light and (
                second in self._light or f"'{second}" in self._light
            ):
                idf *= LIGHT_WEIGHT
            return idf * BIGRAM_WEIGHT
        return idf * LIGHT_WEIGHT if feature in self._light else idf

    def _query_words(self, words: list[str]) -> list[str]:
        """Correct one-letter typos in unknown syllables; keep at most MAX_QUERY_WORDS words."""
        out = []
        fixed_cache: dict[str, str] = {}
        for w in words:
            if w not in self._vocab_set and len(w) > 3 and not w.isdigit():
                fixed = fixed_cache.get(w)
                if fixed is None:
                    fixed = w
                    for variant in (w, *_deletions(w)):
                        near = self._deletes.get(variant)
                        if near is not None and Levenshtein.distance(w, near) <= 1:
                            fixed = near
                            break
                    fixed_cache[w] = fixed
                w = fixed
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
        weight = self._weight
        qw = {t: weight(t) for t in _features(fwords, self._syn_fold)}
        qf = qw.keys()
        qaw: dict[str, float] = {}
        if message.typed_accents:
            awords = message.accented.split()
            if len(awords) == len(message.folded.split()) and len(awords) <= 4 * MAX_QUERY_WORDS:
                qaw = {
                    f"'{t}": 0.0 for t in _features(awords, self._syn_acc)
                }
                for t in qaw:
                    qaw[t] = weight(t)

        # Stage 1: BM25 candidates.
        acc: defaultdict[int, float] = defaultdict(float)
        postings = self._postings
        for t in qf:
            for idx, w in postings.get(t, ()):
                acc[idx] += w
        if not acc:
            return []
        cands = heapq.nlargest(CANDIDATES, acc, key=acc.__getitem__)

        # Stage 2: re-score the candidates' questions.
        q_mass = sum(qw.values()) or 1.0
        qa_mass = sum(qaw.values()) or 1.0
        qsorted = _sorted_words(message.folded[:FUZZ_CHARS])
        padded = f" {message.folded} "
        docs = self._docs
        doc_ids = [d for idx in cands for d in self._entry_docs[idx]]
        ratios = [0.0] * len(doc_ids)
        for _, ratio, i in process.extract(
            qsorted, [docs[d].sorted_folded for d in doc_ids], scorer=fuzz.ratio, limit=None
        ):
            ratios[i] = ratio
        get = qw.__getitem__
        get_a = qaw.__getitem__
        qset = set(qf)
        qaset = set(qaw)
        best: dict[int, float] = {}
        for d, ratio in zip(doc_ids, ratios, strict=True):
            doc = docs[d]
            common = sum(map(get, qset & doc.fold_feats))
            # A long message is not penalised for its story beyond twice the question's size.
            cov = _blend(
                common / (doc.fold_mass or 1.0),
                common / (min(q_mass, LONG_FACTOR * doc.fold_mass) or 1.0),
            )
            if qaset:
                common_a = sum(map(get_a, qaset & doc.acc_feats))
                cov_a = _blend(
                    common_a / (doc.acc_mass or 1.0),
                    common_a / (min(qa_mass, LONG_FACTOR * doc.acc_mass) or 1.0),
                )
                cov = (1 - ACCENT_SHARE) * cov + ACCENT_SHARE * cov_a
            score = (1 - FUZZ_SHARE) * cov + FUZZ_SHARE * ratio / 100.0
            if score > best.get(doc.entry, -1.0):
                best[doc.entry] = score
        readers = {r for r, cues in self._reader_cues.items() if any(c in padded for c in cues)}
        reader = next(iter(readers)) if len(readers) == 1 else None
        for idx in best:
            whole = sum(map(get, qset & self._entry_feats[idx])) / q_mass
            best[idx] = (1 - ENTRY_SHARE) * best[idx] + ENTRY_SHARE * whole
            if any(kw in padded for kw in self._keywords[idx]):
                best[idx] += KEYWORD_BONUS
            if reader is not None and self._sole_reader[idx] == reader:
                best[idx] += READER_BONUS
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[: max(limit, 2)]
        scores = [min(100.0, 100.0 * s) for _, s in ranked]
        if len(scores) > 1 and scores[0] - scores[1] < AMBIGUITY_MARGIN:
            # Two entries almost equally likely: a wrong answer is worse than offering both.
            # The confidence drops below the default answer threshold, the order stays.
            scores = [min(sc, TIE_CAP) for sc in scores]
        return [
            Hit(self._ids[idx], round(max(sc, 0.0), 2))
            for (idx, _), sc in zip(ranked[:limit], scores, strict=False)
        ]


def _sorted_words(text: str) -> str:
    """Words in sorted order, one i/y spelling: `fuzz.ratio` on these is token_sort_ratio."""
    return " ".join(sorted(_spelling(w) for w in text.split()))


def _deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


def _blend(doc_cov: float, query_cov: float) -> float:
    """Coverage of the question by the message and of the message by the question, combined.

    Geometric mean: both must be high; a message that contains the whole question but also a lot
    more (a long story) keeps a fair score through the square root.
    """
    return max(doc_cov, 0.0) ** BLEND_POWER * max(query_cov, 0.0) ** (1 - BLEND_POWER)
