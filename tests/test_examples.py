"""Extra example questions (knowledge/examples/): validated with file:line, learned by the ranker,
and out-of-scope examples teach it to say "not mine"."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from bot.core.knowledge import KnowledgeError, load_knowledge
from bot.core.matching import Ranker, Thresholds, band
from bot.core.text import Lexicon, Normaliser

BUNDLED = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def normalise() -> Normaliser:
    data = yaml.safe_load((BUNDLED / "lexicon.yaml").read_text(encoding="utf-8"))
    return Normaliser(Lexicon(**data))


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(BUNDLED, target)
    return target


def write_examples(kb_dir: Path, text: str) -> None:
    folder = kb_dir / "examples"
    folder.mkdir(exist_ok=True)
    (folder / "zz-thu.yaml").write_text(text, encoding="utf-8")


def test_examples_load_under_their_entry(kb_dir: Path) -> None:
    write_examples(kb_dir, "questions:\n  tong-dai-111:\n    - so bao ve tre em la so may\n"
                           "out_of_scope:\n  - tong dai dien luc so may\n")
    kb = load_knowledge(kb_dir)
    assert "so bao ve tre em la so may" in kb.examples.questions["tong-dai-111"]
    assert "tong dai dien luc so may" in kb.out_of_scope


def test_an_unknown_entry_id_is_named_with_file_and_line(kb_dir: Path) -> None:
    write_examples(kb_dir, "questions:\n  tong-dai-111:\n    - so may\n  tong-dai-112:\n"
                           "    - cau nay sai muc\n")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_dir)
    [issue] = info.value.issues
    assert "zz-thu.yaml:4:" in issue and "'tong-dai-112'" in issue


def test_a_wrong_shape_is_named_with_file_and_line(kb_dir: Path) -> None:
    write_examples(kb_dir, "questions:\n  tong-dai-111: so may\n")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_dir)
    assert any("zz-thu.yaml:2:" in issue for issue in info.value.issues)


def _entries() -> list[SimpleNamespace]:
    return [
        SimpleNamespace(id="tong-dai", title="Tổng đài 111", keywords=[], questions=[
            "tổng đài 111 là gì", "số điện thoại tổng đài bảo vệ trẻ em",
            "gọi 111 có mất tiền không"]),
        SimpleNamespace(id="bat-nat", title="Bị bắt nạt ở trường", keywords=[], questions=[
            "bị bạn bắt nạt ở trường thì làm gì", "bạn cùng lớp trêu chọc đánh em",
            "làm sao để không bị bắt nạt"]),
        SimpleNamespace(id="mang", title="An toàn trên mạng", keywords=[], questions=[
            "người lạ trên mạng xin ảnh", "làm sao an toàn khi chơi game online",
            "bị dọa tung ảnh trên facebook"]),
    ]


def test_examples_teach_the_ranker_a_wording_no_question_has(normalise: Normaliser) -> None:
    message = normalise("ai là người nghe máy, có phải chú công an không")
    plain = Ranker(_entries(), normalise)
    taught = Ranker(_entries(), normalise, examples={"tong-dai": [
        "ai nghe máy khi em gọi", "người nghe máy là công an hay ai", "chú công an có nghe không"]})
    before, after = plain.search(message), taught.search(message)
    assert after[0].entry_id == "tong-dai"
    assert after[0].score > (before[0].score if before[0].entry_id == "tong-dai" else 0) + 5


def test_out_of_scope_examples_turn_a_confident_answer_into_not_mine(
    normalise: Normaliser,
) -> None:
    message = normalise("tổng đài điện lực số mấy")
    plain = Ranker(_entries(), normalise)
    taught = Ranker(_entries(), normalise, out_of_scope=[
        "tổng đài điện lực là số nào", "số điện thoại điện lực miền bắc", "báo mất điện gọi số nào",
        "tổng đài nhà mạng viettel", "số cứu hộ đường cao tốc", "giá vé tàu cho trẻ em"])
    before, after = plain.search(message), taught.search(message)
    assert after[0].score < before[0].score - 10
    assert band(after[0].score, Thresholds()) != "answer"
    # A real question keeps its answer.
    real = taught.search(normalise("số điện thoại tổng đài bảo vệ trẻ em là gì"))
    assert real[0].entry_id == "tong-dai" and band(real[0].score, Thresholds()) == "answer"
