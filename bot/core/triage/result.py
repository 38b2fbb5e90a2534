"""The result of urgent triage: what the core needs to send the urgent reply and alert staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Speaker = Literal["child", "adult"]
_ADULT_AUDIENCES = {"parent", "teacher"}


@dataclass(frozen=True)
class UrgentMatch:
    """What the core needs to send the urgent reply and alert staff."""

    category: str
    name: str
    speaker: Speaker
    reply_child: str
    reply_adult: str
    entry_id: str | None
    phrase: str = ""  # the danger phrase that fired (for staff and debugging)
    entry_id_adult: str | None = None
    # categories a `precedence` rule ranks below this one in this message: the learned
    # model's kind never replaces this alarm with one of them
    holds_over: frozenset[str] = frozenset()
    # the message is nothing but a cry listed in `short_messages` ("cứu", "em bị bắt cóc"):
    # urgent whatever the learned model rates it (one word gives it little to read)
    whole_message: bool = False

    def _for_adult(self, audience: str | None) -> bool:
        return audience in _ADULT_AUDIENCES or self.speaker == "adult"

    def reply_for(self, audience: str | None) -> str:
        """Adult words for a parent or teacher, or when the writer is clearly an adult."""
        return self.reply_adult if self._for_adult(audience) else self.reply_child

    def entry_for(self, audience: str | None) -> str | None:
        """The knowledge entry that follows the urgent reply for this reader."""
        if self._for_adult(audience):
            return self.entry_id_adult or self.entry_id
        return self.entry_id
