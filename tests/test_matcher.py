"""The matcher: which entry a message reaches, and how sure the bot is about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from bot.core.matcher import DEFAULT_HIGH, DEFAULT_LOW, Hit, Matcher, Thresholds, band
from bot.core.text import Lexicon, Normaliser

LEXICON = Path(__file__).resolve().parents[1] / "knowledge" / "lexicon.yaml"


@dataclass
class E:
    id: str
    title: str
    questions: list[str]
    keywords: list[str] = field(default_factory=list)
    audience: list[str] = field(default_factory=lambda: ["child", "parent", "teacher"])


ENTRIES = [
    E(
        "tong-dai-111",
        "Tổng đài 111 là gì?",
        [
            "tổng đài bảo vệ trẻ em số mấy",
            "tong dai bao ve tre em la so may",
            "sdt bvte là j v ạ",
            "em muốn gọi cho người giúp trẻ em thì gọi số nào",
            "cho tôi xin số đường dây nóng bảo vệ trẻ em",
        ],
        ["111", "tổng đài", "đường dây nóng"],
    ),
    E(
        "tro-giup-phap-ly",
        "Trợ giúp pháp lý miễn phí",
        [
            "trẻ em bị xâm hại có được trợ giúp pháp lý miễn phí không",
            "tro giup phap ly cho tre em o dau",
            "TGPL có mất tiền ko",
            "con tôi cần luật sư thì nhờ ai",
            "em có được người giúp về luật không",
        ],
        ["trợ giúp pháp lý", "luật sư"],
    ),
    E(
        "dau-hieu-xam-hai",
        "Dấu hiệu trẻ bị xâm hại",
        [
            "làm sao biết con bị xâm hại",
            "dau hieu tre bi xam hai tinh duc la gi",
            "trẻ bị XHTD thường có biểu hiện ntn",
            "học sinh của tôi có dấu hiệu lạ thì có phải bị xâm hại không",
            "những dấu hiệu cho thấy trẻ bị lạm dụng",
        ],
        ["dấu hiệu", "biểu hiện"],
    ),
    E(
        "ban-be-bat-nat",
        "Bị bạn bè bắt nạt",
        [
            "em bị bạn bắt nạt ở trường phải làm sao",
            "bi ban be bat nat thi lam gi",
            "bạn cùng lớp hay đánh em thì em nói với ai",
            "con tôi bị bạn bắt nạt ở lớp",
            "bắt nạt học đường là gì",
        ],
        ["bắt nạt", "bạo lực học đường"],
    ),
    E(
        "ban-hang-online",
        "Bán hàng online",
        [
            "bán hàng trên mạng có cần giấy phép không",
            "trẻ em có được bán hàng online không",
            "ban hang online can gi",
            "em muốn bán đồ trên mạng",
            "bán hàng qua facebook có an toàn không",
        ],
    ),
    E(
        "kham-giam-dinh",
        "Khám và giám định khi bị xâm hại",
        [
            "bị xâm hại tình dục có cần đi khám không",
            "giam dinh xam hai o dau",
            "con tôi bị hiếp thì đưa đi bệnh viện nào",
            "trẻ bị xâm hại được khám miễn phí không",
            "có nên tắm trước khi đi khám không",
        ],
        ["giám định", "khám"],
    ),
]


@pytest.fixture(scope="module")
def normalise() -> Normaliser:
    return Normaliser(Lexicon(**yaml.safe_load(LEXICON.read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def matcher(normalise: Normaliser) -> Matcher:
    return Matcher(ENTRIES, normalise)


def top(matcher: Matcher, normalise: Normaliser, text: str) -> Hit:
    hits = matcher.search(normalise(text))
    assert hits, text
    return hits[0]


# -- bands ---------------------------------------------------------------------------------
def test_default_thresholds_are_ordered() -> None:
    assert 0 < DEFAULT_LOW < DEFAULT_HIGH < 100


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (100.0, "answer"),
        (70.0, "answer"),
        (69.99, "did-you-mean"),
        (50.0, "did-you-mean"),
        (49.99, "fallback"),
        (0.0, "fallback"),
    ],
)
def test_band_boundaries(score: float, expected: str) -> None:
    assert band(score, Thresholds(high=70.0, low=50.0)) == expected


def test_equal_thresholds_leave_no_did_you_mean() -> None:
    assert band(60.0, Thresholds(high=60.0, low=60.0)) == "answer"
    assert band(59.9, Thresholds(high=60.0, low=60.0)) == "fallback"


# -- routing -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("Tổng đài bảo vệ trẻ em là số mấy vậy ạ", "tong-dai-111"),
        ("tong dai bao ve tre em so may", "tong-dai-111"),
        ("111", "tong-dai-111"),
        ("TE bị XHTD thì có được TGPL ko", "tro-giup-phap-ly"),
        ("bi xam hai thi co luat su mien phi khong", "tro-giup-phap-ly"),
        ("lm sao bik con mk bị xâm hại", "dau-hieu-xam-hai"),
        ("con bị bạn bè bắt nạt ở trường thì sao", "ban-be-bat-nat"),
        ("bị xâm hại có cần đi khám ko", "kham-giam-dinh"),
    ],
)
def test_message_reaches_its_entry(
    matcher: Matcher, normalise: Normaliser, text: str, entry_id: str
) -> None:
    assert top(matcher, normalise, text).entry_id == entry_id


def test_typos_still_reach_the_entry(matcher: Matcher, normalise: Normaliser) -> None:
    hit = top(matcher, normalise, "tổng đàii bảo vệ trẻe em số mấy")
    assert hit.entry_id == "tong-dai-111"
    assert band(hit.score, Thresholds()) == "answer"


def test_accented_exact_match_beats_fold_only_match(
    matcher: Matcher, normalise: Normaliser
) -> None:
    # "bạn" (friend) and "bán" (sell) fold to the same "ban".
    assert top(matcher, normalise, "bị bạn bắt nạt").entry_id == "ban-be-bat-nat"
    assert top(matcher, normalise, "bán hàng online").entry_id == "ban-hang-online"
    hits = matcher.search(normalise("bị bạn bắt nạt"))
    folded_hits = matcher.search(normalise("bi ban bat nat"))
    assert hits[0].score >= folded_hits[0].score


def test_no_diacritics_message_is_answered(matcher: Matcher, normalise: Normaliser) -> None:
    hit = top(matcher, normalise, "bi xam hai tinh duc co can di kham khong")
    assert hit.entry_id == "kham-giam-dinh"
    assert band(hit.score, Thresholds()) == "answer"


@pytest.mark.parametrize(
    "text",
    [
        "giá vàng hôm nay",
        "thời tiết Hà Nội",
        "công thức nấu phở bò",
        "kết quả bóng đá",
        "học tiếng Anh",
    ],
)
def test_out_of_scope_is_never_answered(matcher: Matcher, normalise: Normaliser, text: str) -> None:
    hits = matcher.search(normalise(text))
    assert not hits or band(hits[0].score, Thresholds()) != "answer"


def test_scores_are_bounded_and_sorted(matcher: Matcher, normalise: Normaliser) -> None:
    hits = matcher.search(normalise("trẻ em bị xâm hại"), limit=5)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 100 for s in scores)
    assert len({h.entry_id for h in hits}) == len(hits)


def test_empty_message_has_no_hit(matcher: Matcher, normalise: Normaliser) -> None:
    assert matcher.search(normalise("?!? 😭")) == []


def test_long_rambling_message_keeps_its_question(matcher: Matcher, normalise: Normaliser) -> None:
    story = "hôm qua em đi học về muộn mẹ em mắng em buồn lắm " * 40
    hit = top(matcher, normalise, story + " cho em hỏi tổng đài bảo vệ trẻ em số mấy")
    assert hit.entry_id == "tong-dai-111"


def test_i_and_y_spellings_meet(matcher: Matcher, normalise: Normaliser) -> None:
    # "pháp lí" / "pháp lý", "tâm lí" / "tâm lý": both spellings are correct Vietnamese.
    with_y = matcher.search(normalise("trợ giúp pháp lý miễn phí"))[0]
    with_i = matcher.search(normalise("trợ giúp pháp lí miễn phí"))[0]
    assert with_i == with_y
    assert with_i.entry_id == "tro-giup-phap-ly"


def test_the_writer_picks_between_twin_entries(normalise: Normaliser) -> None:
    twins = Matcher(
        [
            E("dau-hieu-con", "Dấu hiệu con bị xâm hại", ["dấu hiệu trẻ bị xâm hại"],
              audience=["parent"]),
            E("dau-hieu-hoc-sinh", "Dấu hiệu học sinh bị xâm hại", ["dấu hiệu trẻ bị xâm hại"],
              audience=["teacher"]),
        ],
        normalise,
    )
    assert twins.search(normalise("con tôi có dấu hiệu bị xâm hại ko"))[0].entry_id == (
        "dau-hieu-con"
    )
    assert twins.search(normalise("gv thấy hs lớp tôi có dấu hiệu bị xâm hại"))[0].entry_id == (
        "dau-hieu-hoc-sinh"
    )


def test_question_frame_words_do_not_make_an_answer(
    matcher: Matcher, normalise: Normaliser
) -> None:
    # Shares only "là gì / như thế nào / có được không" with the entries.
    hits = matcher.search(normalise("mua xe máy cũ như thế nào, có được không, là gì"))
    assert not hits or band(hits[0].score, Thresholds()) == "fallback"


def test_search_is_deterministic(normalise: Normaliser) -> None:
    first = Matcher(ENTRIES, normalise).search(normalise("trẻ em bị xâm hại"), limit=5)
    second = Matcher(ENTRIES, normalise).search(normalise("trẻ em bị xâm hại"), limit=5)
    assert first == second
