"""The public tiering API: rules and the learned model together decide urgent, check or none.

Rules add alarms; the learned model decides how sure. A rule hit the model finds unlikely is a
check, not a crisis reply (rules over-fire on questions and idioms, and raised most held-out
false alarms); a rule can never lower what the model rates.
"""

from __future__ import annotations

from bot.core import onemessage
from bot.core.text import Normalised
from bot.core.triage.markers import MODEL_CHARS, ModelText
from bot.core.triage.model import Tier, TriageModel
from bot.core.triage.result import UrgentMatch
from bot.core.triage.rules import Triage
from bot.core.triage.schema import DangerFile

_ADULT_READERS = ("parent", "teacher")
__all__ = ["MODEL_CHARS", "Tiering"]


class Tiering:
    """One message in, the alarm (if urgent) and its tier out."""

    def __init__(
        self, danger: DangerFile, triage: Triage, model: TriageModel, model_text: ModelText
    ) -> None:
        self.danger = danger
        self.triage = triage
        self.model = model
        self.model_text = model_text
        triage.warm(model.vocabulary)

    def assess(self, message: Normalised, audience: str | None) -> tuple[UrgentMatch | None, Tier]:
        """The alarm and tier of one message; the alarm is None unless the tier is urgent."""
        match = self.triage.assess(message)
        if not message.folded:
            return None, "none"
        danger, kind = self._scores(message)
        rule_at = None if match is None else self._rule_at(match)
        tier = self.model.tier(danger, rule_at)
        if tier != "urgent":
            return None, tier
        return self._alarm(match, danger, kind, audience), "urgent"

    def confirm(self, message: Normalised, audience: str | None) -> UrgentMatch:
        """The check button was pressed: the alarm for that message, from the rules if they
        name one, else from the model's most likely kind."""
        danger, kind = self._scores(message)
        return self._alarm(self.triage.assess(message), danger, kind, audience)

    def _scores(self, message: Normalised) -> tuple[float, str]:
        """The model's P(danger) and kind, worked out once per message (`onemessage`): a
        check-tier reply asks again for the kind its button confirms."""
        return onemessage.once(("triage model", id(self), message),
                               lambda: self.model.scores(self.model_text(message)))

    def _alarm(self, match: UrgentMatch | None, danger: float, kind: str,
               audience: str | None) -> UrgentMatch:
        """The rule's alarm, else the model's kind; the model's kind also overrides the rule's
        category when that kind says `model_kind_first` (accidents, fire: 115 / 114 first
        whatever phrase matched), never the other way round, not over a `precedence` rule
        that ranks the rule's category first in this message, not over a whole-message cry
        (the model reads one or two words), and only when the model finds danger at all (its
        kind of a plain question, P(danger) ~0, means nothing)."""
        if match is None:
            return self.match_for(kind, audience)
        categories = self.danger.categories
        model_kind, ruled = categories.get(kind), categories.get(match.category)
        if (danger >= self.model.check_at and model_kind is not None
                and model_kind.model_kind_first
                and not (ruled is not None and ruled.model_kind_first)
                and kind not in match.holds_over and not match.whole_message):
            return self.match_for(kind, audience)
        return match

    def _rule_at(self, match: UrgentMatch) -> float:
        """The P(danger) from which this rule alarm is urgent: its category's
        `rule_urgent_at`; any P for a message that is nothing but a cry."""
        if match.whole_message:
            return 0.0
        category = self.danger.categories.get(match.category)
        return category.rule_urgent_at if category is not None else self.model.check_at

    def match_for(self, kind: str, audience: str | None) -> UrgentMatch:
        """The alarm for a danger kind the model found (distress when it has no category)."""
        categories = self.danger.categories
        category_id = kind if kind in categories else "distress"
        category = categories[category_id]
        return UrgentMatch(
            category=category_id,
            name=category.name,
            speaker="adult" if audience in _ADULT_READERS else "child",
            reply_child=category.reply_child,
            reply_adult=category.reply_adult,
            entry_id=category.entry_id,
            entry_id_adult=category.entry_id_adult,
            phrase="(model)",
        )
