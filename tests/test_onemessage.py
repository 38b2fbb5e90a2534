"""Work shared between the layers while one message is answered is forgotten with its reply."""

from __future__ import annotations

from typing import Any

from bot.core import onemessage
from bot.core.ngrams import char_wb_grams


def test_a_reply_leaves_nothing_of_the_message_behind(shared_responder: Any) -> None:
    # a check-tier style message: the rules and the model are asked twice for it
    reply = shared_responder.respond("Nguyễn Văn Bình hay đánh em ở cổng trường, em sợ lắm")
    assert reply.parts
    assert onemessage.memo() is None  # no n-grams, no triage result kept after the reply


def test_inside_one_message_each_text_is_analysed_once() -> None:
    grams = char_wb_grams(2, 5, lowercase=True)
    outside = grams("ban be")
    assert grams("ban be") is not outside  # no scope: worked out every time, nothing kept
    with onemessage.scope():
        first = grams("Ban be")
        assert first == outside
        assert grams("ban be") is first  # the same lower-case text: shared
    assert onemessage.memo() is None
