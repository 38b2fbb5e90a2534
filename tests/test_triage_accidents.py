"""Issue 13: accidents and medical emergencies get 115 first (114 first for fire), then 111."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import KNOWLEDGE

from bot.core.knowledge import KnowledgeError, load_knowledge
from bot.core.responder import Responder


@pytest.fixture(scope="module")
def responder() -> Responder:
    return Responder(load_knowledge(KNOWLEDGE))


def _numbers(text: str) -> list[str]:
    return re.findall(r"\b11[1345]\b", text)


@pytest.mark.parametrize(
    "text",
    [
        "em bé nhà em nuốt viên pin cúc rồi",
        "em trai e uong nham nuoc tay bon cau, non lien tuc",
        "bạn em tắm sông bị nước cuốn, không thấy đâu",
        "em bé bị bỏ quên trong ô tô ngoài nắng, cửa khóa",
        "em be bi hoc keo, mat tim r",
        "thằng bạn em đang đá bóng tự nhiên ngã gục, lay mãi không dậy",
        # water words typed without diacritics still read as water when they come with a place
        "be nha toi tam ao voi ban tu chieu, gio khong thay len",
        # lightning: "sét đánh" is no beating
        "con tôi bị sét đánh ngoài đồng, giờ bất tỉnh",
    ],
)
def test_accident_gets_115_first_then_111(responder: Responder, text: str) -> None:
    reply = responder.respond(text)
    assert reply.urgent and reply.category == "accident_medical", (reply.tier, reply.category)
    numbers = _numbers(reply.parts[0])
    assert numbers[0] == "115" and "111" in numbers


def test_fire_gets_114_first(responder: Responder) -> None:
    reply = responder.respond("nhà em cháy rồi, khói đầy phòng")
    assert reply.urgent and reply.category == "fire"
    numbers = _numbers(reply.parts[0])
    assert numbers[0] == "114" and "115" in numbers and "111" in numbers


def test_adult_reporting_an_accident_gets_adult_words(responder: Responder) -> None:
    reply = responder.respond("con tôi 1 tuổi nuốt viên pin cúc", "parent")
    assert reply.urgent and _numbers(reply.parts[0])[0] == "115"
    assert "Em không có lỗi" not in reply.parts[0]


def test_a_friend_in_an_accident_is_not_answered_with_the_witness_reply(
    responder: Responder,
) -> None:
    reply = responder.respond("bạn em bị đuối nước ở bể bơi, đang nằm im không tỉnh")
    assert reply.urgent and reply.category == "accident_medical"
    assert _numbers(reply.parts[0])[0] == "115"


@pytest.mark.parametrize(
    "text",
    [
        "cháy nhà thì gọi số nào",
        "cách phòng tránh đuối nước cho trẻ",
        "em chạy bộ mỗi sáng",
        "cơm cháy rồi mẹ ơi, khói đen cả bếp",
    ],
)
def test_accident_questions_and_lookalikes_are_not_urgent(responder: Responder, text: str) -> None:
    assert not responder.respond(text).urgent


def test_a_number_not_in_hotlines_is_a_knowledge_error(tmp_path: Path) -> None:
    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, copy)
    danger = copy / "danger.yaml"
    text = danger.read_text(encoding="utf-8")
    danger.write_text(text.replace("Gọi 115 (cấp cứu) ngay.", "Gọi 119 (cấp cứu) ngay.", 1),
                      encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(copy)
    assert any("danger.yaml:" in issue and "119" in issue for issue in caught.value.issues)


@pytest.mark.parametrize(
    "text",
    [
        "con chó nhà bên cắn em gái tui chảy máu nhiều lắm",  # matches an other-child phrase
        "em tui thò tay vô ổ điện bị giật rồi nằm im",  # "thò tay vô" matches an abuse phrase
    ],
)
def test_an_accident_matching_another_category_s_phrase_still_gets_115_first(
    responder: Responder, text: str
) -> None:
    # A rule of another category matched, but the learned model reads an accident: the child
    # must be told to call the ambulance first, not only the child-protection line.
    assert responder.triage.assess(responder.normalise(text)) is not None
    reply = responder.respond(text)
    assert reply.urgent and reply.category == "accident_medical", (reply.tier, reply.category)
    assert _numbers(reply.parts[0])[0] == "115"
    pressed = responder.confirm_urgent(text)  # the check button's path reads the same way
    assert _numbers(pressed.parts[0])[0] == "115"


def test_a_beating_that_draws_blood_keeps_the_violence_reply(responder: Responder) -> None:
    reply = responder.respond("bố đánh em chảy máu đầu")
    assert reply.urgent and reply.category == "physical_violence"
    assert _numbers(reply.parts[0])[0] == "111"


@pytest.mark.parametrize(
    "text",
    [
        # a stranger's cover story names an accident or a fire: the child must be told not to go
        "có chú lạ ở cổng trường nói mẹ em bị tai nạn rồi, kêu em lên xe chú chở vô viện",
        "co nguoi la noi ba e dang cap cuu, bieu e len xe di lien",
        "ông kia bảo nhà em cháy rồi, bảo em lên xe ông đưa về",
        "1 bà lạ hoắc nói mẹ nhờ bà đón em, mẹ em nằm viện, bà cứ kéo tay em",
        # "ho" is "họ" (they) as often as "hồ" (lake): not a drowning
        "co 1 ong la noi me bi tai nan, keo em len xe, ho noi se cho em ve",
        "có chú nào tới trường nói ba kêu chú đón về, em đang đi theo ổng ra cổng",
        # Nam Bộ: "má" (mum), "kêu ... lên xe ông", "tía" (dad), "tới rước" (to pick up)
        "co ong la noi ma tui bi tai nan nam vien, keu tui len xe ong cho di lien",
        "ong do noi tia tui nho ong toi ruoc tui, ong dung ngoai cong truong",
    ],
)
def test_a_stranger_s_accident_story_is_a_lure_not_an_accident(
    responder: Responder, text: str
) -> None:
    reply = responder.respond(text)
    assert reply.urgent, reply.tier
    assert "đừng lên xe" in reply.parts[0].lower(), reply.parts[0]
    assert _numbers(reply.parts[0])[0] != "115"
    pressed = responder.confirm_urgent(text)  # the check button's path reads the same way
    assert "đừng lên xe" in pressed.parts[0].lower()


def test_an_accident_with_a_helper_driving_is_still_an_accident(responder: Responder) -> None:
    reply = responder.respond("bạn em bị xe tông ngã ra đường chảy máu đầu nhiều lắm, bất tỉnh")
    assert reply.urgent and _numbers(reply.parts[0])[0] == "115"


@pytest.mark.parametrize(
    "text",
    ["bị rắn cắn thì phải làm gì", "sơ cứu cho trẻ bị bỏng thế nào", "tre bi hoc thi lam gi"],
)
def test_a_first_aid_question_points_to_115_without_made_up_steps(
    responder: Responder, text: str
) -> None:
    # No checked first-aid source: the answer names 115 and says it gives no steps.
    reply = responder.respond(text, "parent")
    assert reply.entry_id == "tre-bi-thuong-lam-gi-truoc", (reply.entry_id, reply.band)
    assert "115" in reply.parts[0] and "không hướng dẫn sơ cứu" in reply.parts[0]


@pytest.mark.parametrize(
    "text",
    [
        # without diacritics "ao" is also "áo" (a shirt) and "ho" also "họ" (they)
        "con toi chua ve, co nguoi la dan di, mac ao do",
        "em trai toi di hoc chua ve, co nguoi thay ho keo no len xe may",
    ],
)
def test_a_child_taken_away_is_not_read_as_a_drowning(responder: Responder, text: str) -> None:
    reply = responder.respond(text, "parent")
    assert reply.urgent and reply.category == "kidnapping", (reply.tier, reply.category)
    assert _numbers(reply.parts[0])[:1] == ["113"], reply.parts[0]


def test_a_child_missing_near_water_is_an_accident(responder: Responder) -> None:
    reply = responder.respond("con tôi 6 tuổi đi lạc ở bãi biển, sóng lớn lắm", "parent")
    assert reply.urgent and reply.category == "accident_medical", (reply.tier, reply.category)
    assert _numbers(reply.parts[0])[0] == "115"


@pytest.mark.parametrize(
    "text",
    [
        # Nam Bộ without diacritics: "té" (fell), "kinh" (a canal), "hong thở" (not breathing)
        "thang em tui te xuong kinh, tui keo len ma no hong tho",
        "em tui rớt xuống giếng rồi",
        "be nha ben te song, gio nam im ko tho",
    ],
)
def test_a_southern_fall_into_water_is_an_accident(responder: Responder, text: str) -> None:
    # the rules read it too, not the learned model alone
    match = responder.triage.assess(responder.normalise(text))
    assert match is not None and match.category == "accident_medical", match
    reply = responder.respond(text)
    assert reply.urgent and reply.category == "accident_medical", (reply.tier, reply.category)
    assert _numbers(reply.parts[0])[0] == "115"


@pytest.mark.parametrize(
    "text",
    [
        "trường em cháy rồi, cầu thang toàn khói, tụi em còn kẹt trên lầu",
        "cháy xưởng gỗ cạnh nhà, khói đen mù mịt, bé nhà tôi còn ở trong phòng",
    ],
)
def test_thick_smoke_where_people_are_is_a_fire(responder: Responder, text: str) -> None:
    # the rules read it too (round 19: "khói đen mù mịt" with no "cháy nhà" got only the check line)
    match = responder.triage.assess(responder.normalise(text))
    assert match is not None and match.category == "fire", match
    reply = responder.respond(text)
    assert reply.urgent and _numbers(reply.parts[0])[0] == "114"


def test_everyday_smoke_gets_no_fire_line(responder: Responder) -> None:
    # "toàn khói" bare would read a smoky room as a fire: only stairs, corridors, black smoke
    assert responder.respond("bố em hút thuốc nên phòng toàn khói").tier == "none"


@pytest.mark.parametrize(
    ("text", "audience"),
    [
        ("con gái tôi chán sống rồi, cứ ngồi nhìn chai thuốc chuột trên gác bếp", "parent"),
        ("thằng lớn nó bảo chán sống, trong nhà còn gói thuốc diệt chuột, tôi ở xa lo quá",
         "parent"),
        ("em chán sống lắm, trong nhà có thuốc trừ sâu", None),
    ],
)
def test_wanting_to_die_near_poison_gets_the_self_harm_reply(
    responder: Responder, text: str, audience: str | None
) -> None:
    # the learned model reads a poison as an accident; the words of wanting to die keep the
    # self-harm reply, which itself says to call 115 if something was swallowed
    reply = responder.respond(text, audience)
    assert reply.urgent and reply.category == "self_harm", (reply.tier, reply.category)
    assert "115" in reply.parts[0] and "111" in reply.parts[0]


def test_poison_swallowed_by_mistake_stays_an_accident(responder: Responder) -> None:
    reply = responder.respond("bé uống nhầm thuốc diệt chuột, nôn liên tục", "parent")
    assert reply.urgent and reply.category == "accident_medical", (reply.tier, reply.category)
    assert _numbers(reply.parts[0])[0] == "115"


@pytest.mark.parametrize("text", ["phòng học cháy", "ký túc xá cháy", "nhà kho cháy to"])
def test_a_short_report_of_a_room_on_fire_gets_114_first(responder: Responder, text: str) -> None:
    # round 25: "ký túc xá cháy" got no danger reply at all
    reply = responder.respond(text)
    assert reply.urgent and _numbers(reply.parts[0])[0] == "114", (reply.tier, reply.category)


@pytest.mark.parametrize("text", ["em chạy về nhà rồi", "nhà bà em đang chạy chợ"])
def test_running_typed_with_diacritics_is_not_a_fire(responder: Responder, text: str) -> None:
    # folded, "chạy" (run) is "cháy" (burn): "em chạy về nhà rồi" got the urgent fire reply
    reply = responder.respond(text)
    assert not reply.urgent, reply.category


@pytest.mark.parametrize("text", ["nghe tin như bị sét đánh", "tình yêu sét đánh là có thật không"])
def test_lightning_as_a_figure_of_speech_is_no_alarm(responder: Responder, text: str) -> None:
    reply = responder.respond(text)
    assert not reply.urgent and not reply.check
