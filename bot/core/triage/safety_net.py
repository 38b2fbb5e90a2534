"""Second stage, tried only when no phrase fired: a real person near a broad harm word.

It catches wordings nobody listed: a real person ("em", "con tôi", "bạn em", passive "bị")
within a few words of a broad harm word, unless the message is a knowledge question, an idiom,
a negation or a game/film/homework. Its alarms carry a phrase starting with "~" so staff can
tell them apart.
"""

from __future__ import annotations

from bot.core.text import Normalised
from bot.core.triage.category import choose, match_for
from bot.core.triage.cues import MASKABLE, Masks, Who
from bot.core.triage.phrases import Hit, PhraseIndex
from bot.core.triage.plan import DangerPlan
from bot.core.triage.result import UrgentMatch
from bot.core.triage.words import Tok


def clause_cues(plan: DangerPlan, toks: list[Tok], typed_accents: bool) -> list[Hit]:
    """The cue hits of one clause (cancelling cues read as typed when accents were typed)."""
    return plan.cue_index.scan(toks) + plan.cancel_index.scan(toks, exact=typed_accents)


def safety_net(
    plan: DangerPlan,
    message: Normalised,
    clauses: list[list[Tok]],
    index: PhraseIndex,
    known_cues: list[list[Hit] | None] | None = None,
) -> UrgentMatch | None:
    """A real person within `window` words of a broad harm word, when the message is no
    knowledge question, idiom, negation, settled matter or blocker. `known_cues`: each
    clause's `clause_cues` when the rules already scanned it (None where not)."""
    net = plan.net
    assert net is not None
    danger = plan.danger
    scans = [index.scan(toks) for toks in clauses]
    if not any(h.phrase.kind == "net_harm" for hits in scans for h in hits):
        return None
    kinds: set[str] = set()
    persons: list[tuple[int, int]] = []
    candidates: list[Hit] = []
    who = Who()
    offset = 0
    for n, (toks, net_hits) in enumerate(zip(clauses, scans, strict=True)):
        base = offset
        offset += len(toks)
        exact = message.typed_accents
        known = known_cues[n] if known_cues is not None else None
        cues = (
            known if known is not None else clause_cues(plan, toks, exact)
        ) + plan.net_block.scan(toks, exact=exact)
        masks = Masks(cues, len(toks), net.negation_window, danger.max_gap)
        # a harm word inside an everyday wording or just after it ("ngã xe bị chảy máu")
        everyday = [
            (h.start, h.end + danger.max_gap, h.phrase.category)
            for h in cues
            if h.phrase.kind == "not_harm"
        ]
        for hit in cues:
            kind = hit.phrase.kind
            if kind in MASKABLE and (masks.in_idiom(hit) or masks.in_topic(hit)):
                continue
            if kind in ("disclosure", "adult", "other"):
                persons.append((base + hit.start, base + hit.end))
            if kind != "idiom":
                kinds.add(kind)
                who.note(hit, base)
        for hit in net_hits:
            if masks.in_idiom(hit) or masks.in_topic(hit):
                continue
            if hit.phrase.kind == "net_person":
                persons.append((base + hit.start, base + hit.end))
                continue
            if danger.categories[hit.phrase.category or ""].negatable and masks.negated(hit):
                continue
            if any(
                start < hit.end and hit.start < end and cat in (None, hit.phrase.category)
                for start, end, cat in everyday
            ):
                continue
            candidates.append(Hit(hit.phrase, base + hit.start, base + hit.end))
    if not candidates or not persons or "net_block" in kinds:
        return None
    window = net.window
    candidates = [
        h
        for h in candidates
        if any(max(h.start - end, start - h.end) <= window for start, end in persons)
    ]
    # A weaker signal than a listed phrase: any knowledge question cancels it, even one
    # naming a real person ("làm sao nhận biết con bị bắt nạt").
    if kinds & {"settled", "question"}:
        candidates = [h for h in candidates if not plan.category(h).questions_suppress]
    if not candidates:
        return None
    cat_id, best = choose(plan, candidates, who.evidence)
    return match_for(plan, cat_id, kinds, f"~{best.phrase.text}", who.witness(),
                     who.evidence)
