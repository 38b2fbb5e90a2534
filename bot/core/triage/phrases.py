"""Phrase matching: every phrase of the danger file compiled for one pass over a clause.

Each phrase of two or more words may absorb one edit: a typo in a word of four letters or more
(only when the typed word is not itself a correct syllable, so "chat" is never "chết"), a wrong
tone, or one extra word inside a phrase of three or more words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from bot.core.triage.words import (
    Tok,
    deletes,
    is_syllable,
    marks_agree,
    telex,
    within_one_edit,
)

_CHUNK = 32  # start positions that share one vocabulary when scanning a long clause
_CACHE_LIMIT = 50_000  # distinct tokens remembered per index before the caches start over


@dataclass(frozen=True)
class Phrase:
    # "harm", "part" (of a `together` group), "other", "mention", "self", "evidence", "negation",
    # "break", "question", "disclosure", "adult" or "idiom"; for "evidence", `category` holds
    # the key of what it proves ("requires:<category>" or "rule:<index>")
    kind: str
    category: str | None
    text: str
    items: tuple[Tok | None, ...]  # None = gap
    words: int  # number of real tokens
    fuzzy: bool
    group: int = -1  # index into Triage._groups for kind "part"
    needs: frozenset[str] = frozenset()  # folded words a message must contain (or near-miss)


class Hit(NamedTuple):
    phrase: Phrase
    start: int
    end: int  # exclusive


class TokenPlan(NamedTuple):
    """What a scan needs about one distinct folded token (see `PhraseIndex.plan`)."""

    reach: frozenset[str]
    always: list[tuple[int, Phrase]]  # (walk order, phrase): one word, or a gap after it
    by_next: dict[str, list[tuple[int, Phrase]]]  # second word -> (walk order, phrase)
    by_second: dict[str, list[Phrase]]  # exact phrases by the next token they need
    joined: list[Phrase]  # phrases typed as one run-together token ("tutu")


def _first(pair: tuple[int, Phrase]) -> int:
    return pair[0]


class PhraseIndex:
    """All phrases of the danger file, compiled for one left-to-right pass over a clause."""

    def __init__(self, phrases: list[Phrase], max_gap: int, common: set[str]) -> None:
        self.max_gap = max_gap
        self.exact = False  # set per scan: typed words must carry the phrase's own marks
        self.common = common
        self.by_first: dict[str, list[Phrase]] = {}
        self.fuzzy_first: dict[str, set[str]] = {}  # delete-variant -> phrase first tokens
        self.joined: dict[str, list[Phrase]] = {}
        # delete-variant -> phrase words a typo of four letters or more may stand for
        self.word_variants: dict[str, set[str]] = {}
        self._plans: dict[str, TokenPlan] = {}
        # plans worked out at build time for a fixed vocabulary (never from user text)
        self._fixed: dict[str, TokenPlan] = {}
        self.max_span = 1
        for phrase in phrases:
            gaps = sum(1 for item in phrase.items if item is None)
            span = len(phrase.items) + gaps * max_gap + 2
            self.max_span = max(self.max_span, span)
            if phrase.fuzzy and phrase.words >= 2:
                for word in phrase.needs:
                    if len(word) >= 4:
                        for variant in deletes(word) | {word}:
                            self.word_variants.setdefault(variant, set()).add(word)
            first = phrase.items[0]
            assert first is not None
            self.by_first.setdefault(first.folded, []).append(phrase)
            if phrase.fuzzy and phrase.words >= 2 and len(first.folded) >= 4:
                for variant in deletes(first.folded) | {first.folded}:
                    self.fuzzy_first.setdefault(variant, set()).add(first.folded)
            if None not in phrase.items and phrase.words >= 2:
                joined = "".join(t.folded for t in phrase.items if t is not None)
                if len(joined) >= 6:
                    self.joined.setdefault(joined, []).append(phrase)

    def typo_allowed(self, folded: str) -> bool:
        return folded not in self.common and not is_syllable(folded)

    def token_cost(self, tok: Tok, want: Tok, fuzzy: bool) -> int | None:
        """0 for a match, 1 for a match with one edit, None for no match."""
        if tok.folded == want.folded:
            if self.exact:
                return 0 if tok.accented == want.accented else None
            same = (tok.accented == want.accented if tok.pinned
                    else marks_agree(tok.accented, want.accented))
            if same:
                return 0
            return 1 if fuzzy and len(want.folded) >= 4 else None
        if self.exact:
            return None
        if telex(tok.folded) == want.folded:
            return 0
        if (
            fuzzy
            and len(want.folded) >= 4
            and self.typo_allowed(tok.folded)
            and within_one_edit(tok.folded, want.folded)
        ):
            return 1
        return None

    def first_candidates(self, folded: str) -> set[str]:
        keys = {folded}
        decoded = telex(folded)
        if decoded:
            keys.add(decoded)
        if len(folded) >= 3 and self.typo_allowed(folded):
            for variant in deletes(folded) | {folded}:
                keys |= self.fuzzy_first.get(variant, set())
        return keys

    def starting(self, folded: str) -> tuple[list[Phrase], dict[str, list[Phrase]]]:
        """Phrases whose first word this token could be: those to walk, and exact phrases
        keyed by the second word they need right after it."""
        walk: list[Phrase] = []
        by_second: dict[str, list[Phrase]] = {}
        for key in self.first_candidates(folded):
            for phrase in self.by_first.get(key, ()):
                second = phrase.items[1] if len(phrase.items) > 1 else None
                if phrase.fuzzy or second is None:
                    walk.append(phrase)
                else:  # exact phrases need their second word next
                    by_second.setdefault(second.folded, []).append(phrase)
        return walk, by_second

    def reach(self, folded: str) -> frozenset[str]:
        """Every phrase word this token could match: itself, its Telex decoding, and the
        phrase words one typo away."""
        words = {folded}
        decoded = telex(folded)
        if decoded:
            words.add(decoded)
        if len(folded) >= 3 and self.typo_allowed(folded):
            for variant in deletes(folded) | {folded}:
                words |= self.word_variants.get(variant, set())
        return frozenset(words)

    def warm(self, words: Iterable[str], plain: dict[str, TokenPlan]) -> None:
        """Work out the plans of a fixed vocabulary (staff-written words, not user text) at
        build time, so a scan looks most words up instead of working them out every time.
        `plain` shares one plan per word that matters to no phrase, across indexes."""
        for folded in words:
            if folded in self._fixed:
                continue
            found = self._plans.get(folded) or self.plan(folded)
            if self._matters(found, folded):
                self._fixed[folded] = found
            else:
                self._fixed[folded] = plain.setdefault(
                    folded, TokenPlan(frozenset((folded,)), [], {}, {}, [])
                )

    @staticmethod
    def _matters(found: TokenPlan, folded: str) -> bool:
        return bool(
            found.always
            or found.by_next
            or found.by_second
            or found.joined
            or found.reach - {folded}
        )

    def plan(self, folded: str) -> TokenPlan:
        """Everything a scan needs about one distinct token, worked out once (cached): its
        reach, and the phrases that may start on it, sorted so that a scan touches only the
        phrases whose second word the next tokens can match."""
        walk, by_second = self.starting(folded)
        always: list[tuple[int, Phrase]] = []
        by_next: dict[str, list[tuple[int, Phrase]]] = {}
        for order, phrase in enumerate(walk):
            second = phrase.items[1] if len(phrase.items) > 1 else None
            if second is None:  # one word, or a gap next: always tried
                always.append((order, phrase))
            else:
                by_next.setdefault(second.folded, []).append((order, phrase))
        joined = [
            phrase for key in (folded, telex(folded)) for phrase in self.joined.get(key or "", ())
        ]
        found = TokenPlan(self.reach(folded), always, by_next, by_second, joined)
        # Only danger vocabulary is remembered: a word that starts no phrase and reaches no
        # other word (a name, a street) is worked out again next time, never kept (issue 16).
        if walk or joined or found.reach - {folded}:
            if len(self._plans) > _CACHE_LIMIT:
                self._plans.clear()
            self._plans[folded] = found
        return found

    def scan(self, toks: list[Tok], exact: bool = False) -> list[Hit]:
        """Every phrase occurrence in a clause, in the order a plain walk over every phrase
        starting on each token would find them. A phrase of two or more words is walked only
        when its second word is within reach of the next two tokens (a phrase's second word
        sits right after its first, or one inserted word later) and every word it needs is
        within reach of the tokens of its chunk, so a 20,000-character message stays fast
        and nothing is dropped. A `pinned` token needs a rule word's own marks."""
        self.exact = exact
        hits: list[Hit] = []
        n = len(toks)
        plans_cache = self._plans
        fixed = self._fixed
        plans = [
            fixed.get(tok.folded) or plans_cache.get(tok.folded) or self.plan(tok.folded)
            for tok in toks
        ]
        vocab: set[str] = set()
        vocab_chunk = -1
        empty: frozenset[str] = frozenset()
        for i, tok in enumerate(toks):
            plan = plans[i]
            candidates = plan.always
            if plan.by_next and i + 1 < n:
                near = plans[i + 1].reach | (plans[i + 2].reach if i + 2 < n else empty)
                by_next = plan.by_next
                extra = [pair for word in near for pair in by_next.get(word, ())]
                if extra:
                    candidates = sorted(candidates + extra, key=_first)
            if plan.by_second and i + 1 < n:
                exact_pairs = plan.by_second.get(toks[i + 1].folded)
                if exact_pairs:
                    candidates = candidates + [(-1, phrase) for phrase in exact_pairs]
            for _, phrase in candidates:
                if len(phrase.items) == 1:  # one word: no walk, no typo budget
                    if self.token_cost(tok, phrase.items[0], False) == 0:  # type: ignore[arg-type]
                        hits.append(Hit(phrase, i, i + 1))
                    continue
                if i // _CHUNK != vocab_chunk:  # words any phrase starting in this chunk uses
                    vocab_chunk = i // _CHUNK
                    begin = vocab_chunk * _CHUNK
                    window = plans[begin : begin + _CHUNK + self.max_span]
                    vocab = set().union(*(p.reach for p in window))
                if not phrase.needs <= vocab:
                    continue
                end = self._match_from(phrase, toks, i, n)
                if end is not None:
                    hits.append(Hit(phrase, i, end))
            for phrase in plan.joined:
                hits.append(Hit(phrase, i, i + 1))
        return hits

    def _match_from(self, phrase: Phrase, toks: list[Tok], start: int, n: int) -> int | None:
        budget = 1 if phrase.fuzzy and phrase.words >= 2 else 0
        may_insert = phrase.fuzzy and phrase.words >= 3
        items = phrase.items
        if not may_insert and None not in items:
            # no gap and no inserted word: the phrase sits on consecutive tokens
            if start + len(items) > n:
                return None
            spent = 0
            for at, item in enumerate(items, start):
                cost = self.token_cost(toks[at], item, phrase.fuzzy)  # type: ignore[arg-type]
                if cost is None:
                    return None
                spent += cost
                if spent > budget:
                    return None
            return start + len(items)

        def walk(k: int, pos: int, spent: int, gap: int) -> int | None:
            # k: next phrase item; pos: next message token; gap: free tokens allowed before it.
            if k == len(items):
                return pos
            item = items[k]
            if item is None:
                return walk(k + 1, pos, spent, self.max_gap)
            for skip in range(0, gap + 1):
                at = pos + skip
                if at >= n:
                    break
                cost = self.token_cost(toks[at], item, phrase.fuzzy)
                if cost is not None and spent + cost <= budget:
                    room = may_insert and k + 1 < len(items) and spent + cost < budget
                    extra = 1 if room else 0
                    found = walk(k + 1, at + 1, spent + cost, extra)
                    if found is not None:
                        return found
            return None

        first = items[0]
        assert first is not None
        cost = self.token_cost(toks[start], first, phrase.fuzzy)
        if cost is None or cost > budget:
            return None
        extra = 1 if (may_insert and cost < budget) else 0
        return walk(1, start + 1, cost, extra)
