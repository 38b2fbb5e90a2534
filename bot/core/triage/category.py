"""Choosing the category of an alarm, and building the alarm a category stands for.

When several categories fire, the category is chosen by evidence, not only by file order: a
category may `require` a cue (online abuse needs an online cue, else it is in-person abuse), and
`precedence` rules let one category win over others when its cue is present (forced begging is
trafficking, not just a beating). A child writing about another child as the victim ("bạn em
uống thuốc chuột") gets the witness reply, unless the writer is a victim too ("đánh em").
"""

from __future__ import annotations

from bot.core.triage.phrases import Hit
from bot.core.triage.plan import DangerPlan
from bot.core.triage.result import Speaker, UrgentMatch


def choose(plan: DangerPlan, hits: list[Hit], evidence: set[str]) -> tuple[str, Hit]:
    """The category to answer with, by evidence before file order: a category lacking
    the cue it `requires` becomes its `otherwise`; then each `precedence` rule whose
    preferred category fired (and whose cue is present) drops the categories it beats."""
    danger = plan.danger
    pairs: list[tuple[str, Hit]] = []
    for hit in hits:
        cat_id = hit.phrase.category or ""
        cat = danger.categories[cat_id]
        if cat.otherwise and f"requires:{cat_id}" not in evidence:
            cat_id = cat.otherwise
        pairs.append((cat_id, hit))
    fired = {cat_id for cat_id, _ in pairs}
    for n, rule in enumerate(danger.precedence):
        if rule.prefer in fired and (not rule.when or f"rule:{n}" in evidence):
            fired -= set(rule.over) - {rule.prefer}
    return min(
        ((c, h) for c, h in pairs if c in fired),
        key=lambda pair: (plan.order[pair[0]], pair[1].start),
    )


def beaten(plan: DangerPlan, cat_id: str, evidence: set[str]) -> frozenset[str]:
    """The categories `cat_id` wins over in this message by a `precedence` rule whose cue is
    present, whether or not their phrases fired: the learned model's kind may not replace the
    rule's choice with one of them (a stranger's "mẹ em bị tai nạn, lên xe chú chở" is a lure,
    not an accident)."""
    over: set[str] = set()
    for n, rule in enumerate(plan.danger.precedence):
        if rule.prefer == cat_id and (not rule.when or f"rule:{n}" in evidence):
            over.update(rule.over)
    return frozenset(over - {cat_id})


def alarm(
    plan: DangerPlan, cat_id: str, speaker: Speaker, phrase: str, witness: bool = False,
    holds_over: frozenset[str] = frozenset(),
) -> UrgentMatch:
    """The alarm for harm category `cat_id`; the witness reply when a child writes about
    another child (and is not a victim too), unless the category keeps its own reply."""
    danger = plan.danger
    harm = danger.categories[cat_id]
    if plan.other_id and witness and speaker == "child" and harm.witness_reply:
        other = danger.categories[plan.other_id]
        return UrgentMatch(
            category=plan.other_id,
            name=f"{other.name}: {harm.name}",
            speaker=speaker,
            reply_child=other.reply_child,
            reply_adult=other.reply_adult,
            entry_id=other.entry_id or harm.entry_id,
            entry_id_adult=other.entry_id_adult or harm.entry_id_adult,
            phrase=phrase,
            holds_over=holds_over,
        )
    return UrgentMatch(
        category=cat_id,
        name=harm.name,
        speaker=speaker,
        reply_child=harm.reply_child,
        reply_adult=harm.reply_adult,
        entry_id=harm.entry_id,
        entry_id_adult=harm.entry_id_adult,
        phrase=phrase,
        holds_over=holds_over,
    )


def match_for(
    plan: DangerPlan, cat_id: str, kinds: set[str], phrase: str, witness: bool,
    evidence: set[str],
) -> UrgentMatch:
    """The alarm for a rule hit: adult words when an adult cue was found; it keeps the
    categories its `precedence` rules beat in this message (`evidence`)."""
    speaker: Speaker = "adult" if "adult" in kinds else "child"
    return alarm(plan, cat_id, speaker, phrase, witness, beaten(plan, cat_id, evidence))
