"""Redaction on the privacy set (written for CI by an independent author) and on what staff wrote.

The sealed set (tests/data/sealed/privacy.yaml) is measured by bench/privacy.py only, never here.
"""

from __future__ import annotations

import gc
import re
from pathlib import Path

import pytest
import yaml

from bot.core.knowledge import KnowledgeError, load_knowledge
from bot.privacy import Redactor
from bot.privacy.audit import LeakAuditor

ROOT = Path(__file__).resolve().parent.parent
DEV_SET = yaml.safe_load((ROOT / "tests/data/privacy/dev.yaml").read_text(encoding="utf-8"))
# Later authors' sets (rounds 8, 9, 16, 17, 24, 26, 27 and 28), measured as delivered and then
# tuned on: a floor, not 100 %.
LATER_SETS = ("round8_fresh.yaml", "round9_a.yaml", "round9_b.yaml", "round16_mekong.yaml",
              "round17_quang-nam.yaml", "round24_tay-nguyen-ha-noi.yaml",
              "round26_mien-trung-mien-tay.yaml", "round27_mien-nui-phia-bac.yaml",
              "round28_saigon-binh-duong.yaml")
# share of messages with any leak: 10 of 350 (2.9 %) on 2026-12-07 before round 24, 21 of 395
# (5.3 %) with it, 24 of 440 (5.5 %) with round 26, 34 of 485 (7.0 %) with round 27 (its
# lower-case minority names and unaccented hamlets: 10 of 45), 46 of 530 (8.7 %) with round 28
# (12 of 45, most of it words such as "hẻm", "phòng trọ" that the audit counts)
LATER_MOST_LEAKY = 0.09


@pytest.fixture(scope="module")
def kb():
    return load_knowledge(ROOT / "knowledge")


@pytest.fixture(scope="module")
def redactor(kb) -> Redactor:
    return Redactor(kb.privacy, kb.redaction_vocabulary())


@pytest.fixture(scope="module")
def auditor(kb, redactor) -> LeakAuditor:
    return LeakAuditor(redactor, kb.vocabulary())


def test_the_set_is_big_and_varied():
    forms = {form for item in DEV_SET for form in item.get("forms", [])}
    assert len(DEV_SET) >= 150
    assert len(forms) >= 20


@pytest.mark.parametrize("item", DEV_SET, ids=lambda item: item["text"][:40])
def test_no_piece_of_personal_data_survives(item, redactor, auditor):
    out = redactor.redact(item["text"])
    leaks = {secret: found for secret in item["secrets"] if (found := auditor.leaks(secret, out))}
    assert not leaks, out


def test_later_authors_messages_rarely_leak(redactor, auditor):
    """Ethnic-minority names, villages, workplaces, names with no cue, from authors who
    wrote before seeing the project: at most LATER_MOST_LEAKY of their messages leak."""
    items = [item for name in LATER_SETS for item in yaml.safe_load(
        (ROOT / "tests/data/privacy" / name).read_text(encoding="utf-8"))]
    leaky = [out for item in items if any(
        auditor.leaks(secret, out := redactor.redact(item["text"])) for secret in item["secrets"])]
    assert len(items) >= 300
    assert len(leaky) / len(items) <= LATER_MOST_LEAKY, leaky


def test_staff_questions_keep_nearly_all_their_words(kb, redactor):
    """Over-inclusive, not blind: at most 5 % of the words of the entries' own questions go."""
    words = masked = 0
    for entry in kb.entries.values():
        for question in entry.questions:
            before = re.findall(r"\w+", redactor.prepare(question))
            after = set(re.findall(r"\w+", redactor.redact(question)))
            words += len(before)
            masked += sum(1 for w in before if w not in after)
    assert masked / words <= 0.05


def test_the_auditor_sees_a_leak_when_there_is_one(auditor):
    """The leak check itself can fail: raw text and half-masked numbers are caught."""
    assert auditor.leaks("0912 345 678", "gọi 0912345678 nhé")
    assert auditor.leaks("0912 345 678", "gọi 0 9 1 2 3 [SỐ]")
    assert auditor.leaks("Nguyễn Văn An", "chú Văn An đánh em")
    assert not auditor.leaks("Nguyễn Văn An", "chú [TÊN] đánh em")


def test_invisible_characters_and_lookalike_letters_do_not_hide_data(redactor):
    hidden = "\u200b".join("0912345678")
    assert redactor.redact(f"sđt {hidden}") == "sđt [SĐT]"
    assert "0912" not in redactor.redact("sđt О912345678")  # Cyrillic O
    assert redactor.redact("gọi 111 hoặc 18001567") == "gọi 111 hoặc 18001567"


def test_long_hostile_input_is_redacted_quickly(redactor):
    out = redactor.redact("a.a.a " * 4000 + "0912345678")
    assert "0912345678" not in out


def test_a_broken_privacy_list_is_a_plain_error_with_file_and_line(tmp_path):
    import shutil

    shutil.copytree(ROOT / "knowledge", tmp_path / "kb")
    path = tmp_path / "kb" / "privacy.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('  hai: "2"', '  hai: "22"'), encoding="utf-8"
    )
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(tmp_path / "kb")
    assert any("privacy.yaml:" in issue and "digit_words" in issue for issue in info.value.issues)


def test_no_message_words_stay_in_process_memory(kb):
    """After answering, no long-lived object holds the user's words (caches keyed by digest or
    by knowledge-base vocabulary only)."""
    from bot.core.responder import Responder

    responder = Responder(kb)
    for audience in (None, "child", "parent"):
        responder.respond("em tên Xyzquoc, nhà ở ngõ Qwvuthanh, sđt 0987123456", audience)
    gc.collect()
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, dict):
            items = [*obj.keys(), *obj.values()]
        elif isinstance(obj, (list, tuple, set, frozenset)):
            items = list(obj)
        else:
            continue
        for item in items:
            if isinstance(item, str) and ("xyzquoc" in item.lower() or "qwvuthanh" in item.lower()):
                found.append(type(obj).__name__)
                break
    # This test's own frames hold the literal; anything beyond that is a cache.
    assert found.count("dict") + found.count("set") == 0, found


def test_privacy_text_tells_users_the_configured_retention(kb):
    """Users read the real number of days their data is kept, not "một thời gian"."""
    text = kb.ui.privacy_for(90)
    assert "90 ngày" in text and "{" not in text
    assert "một thời gian" not in text
