"""Schema of knowledge/danger.yaml: categories, cues, word sets, precedence and the safety net.

Every word list and reply lives in the danger file so staff can tune triage without touching
code; these models validate it on load (unknown keys, unknown word sets and categories are
errors that name the field).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

GAP = "..."  # a phrase's "free words here" marker ("bắt ... cởi đồ")


class Examples(BaseModel):
    """Messages staff expect to be (or not to be) urgent, run by `kb test`."""

    model_config = ConfigDict(extra="forbid")

    urgent: list[str] = Field(default_factory=list)
    not_urgent: list[str] = Field(default_factory=list)


class Category(BaseModel):
    """One kind of danger: what it looks like and what the bot says first."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="Vietnamese name shown to staff in alerts.")
    role: Literal["harm", "other_child"] = Field(
        "harm",
        description="'other_child': phrases mark a child writing about another child; it fires "
        "only together with a harm category and lends its reply.",
    )
    phrases: list[str] = Field(min_length=1)
    together: list[list[str]] = Field(
        default_factory=list,
        description="Groups of words that signal this danger when ALL appear close together "
        "(within `together_window` words), in any order (['dọa', 'ảnh'] catches 'có ảnh của "
        "em và dọa gửi'). A member '$name' stands for any phrase of word set `name`.",
    )
    short_messages: list[str] = Field(
        default_factory=list,
        description="Whole messages that are urgent on their own ('cứu', 'e sợ'): they count "
        "only when the message holds nothing else, so 'cứu' in 'nghiên cứu' never fires.",
    )
    negatable: bool = Field(True, description="A negation before the phrase cancels it.")
    questions_suppress: bool = Field(
        True, description="A knowledge/prevention question with no real person cancels it."
    )
    requires: list[str] = Field(
        default_factory=list,
        description="Evidence this category needs: when none of these cues is in the message, "
        "the alarm is raised as category `otherwise` instead (online abuse with no online cue "
        "is in-person abuse).",
    )
    otherwise: str | None = Field(
        None, description="Harm category used when `requires` finds no evidence."
    )
    rule_urgent_at: float = Field(
        0.55,
        ge=0.0,
        le=1.0,
        description="A phrase of this category makes the message urgent when the learned "
        "model's P(danger) is at least this; below, it is a check (the normal answer plus "
        "the 111 line and button). Rules raised most held-out false alarms at 0.3.",
    )
    mentions: list[str] = Field(
        default_factory=list,
        description="role other_child only: words naming some child ('bé gái', 'đứa bé') "
        "that pick the witness reply but, unlike `phrases`, do not by themselves make a "
        "knowledge question or a news story a real case.",
    )
    self_cues: list[str] = Field(
        default_factory=list,
        description="role other_child only: wordings showing the WRITER is a victim ('em bị', "
        "'đánh em'); when one appears outside the other-child wording, the harm's own reply "
        "is used.",
    )
    witness_reply: bool = Field(
        True,
        description="False: a child writing about another child still gets this category's own "
        "reply, not the witness reply (accidents: 115 first whoever is hurt).",
    )
    model_kind_first: bool = Field(
        False,
        description="True: when the learned model rates this kind the most likely in an urgent "
        "message, this category's reply is sent even if a phrase of another category matched "
        "('xe tông bé chảy máu' matched a violence phrase: 115 must still come first).",
    )
    check_line: str | None = Field(
        None, description="The line under a doubtful (check-tier) answer of this kind, for a "
        "child; default: ui.yaml check_line (111). Accidents name 115 / 114 first.",
    )
    check_line_adult: str | None = Field(
        None, description="...and for a parent or teacher; default: ui.yaml check_line_adult.",
    )
    reply_child: str = Field(min_length=1)
    reply_adult: str = Field(min_length=1)
    entry_id: str | None = Field(
        None, description="Knowledge entry sent after the urgent reply (to a child)."
    )
    entry_id_adult: str | None = Field(
        None, description="Entry sent after the urgent reply to an adult; default: entry_id."
    )
    examples: Examples = Field(default_factory=Examples)

    @field_validator("together")
    @classmethod
    def _groups_have_two(cls, value: list[list[str]]) -> list[list[str]]:
        for group in value:
            if len(group) < 2 or any(not w.strip() or GAP in w for w in group):
                raise ValueError(f"{group}: a group needs two or more plain phrases")
        return value

    @field_validator("phrases")
    @classmethod
    def _phrases_not_blank(cls, value: list[str]) -> list[str]:
        for phrase in value:
            if not phrase.replace(GAP, "").strip():
                raise ValueError(f"'{phrase}': empty phrase")
            if phrase.strip().startswith(GAP) or phrase.strip().endswith(GAP):
                raise ValueError(f"'{phrase}': '...' must sit between words")
        return value


class ModelCues(BaseModel):
    """Marker words for the learned model (issue 13, "telling about" vs "asking about"): each
    named group of wordings that occurs in a message adds one marker word to the text the
    model reads, so what it learns from one wording of a group ("hồi nhỏ") carries to the
    others ("năm ngoái"). They add evidence only; they never decide a tier on their own."""

    model_config = ConfigDict(extra="forbid")

    words: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Group name -> wordings (written with diacritics, matched as whole words "
        "without them, teencode spelled out): 'past': ['hồi nhỏ', 'năm ngoái'].",
    )
    marks: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Group name -> characters matched in the message as typed ('?', '=))', "
        "emoji): what folding drops.",
    )

    @model_validator(mode="after")
    def _names_are_slugs(self) -> ModelCues:
        for name in [*self.words, *self.marks]:
            if not re.fullmatch(r"[a-z]+", name):
                raise ValueError(f"'{name}': a cue group name is lowercase letters a-z only")
        return self


class SafetyNet(BaseModel):
    """Second stage, tried only when no phrase fired: a real person near a harm word.

    Phrase rules catch wordings somebody listed; new wordings of a real emergency almost
    always still name a person ("em", "con tôi", "bạn em") close to a broad harm word ("tát",
    "nhốt", "sờ"). The net fires on that pair unless the message is a knowledge question, an
    idiom, a negation, a settled matter or one of its own `blockers` (game, film, homework).
    """

    model_config = ConfigDict(extra="forbid")

    window: int = Field(6, ge=1, le=40, description="Most words between a person and a harm word.")
    negation_window: int = Field(
        2, ge=0, le=10, description="A negation this close before a harm word cancels it."
    )
    persons: list[str] = Field(
        min_length=1,
        description="Words naming a real person: the writer ('em', 'mình'), a child in the "
        "writer's care ('con tôi', 'bé nhà'), another child ('bạn em').",
    )
    words: dict[str, list[str]] = Field(
        min_length=1,
        description="Harm category id -> broad harm words; the first category (in "
        "`categories` order) whose word fires names the alarm.",
    )
    blockers: list[str] = Field(
        default_factory=list,
        description="Cues that cancel the net only (never a phrase rule): games, films, "
        "homework, jokes ('trong game', 'đùa thôi').",
    )
    not_harm: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Category id (or 'all') -> everyday wordings holding or causing a harm "
        "word of that category ('xe đạp', 'ngã xe', 'free fire'): the net ignores such a "
        "harm word overlapping one or starting within `max_gap` words after it.",
    )


class Precedence(BaseModel):
    """One rule for choosing between categories that fire together."""

    model_config = ConfigDict(extra="forbid")

    prefer: str = Field(description="Harm category that wins when the rule applies.")
    over: list[str] = Field(min_length=1, description="Harm categories it wins over.")
    when: list[str] = Field(
        default_factory=list,
        description="The rule applies only when one of these cues is in the message "
        "(empty: always).",
    )


class DangerFile(BaseModel):
    """Schema of knowledge/danger.yaml."""

    model_config = ConfigDict(extra="forbid")

    max_gap: int = Field(3, ge=0, le=10)
    negation_window: int = Field(3, ge=0, le=10)
    together_window: int = Field(
        40, ge=2, le=1000, description="Widest span (in words) a `together` group may cover."
    )
    word_sets: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Named lists of interchangeable phrases (harm verbs, body parts, places), "
        "used as '$name' members of `together` groups so one group covers many wordings.",
    )
    settled_cues: list[str] = Field(
        default_factory=list,
        description="The writer says the matter is over ('đã xử lý xong'): cancels categories "
        "that questions cancel, even when a real person is named.",
    )
    negations: list[str] = Field(default_factory=list)
    clause_breaks: list[str] = Field(default_factory=list)
    question_cues: list[str] = Field(default_factory=list)
    disclosure_cues: list[str] = Field(default_factory=list)
    adult_cues: list[str] = Field(default_factory=list)
    idioms: list[str] = Field(default_factory=list)
    topic_cues: list[str] = Field(
        default_factory=list,
        description="'phim về', 'tin về': danger words within `max_gap` words after one are the "
        "topic of a film or a news story, not a disclosure.",
    )
    common_words: list[str] = Field(default_factory=list)
    extra_teencode: dict[str, str] = Field(
        default_factory=dict,
        description="Word -> expansion used by triage only, until lexicon.yaml has it.",
    )
    categories: dict[str, Category] = Field(min_length=1)
    precedence: list[Precedence] = Field(
        default_factory=list,
        description="Rules applied in order when several categories fire; whatever is left "
        "is chosen by file order.",
    )
    safety_net: SafetyNet | None = None
    model_cues: ModelCues = Field(default_factory=ModelCues)

    @field_validator("categories")
    @classmethod
    def _ids_are_slugs(cls, value: dict[str, Category]) -> dict[str, Category]:
        for key in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
                raise ValueError(f"'{key}': category id must be lower_snake_case")
        return value

    @field_validator("word_sets")
    @classmethod
    def _sets_not_blank(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, items in value.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"'{name}': word set name must be lower_snake_case")
            if not items or any(not item.replace(GAP, "").strip() for item in items):
                raise ValueError(f"'{name}': a word set needs non-empty phrases")
        return value

    @field_validator("extra_teencode")
    @classmethod
    def _single_words(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if len(key.split()) != 1:
                raise ValueError(f"'{key}': a teencode key must be a single word")
        return value

    @model_validator(mode="after")
    def _one_other_child(self) -> DangerFile:
        roles = [c.role for c in self.categories.values()]
        if roles.count("other_child") > 1:
            raise ValueError("at most one category may have role: other_child")
        if "harm" not in roles:
            raise ValueError("at least one harm category is needed")
        for cat_id, cat in self.categories.items():
            for group in cat.together:
                for member in group:
                    if member.startswith("$") and member[1:] not in self.word_sets:
                        raise ValueError(f"{cat_id}: together {group}: no word set '{member[1:]}'")
            extra = cat.requires + cat.mentions + cat.self_cues
            for phrase in cat.phrases + cat.short_messages + extra:
                self._check_sets(f"{cat_id}: '{phrase}'", phrase)
            if bool(cat.requires) != bool(cat.otherwise):
                raise ValueError(f"{cat_id}: `requires` and `otherwise` go together")
            if cat.otherwise is not None and not self._is_harm(cat.otherwise, cat_id):
                raise ValueError(f"{cat_id}: otherwise: '{cat.otherwise}' is not a harm category")
            if (cat.self_cues or cat.mentions) and cat.role != "other_child":
                raise ValueError(f"{cat_id}: only the other_child category has these cues")
        for n, rule in enumerate(self.precedence):
            for cat_id in [rule.prefer, *rule.over]:
                if not self._is_harm(cat_id, None):
                    raise ValueError(f"precedence {n + 1}: '{cat_id}' is not a harm category")
            for phrase in rule.when:
                self._check_sets(f"precedence {n + 1}: '{phrase}'", phrase)
        if self.safety_net is not None:
            net = self.safety_net
            for cat_id, words in net.words.items():
                net_cat = self.categories.get(cat_id)
                if net_cat is None or net_cat.role != "harm":
                    raise ValueError(f"safety_net: words: '{cat_id}' is not a harm category")
                for phrase in words:
                    self._check_sets(f"safety_net: {cat_id}: '{phrase}'", phrase)
            for cat_id in net.not_harm:
                if cat_id != "all" and cat_id not in net.words:
                    raise ValueError(f"safety_net: not_harm: '{cat_id}' is not a net category")
            everyday = [p for ps in net.not_harm.values() for p in ps]
            for phrase in net.persons + net.blockers + everyday:
                self._check_sets(f"safety_net: '{phrase}'", phrase)
        for label in (
            "negations",
            "clause_breaks",
            "question_cues",
            "disclosure_cues",
            "adult_cues",
            "idioms",
            "topic_cues",
            "settled_cues",
        ):
            for phrase in getattr(self, label):
                self._check_sets(f"{label}: '{phrase}'", phrase)
        return self

    def _is_harm(self, cat_id: str, not_this: str | None) -> bool:
        cat = self.categories.get(cat_id)
        return cat is not None and cat.role == "harm" and cat_id != not_this

    def _check_sets(self, where: str, phrase: str) -> None:
        for word in phrase.split():
            if word.startswith("$") and word[1:] not in self.word_sets:
                raise ValueError(f"{where}: no word set '{word[1:]}'")

    def examples(self) -> list[tuple[str, str | None]]:
        """(message, expected category id or None) for every example in the file."""
        out: list[tuple[str, str | None]] = []
        for cat_id, cat in self.categories.items():
            out.extend((text, cat_id) for text in cat.examples.urgent)
            out.extend((text, None) for text in cat.examples.not_urgent)
        return out
