"""Triage: every emergency is caught first; questions, idioms and negations are not alarms."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from triage_figures import build_triage, load_named_sets, load_sets, triage_figures

from bot.core.triage import DangerFile, Triage, UrgentMatch

TRIAGE, NORMALISER, DANGER = build_triage()
URGENT, TRICKY = load_sets()
NAMED_SETS = load_named_sets()
# Categories added after these sets were written (issue 13): their cases are in
# knowledge/triage_examples/ and tests/test_triage_accidents.py.
LATER_CATEGORIES = {"fire", "accident_medical"}
OLD_CATEGORIES = [c for c in DANGER.categories if c not in LATER_CATEGORIES]


def assess(text: str) -> UrgentMatch | None:
    return TRIAGE.assess(NORMALISER(text))


def test_sets_are_big_enough_and_cover_every_category() -> None:
    assert len(URGENT) >= 80
    assert len(TRICKY) >= 80
    assert {item["category"] for item in URGENT} == set(OLD_CATEGORIES)


# Floors, not 100 %: these sets were tuned on (every rule was written to pass them), so a
# per-message gate only froze the rules. The floors sit a little under today's figures
# (recall 100 % on every set, false alarms 0.0-2.4 %); named must-catch cases live in
# tests/test_triage_floors.py.
RULE_RECALL_FLOOR = 0.97
RULE_FALSE_ALARM_CEILING = 0.05


def test_rules_recall_floor_on_all_sets() -> None:
    missed = [item["text"] for item in URGENT if assess(item["text"]) is None]
    assert 1 - len(missed) / len(URGENT) >= RULE_RECALL_FLOOR, missed


def test_false_alarms_on_tricky_set_at_most_5_percent() -> None:
    alarms = [text for text in TRICKY if assess(text) is not None]
    assert len(alarms) / len(TRICKY) <= 0.05, alarms


@pytest.mark.parametrize("name", sorted(NAMED_SETS))
def test_each_set_alone_recall_floor_and_few_false_alarms(name: str) -> None:
    urgent, tricky = NAMED_SETS[name]
    missed = [item["text"] for item in urgent if assess(item["text"]) is None]
    assert 1 - len(missed) / len(urgent) >= RULE_RECALL_FLOOR, missed
    alarms = [text for text in tricky if assess(text) is not None]
    assert len(alarms) / len(tricky) <= RULE_FALSE_ALARM_CEILING, alarms


def test_blind_set_is_big_and_covers_every_harm_category() -> None:
    urgent, tricky = NAMED_SETS["blind"]
    assert len(urgent) >= 120 and len(tricky) >= 100
    for category in OLD_CATEGORIES:
        assert sum(item["category"] == category for item in urgent) >= 10, category


def test_figures_report_recall_over_the_floor() -> None:
    figures = triage_figures()
    assert figures["recall"] >= RULE_RECALL_FLOOR, figures["misses"]
    assert len(figures["misses"]) == round((1 - figures["recall"]) * figures["urgent_count"])


def test_danger_file_examples_mostly_hold() -> None:
    """Staff's own examples (`kb test` lists each failure); CI gates on a floor."""
    examples = DANGER.examples()
    wrong = []
    for text, expected in examples:
        match = assess(text)
        if (match.category if match else None) != expected:
            wrong.append((text, expected))
    assert len(wrong) / len(examples) <= 0.05, wrong


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("chú hàng xóm sờ vào chỗ kín của em", "sexual_abuse"),
        ("e mun chet", "self_harm"),
        ("bố em say rượu đánh em chảy máu", "physical_violence"),
    ],
)
def test_issue_examples(text: str, category: str) -> None:
    match = assess(text)
    assert match is not None and match.category == category


@pytest.mark.parametrize(
    "text",
    [
        "xâm hại tình dục trẻ em bị phạt mấy năm tù",
        "cách phòng tránh đuối nước",
        "dạy con phòng chống xâm hại",
        "phim này hay chết đi được",
        "em không bị ai đánh cả",
    ],
)
def test_issue_non_urgent(text: str) -> None:
    assert assess(text) is None


def test_negation_cancels_only_nearby_and_not_across_but() -> None:
    assert assess("bố mẹ chưa bao giờ đánh em") is None
    assert assess("em không sao nhưng bố đánh em") is not None
    assert assess("em không biết phải làm gì nữa, hôm nào bố cũng đánh em") is not None


def test_otherwise_is_not_a_negation() -> None:
    assert assess("nó đòi tiền không thì phát tán clip của em") is not None


def test_self_harm_ignores_questions_and_negation_but_not_idioms() -> None:
    assert assess("em không muốn sống nữa") is not None
    assert assess("làm sao để tự tử không đau") is not None
    assert assess("em muốn chết đi được, không ai thương em") is not None
    assert assess("mệt muốn chết") is None
    # bored, scared, cross "to death": how children talk; wanting to die in a clause of its own,
    # or "chán sống", stays an alarm
    assert assess("chán muốn chết, mưa cả tuần không đi đâu được") is None
    assert assess("sợ muốn chết, mai kiểm tra miệng") is None
    assert assess("tức muốn chết, thua game hoài") is None
    assert assess("tao chán lắm, muốn chết") is not None
    assert assess("em chán muốn chết rồi, không muốn sống nữa") is not None


def test_question_with_disclosure_is_urgent() -> None:
    assert assess("em bị xâm hại, phải làm sao") is not None
    assert assess("cho em hỏi cách phòng tránh bị xâm hại") is None


def test_typed_accents_keep_words_apart() -> None:
    assert assess("từ từ đã nào") is None  # "từ từ" is not "tự tử"
    assert assess("em muốn tự tử") is not None
    assert assess("em muon tu tu") is not None


def test_small_typos_and_telex_leftovers() -> None:
    assert assess("em muon chettt") is not None
    assert assess("em muon cht") is not None
    assert assess("bố ddanhs em") is not None
    assert assess("em muốn chat với bạn") is None  # a real word is never a typo


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("con tôi bị bắt cóc", "adult"),
        ("học sinh lớp tôi bị bố đánh bầm tím", "adult"),
        ("con bị bố đánh", "child"),
        ("em bị xâm hại", "child"),
    ],
)
def test_speaker(text: str, speaker: str) -> None:
    match = assess(text)
    assert match is not None and match.speaker == speaker


def test_reply_for_audience() -> None:
    child = assess("em bị bố đánh")
    adult = assess("con tôi bị bố đánh")
    assert child is not None and adult is not None
    assert child.reply_for(None) == child.reply_child
    assert child.reply_for("child") == child.reply_child
    assert child.reply_for("parent") == child.reply_adult
    assert child.reply_for("teacher") == child.reply_adult
    assert adult.reply_for(None) == adult.reply_adult


def test_another_child_gets_the_witness_reply() -> None:
    match = assess("bạn em bị bố đánh chảy máu")
    assert match is not None and match.category == "other_child"
    assert "Bạn ấy không có lỗi" in match.reply_child
    assert "Bạo lực" in match.name  # staff still see what kind of harm


def test_replies_say_not_your_fault_and_only_known_numbers() -> None:
    import re

    for cat in DANGER.categories.values():
        assert "111" in cat.reply_child and "111" in cat.reply_adult
        assert "không có lỗi" in cat.reply_child
        numbers = set(re.findall(r"\d{3,}", cat.reply_child + cat.reply_adult))
        assert numbers <= {"111", "113", "114", "115"}, numbers


def test_long_message_still_assessed() -> None:
    text = "hôm nay em đi học vui lắm " * 700 + "bố em say rượu đánh em chảy máu"
    assert assess(text[-20_000:]) is not None


@pytest.mark.parametrize("separator", [" ", ", ", ". "])
def test_danger_in_the_middle_of_a_long_message_is_found(separator: str) -> None:
    filler = separator.join(["hôm nay em đi học vui lắm"] * 350)
    text = filler + separator + "bố dượng bắt em cởi đồ" + separator + filler
    assert len(text) > 15_000
    assert assess(text) is not None
    assert assess(filler + separator + filler) is None


def test_word_sets_combine_into_new_wordings() -> None:
    # [$hit, $injury]: a hit verb and an injury a few words apart, in any order
    assert assess("thằng anh lấy thắt lưng quất em tím hết cả lưng") is not None
    assert assess("mặt em sưng vù vì bị anh đấm vào") is not None
    # [$marriage, $child_age]
    assert assess("em mới 13 tuổi mà sắp phải về làm dâu") is not None
    assert assess("chị em 25 tuổi sắp lấy chồng") is None


def test_together_parts_must_be_close() -> None:
    near = "có anh trên mạng hứa đưa em sang Trung Quốc"
    assert assess(near) is not None
    far = "có anh hứa " + "hôm nay trời đẹp lắm " * 10 + "em thích học tiếng Trung Quốc"
    assert assess(far) is None


def test_film_topics_and_settled_matters_are_not_alarms() -> None:
    assert assess("hôm qua em xem phim về bắt cóc trẻ em") is None
    assert assess("hàng xóm nhà tôi từng bị bạo hành nhưng đã xử lý xong rồi") is None
    assert assess("xem phim về bắt cóc xong em thấy có người đi theo em về nhà") is not None
    assert assess("phim hay quá, giờ ổn rồi nhưng em vẫn muốn tự tử") is not None


def test_word_set_names_are_checked() -> None:
    raw = yaml.safe_load((Path(__file__).parent.parent / "knowledge" / "danger.yaml").read_text())
    raw["categories"]["neglect"]["together"].append(["$no_such_set", "đói"])
    with pytest.raises(ValidationError):
        DangerFile.model_validate(raw)


def test_schema_rejects_unknown_fields() -> None:
    raw = yaml.safe_load((Path(__file__).parent.parent / "knowledge" / "danger.yaml").read_text())
    raw["categories"]["self_harm"]["reply"] = "x"
    with pytest.raises(ValidationError):
        DangerFile.model_validate(raw)


def test_staff_can_add_a_phrase() -> None:
    raw = yaml.safe_load((Path(__file__).parent.parent / "knowledge" / "danger.yaml").read_text())
    assert assess("em bị cho uống rượu say") is None
    raw["categories"]["physical_violence"]["phrases"].append("cho uống rượu")
    triage = Triage(DangerFile.model_validate(raw), NORMALISER)
    match = triage.assess(NORMALISER("em bị cho uong ruou say"))
    assert match is not None and match.category == "physical_violence"


def test_fresh_set_is_big_and_covers_every_category() -> None:
    urgent, tricky = NAMED_SETS["fresh"]
    assert len(urgent) >= 150 and len(tricky) >= 120
    for category in OLD_CATEGORIES:
        assert sum(item["category"] == category for item in urgent) >= 12, category


@pytest.mark.parametrize("text", ["cuu", "CỨU!!!", "e so", "em sợ quá 😭", "help", "SOS"])
def test_a_bare_cry_is_urgent(text: str) -> None:
    assert assess(text) is not None


@pytest.mark.parametrize("text", ["nghiên cứu khoa học", "cứu hộ giao thông", "sợ ma"])
def test_cry_words_inside_other_words_are_not(text: str) -> None:
    assert assess(text) is None


def test_word_sets_inside_idioms() -> None:
    # "$schoolwork ... muốn chết", "$me sợ $everyday_fear $intens"
    assert assess("bài này khó muốn chết") is None
    assert assess("em ghét môn hóa muốn chết") is None
    assert assess("em sợ ma lắm, tối không dám đi vệ sinh") is None
    assert assess("em muốn chết") is not None
    assert assess("em sợ bố lắm, bố say rượu là đánh em") is not None


def test_a_cancelling_cue_must_be_typed_as_written() -> None:
    # typed with diacritics, "cha" (a man) is not the negation "chả"
    assert assess("thằng cha lạ cứ rình ngoài cổng nhà em mấy đêm nay") is not None
    assert assess("em chả bị ai đánh cả") is None
    assert assess("em cha bi ai danh ca") is None  # no diacritics typed: read leniently


def test_someone_demanding_secrecy_makes_a_question_real() -> None:
    assert (
        assess("cô trên fb rủ em sang biên giới rửa bát, bảo đừng nói bme, em có nên đi ko")
        is not None
    )


def test_every_phrase_keeps_its_words_after_normalising() -> None:
    """A phrase whose word the normaliser drops ("ảnh hở" -> "ảnh") silently widens to
    something staff never meant; every word must survive."""
    texts = [w for items in DANGER.word_sets.values() for w in items]
    for cat in DANGER.categories.values():
        texts += cat.phrases + cat.short_messages + [m for g in cat.together for m in g]
    texts += DANGER.question_cues + DANGER.disclosure_cues + DANGER.idioms + DANGER.adult_cues
    for cat in DANGER.categories.values():
        texts += cat.requires + cat.mentions + cat.self_cues
    texts += [w for rule in DANGER.precedence for w in rule.when]
    shrunk = []
    for text in texts:
        for part in text.split("..."):
            words = [w for w in part.split() if not w.startswith("$")]
            if len(words) != len(part.split()):
                continue
            if words and len(NORMALISER(" ".join(words)).accented.split()) < len(words):
                shrunk.append(text)
    assert shrunk == []


def test_unknown_word_set_in_an_idiom_is_rejected() -> None:
    raw = yaml.safe_load((Path(__file__).parent.parent / "knowledge" / "danger.yaml").read_text())
    raw["idioms"].append("$no_such_set muốn chết")
    with pytest.raises(ValidationError):
        DangerFile.model_validate(raw)


def test_probe_set_is_big_and_covers_every_category() -> None:
    urgent, tricky = NAMED_SETS["probe"]
    assert len(urgent) >= 120 and len(tricky) >= 100
    for category in OLD_CATEGORIES:
        assert sum(item["category"] == category for item in urgent) >= 10, category


@pytest.mark.parametrize(
    "text",
    [
        # wordings no phrase lists: a real person near a broad harm word
        "tớ bị mấy anh lớp trên tra tấn trong nhà vệ sinh",
        "bé nhà tôi về kể bị ông bảo vệ làm nhục",
        "mấy hôm nay em toàn phải lục thùng rác",
    ],
)
def test_safety_net_catches_unlisted_wordings(text: str) -> None:
    match = assess(text)
    assert match is not None and match.phrase.startswith("~")


@pytest.mark.parametrize(
    "text",
    [
        "làm sao nhận biết con bị bắt nạt ở trường",  # a knowledge question
        "em bị ngã xe đạp trầy chân",  # everyday wording (not_harm)
        "chơi free fire bị giết hoài chán quá",  # a game
        "bà em không bao giờ đánh em",  # negation right before the harm word
    ],
)
def test_safety_net_stays_quiet(text: str) -> None:
    assert assess(text) is None


def test_safety_net_keeps_grooming_in_games_urgent() -> None:
    assert assess("anh quen trên roblox bắt em cởi đồ gọi video") is not None


def test_safety_net_schema_rejects_unknown_keys_and_categories() -> None:
    data = DANGER.model_dump()
    data["safety_net"]["colour"] = "red"
    with pytest.raises(ValidationError):
        DangerFile.model_validate(data)
    data = DANGER.model_dump()
    data["safety_net"]["words"]["no_such_category"] = ["đánh"]
    with pytest.raises(ValidationError):
        DangerFile.model_validate(data)


def test_without_safety_net_only_listed_phrases_fire() -> None:
    data = DANGER.model_dump()
    data["safety_net"] = None
    bare = Triage(DangerFile.model_validate(data), NORMALISER)
    assert bare.assess(NORMALISER("mấy hôm nay em toàn phải lục thùng rác")) is None


# --------------------------------------------------------------------------- category precision
# A wrong category gives a child the wrong first words; agreement was 91.5% before issue 5
# round 5 (98.8% after, with nine labels corrected; see bench/triage_eval.py).


def test_category_agreement_on_every_urgent_set() -> None:
    assert triage_figures()["category_agreement"] >= 0.97


WITNESS = DANGER.categories["other_child"].reply_child


@pytest.mark.parametrize(
    "text",
    [
        "bạn em uống thuốc chuột rồi",
        "em họ em mới 6 tuổi, chú nó hay bắt nó ngủ chung, nó sợ lắm không dám kể",
        "em thấy thằng Tí lớp bên ngày nào mặt cũng có vết bầm",
        "hàng xóm nhà em có bé gái hay bị ông nội dắt vào buồng, bé khóc thét",
        "ban cung lop em bi chu so cho kin",
        "đứa em họ e bị mẹ kế nhốt ngoài trời mưa cả đêm",
        "bo danh em gai em chay mau dau",  # "đánh em" is the sister's, not the writer's
    ],
)
def test_a_child_reporting_another_child_gets_the_witness_reply(text: str) -> None:
    match = assess(text)
    assert match is not None and match.category == "other_child"
    assert match.reply_for(None) == WITNESS
    assert "bạn ấy" in match.reply_for(None)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # the friend is the one who hurts or lures the writer: the writer's own reply
        ("bạn em đánh em chảy máu", "physical_violence"),
        ("bạn em bảo dẫn đi làm nhà hàng ở Lạng Sơn, đi xe qua biên giới luôn", "trafficking"),
        # unaccented "bán em" (sells me) reads like "bạn em" (my friend): the child is the one sold
        ("bo me em ban em sang trung quoc roi", "trafficking"),
        ("me em ban em cho nguoi ta roi", "trafficking"),
    ],
)
def test_a_friend_who_harms_the_writer_is_not_a_witness_case(text: str, category: str) -> None:
    match = assess(text)
    assert match is not None and match.category == category


def test_an_adult_reporting_a_child_keeps_adult_words() -> None:
    match = assess("tôi là giáo viên, một học sinh lớp 3 kể bị chú ruột xâm hại")
    assert match is not None and match.category == "sexual_abuse"
    assert match.reply_for(None) == DANGER.categories["sexual_abuse"].reply_adult


def test_a_child_named_in_a_news_story_does_not_make_it_urgent() -> None:
    assert assess("đọc báo thấy vụ bạo hành bé gái ở Sài Gòn, thương bé quá") is None
    assert assess("bạn em hỏi xâm hại là gì") is None


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # undressing in person is sexual abuse; online abuse needs an online cue
        ("chú hàng xóm bắt em cởi đồ rồi sờ người em, em sợ lắm", "sexual_abuse"),
        ("chú ấy bắt em cởi đồ để chụp ảnh nói là bí mật của 2 chú cháu", "sexual_abuse"),
        ("người ta bắt em cởi đồ qua video call", "online_exploitation"),
        ("thằng đó quay lén em trong phòng thay đồ rồi gửi cho tụi bạn", "online_exploitation"),
        ("anh quen qua discord bảo em bỏ nhà lên gặp anh, đừng cho ai biết", "online_exploitation"),
        # a lure into a motel is sexual abuse unless there is a job cue
        ("chú em dụ em vào nhà nghỉ, em không muốn mà chú vẫn làm", "sexual_abuse"),
        # ongoing danger with no harm type is distress
        ("em trốn trong tủ, ngoài kia đang đập cửa", "distress"),
        ("giup e voi e ko biet lam sao nua, ho dang dap cua", "distress"),
        ("cứu e với, chú đang phá cửa phòng đòi đánh chết e", "physical_violence"),
        # abandonment is neglect, not a missing person
        ("mẹ nghiện, bỏ em với em bé mấy hôm chưa về, em bé khóc vì đói", "neglect"),
        # forced street work with beatings or locking up is trafficking
        ("họ bắt em bán hoa đến 2h sáng, không đủ tiền là bị đánh, không cho về", "trafficking"),
        ("họ bắt em đi ăn xin ngoài chợ, tối thì nhốt lại", "trafficking"),
        ("bố mẹ bắt em đi ăn xin", "neglect"),
        # a bride price and a forced wedding is forced marriage, not kidnapping
        ("nhà em nhận sính lễ rồi, tháng sau bắt em cưới người em không quen", "forced_marriage"),
    ],
)
def test_category_follows_the_evidence(text: str, category: str) -> None:
    match = assess(text)
    assert match is not None and match.category == category


def test_the_right_first_words_reach_the_child() -> None:
    match = assess("chú hàng xóm bắt em cởi đồ rồi sờ người em, em sợ lắm")
    assert match is not None
    assert "chỗ kín" in match.reply_for(None) and "gửi thêm ảnh" not in match.reply_for(None)


def test_precedence_and_requires_are_checked() -> None:
    raw = yaml.safe_load((Path(__file__).parent.parent / "knowledge" / "danger.yaml").read_text())
    bad_rule = {**raw, "precedence": [{"prefer": "no_such", "over": ["neglect"]}]}
    with pytest.raises(ValidationError):
        DangerFile.model_validate(bad_rule)
    cats = {k: dict(v) for k, v in raw["categories"].items()}
    cats["online_exploitation"]["otherwise"] = "other_child"  # not a harm category
    with pytest.raises(ValidationError):
        DangerFile.model_validate({**raw, "categories": cats})
    cats = {k: dict(v) for k, v in raw["categories"].items()}
    cats["neglect"]["self_cues"] = ["em bị"]  # only other_child has them
    with pytest.raises(ValidationError):
        DangerFile.model_validate({**raw, "categories": cats})


def test_without_rules_file_order_decides() -> None:
    raw = yaml.safe_load((Path(__file__).parent.parent / "knowledge" / "danger.yaml").read_text())
    bare = Triage(DangerFile.model_validate({**raw, "precedence": []}), NORMALISER)
    text = "mẹ nghiện, bỏ em với em bé mấy hôm chưa về, em bé khóc vì đói"
    match = bare.assess(NORMALISER(text))
    assert match is not None and match.category == "kidnapping"


@pytest.mark.parametrize(
    "wording", ["em muon chettt", "em muon cht", "bố ddanhs em", "em muon tu tu", "cứu em với"]
)
def test_long_filler_does_not_change_the_decision(wording: str) -> None:
    # typos, Telex leftovers and run-together words are still read deep inside a long message
    alone = assess(wording)
    assert alone is not None
    filler = " ".join(["hôm nay em đi học vui lắm"] * 300)
    inside = assess(f"{filler} {wording} {filler}")
    assert inside is not None
    assert inside.category == alone.category
