"""The danger file compiled for matching: phrase indexes, cue indexes, the safety net's
indexes, standalone cries and `together` groups, built once per knowledge base.

Any phrase, cue or idiom may name a word set ("$me sợ $everyday_fear"), so one line covers a
family of wordings; `expand_sets` spells every wording out here.
"""

from __future__ import annotations

from bot.core.text import Normaliser, canonical, fold
from bot.core.triage.cues import CANCELLING
from bot.core.triage.phrases import Hit, Phrase, PhraseIndex
from bot.core.triage.schema import GAP, Category, DangerFile
from bot.core.triage.words import Tok, expand_sets, token_pairs


class DangerPlan:
    """Everything triage needs from one validated danger file, compiled once."""

    def __init__(self, danger: DangerFile, normaliser: Normaliser) -> None:
        self.danger = danger
        self.normaliser = normaliser
        self.teencode: dict[str, list[Tok]] = {}
        for key, value in danger.extra_teencode.items():
            norm = normaliser(value)
            self.teencode[canonical(key)] = token_pairs(norm)
        self.order = {cat_id: i for i, cat_id in enumerate(danger.categories)}
        # folded whole message -> (category, phrase) for the cries that stand alone
        self.short: dict[str, tuple[str, str]] = {}
        for cat_id, cat in danger.categories.items():
            for text in cat.short_messages:
                for wording in expand_sets(text, danger.word_sets):
                    key = " ".join(t.folded for t in self.expand(token_pairs(normaliser(wording))))
                    self.short.setdefault(key, (cat_id, wording))
        self.short_len = max((len(k) for k in self.short), default=0)
        self.other_id = next(
            (cid for cid, c in danger.categories.items() if c.role == "other_child"), None
        )
        phrases: list[Phrase] = []
        seen: set[tuple] = set()

        self.groups: list[tuple[str, int, str]] = []  # (category, member count, text)

        def add(
            kind: str,
            category: str | None,
            texts: list[str],
            fuzzy: bool,
            group: int = -1,
            label: str | None = None,
        ) -> None:
            expanded = [w for text in texts for w in expand_sets(text, danger.word_sets)]
            for text in expanded:
                compiled = self.compile(kind, category, text, fuzzy, group, label)
                key = (kind, category, compiled.items, group, compiled.text)
                if compiled.words and key not in seen:
                    seen.add(key)
                    phrases.append(compiled)

        for cat_id, cat in danger.categories.items():
            if cat.role == "harm":
                add("harm", cat_id, cat.phrases, True)
                for members in cat.together:
                    self.groups.append((cat_id, len(set(members)), " + ".join(members)))
                    for member in members:
                        texts = danger.word_sets[member[1:]] if member[0] == "$" else [member]
                        add("part", cat_id, texts, True, len(self.groups) - 1, member)
            else:
                add("other", cat_id, cat.phrases, False)
                add("mention", cat_id, cat.mentions, False)
                add("self", None, cat.self_cues, False)
            if cat.requires:
                add("evidence", f"requires:{cat_id}", cat.requires, False)
        for n, rule in enumerate(danger.precedence):
            add("evidence", f"rule:{n}", rule.when, False)
        add("negation", None, danger.negations, False)
        add("break", None, danger.clause_breaks, False)
        add("question", None, danger.question_cues, False)
        add("disclosure", None, danger.disclosure_cues, False)
        add("adult", None, danger.adult_cues, False)
        add("idiom", None, danger.idioms, False)
        add("settled", None, danger.settled_cues, False)
        add("topic", None, danger.topic_cues, False)
        common = {fold(canonical(w)) for w in danger.common_words}
        danger_kinds = {"harm", "part"}
        self.danger_index = PhraseIndex(
            [p for p in phrases if p.kind in danger_kinds], danger.max_gap, common
        )
        self.cue_index = PhraseIndex(
            [p for p in phrases if p.kind not in danger_kinds | CANCELLING],
            danger.max_gap,
            common,
        )
        # Cues that CANCEL an alarm must be read as typed: when the writer uses diacritics,
        # "cha" is not the negation "chả" and "ma" is not "mà" (err toward urgent).
        self.cancel_index = PhraseIndex(
            [p for p in phrases if p.kind in CANCELLING], danger.max_gap, common
        )
        self.net = danger.safety_net
        self.net_index: PhraseIndex | None = None
        self.net_block = PhraseIndex([], danger.max_gap, common)
        if self.net is not None:
            net_phrases: list[Phrase] = []
            net_blocks: list[Phrase] = []
            net_seen: set[tuple] = set()

            def add_net(kind: str, category: str | None, texts: list[str], out: list) -> None:
                for text in texts:
                    for wording in expand_sets(text, danger.word_sets):
                        compiled = self.compile(kind, category, wording, kind == "net_harm")
                        key = (kind, category, compiled.items)
                        if compiled.words and key not in net_seen:
                            net_seen.add(key)
                            out.append(compiled)

            add_net("net_person", None, self.net.persons, net_phrases)
            for cat_id, words in self.net.words.items():
                add_net("net_harm", cat_id, words, net_phrases)
            add_net("net_block", None, self.net.blockers, net_blocks)
            for cat_id, texts in self.net.not_harm.items():
                add_net("not_harm", None if cat_id == "all" else cat_id, texts, net_blocks)
            self.net_index = PhraseIndex(net_phrases, danger.max_gap, common)
            self.net_block = PhraseIndex(net_blocks, danger.max_gap, common)

    def compile(
        self,
        kind: str,
        category: str | None,
        text: str,
        fuzzy: bool,
        group: int = -1,
        label: str | None = None,
    ) -> Phrase:
        items: list[Tok | None] = []
        for n, part in enumerate(text.split(GAP)):
            if n:
                items.append(None)
            items.extend(self.expand(token_pairs(self.normaliser(part))))
        words = sum(1 for item in items if item is not None)
        needs = frozenset(item.folded for item in items if item is not None)
        return Phrase(kind, category, label or text, tuple(items), words, fuzzy, group, needs)

    def expand(self, toks: list[Tok]) -> list[Tok]:
        """Tokens with triage's own teencode spelled out ("extra_teencode")."""
        if not self.teencode:
            return toks
        out: list[Tok] = []
        for tok in toks:
            out.extend(self.teencode.get(tok.accented, (tok,)))
        return out

    def category(self, hit: Hit) -> Category:
        return self.danger.categories[hit.phrase.category or ""]
