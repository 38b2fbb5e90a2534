"""Words that differ only by their diacritics do not pick the danger's kind.

Typed without marks, "đang" is also "đăng" (to post), "anh" also "ảnh" (a photo), "cho em"
also "chở em" (to drive me); a writer who types diacritics means the word as typed. The wrong
reading sent an online-abuse reply to abuse in the same room, and a kidnapping reply to a
child asking about a swallowed battery.
"""

from __future__ import annotations

import pytest
from conftest import KNOWLEDGE

from bot.core.knowledge import load_knowledge
from bot.core.responder import Responder
from bot.core.triage.words import mostly_marked


@pytest.fixture(scope="module")
def responder() -> Responder:
    return Responder(load_knowledge(KNOWLEDGE))


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Chú hàng xóm đang bắt em cởi đồ", "sexual_abuse"),
        ("Em phải gửi anh ấy tiền, nếu không anh ấy đánh em", "physical_violence"),
        ("Em nhờ ba chở em trai đi viện vì nó nuốt pin", "accident_medical"),
        # "đề" (a test paper) is "để" (to leave) without marks: not homework talk
        ("bo me cu de em mot minh em muon chet", "self_harm"),
        # "hong" is "không" only before a few words ("hong thở"): the name Hồng followed by
        # "bị" must not become a negation that hides the beating
        ("chi Hong bi bo danh chay mau", "physical_violence"),
    ],
)
def test_the_danger_is_read_from_the_words_as_typed(
    responder: Responder, text: str, category: str
) -> None:
    reply = responder.respond(text)
    assert reply.urgent and reply.category == category, (reply.tier, reply.category)


@pytest.mark.parametrize(
    "text",
    [
        "Mẹ thu điện thoại của em cho đến khi thi xong",
        "Cho con hỏi con muốn đi chơi với bạn được không",
        # "rạch" alone is also the town Rạch Giá (and "kênh rạch"), not cutting
        "tui hoc lop 6 o Rach Gia, tui muon biet goi 111 co ton tien hong",
        # "bạn em sang / qua" is a friend coming over, not "bán em sang" (sold abroad)
        "ban em sang nha em lam bai tap",
        "hom qua ban em qua nha em choi game",
        # "bị bạn" (by a friend) is not "bị bán" (sold)
        "em bi ban giau mat cap sach",
    ],
)
def test_everyday_words_that_fold_like_danger_words_raise_nothing(
    responder: Responder, text: str
) -> None:
    reply = responder.respond(text)
    assert not reply.urgent and not reply.check, (reply.tier, reply.category)


def test_a_writer_who_types_diacritics_is_told_from_one_who_does_not() -> None:
    assert mostly_marked(["chú", "hàng", "xóm", "đang", "bắt", "em", "cởi", "đồ"])
    assert not mostly_marked(["tau", "treo", "cay", "xoai", "bị", "bổ", "tay", "gay", "roi"])
