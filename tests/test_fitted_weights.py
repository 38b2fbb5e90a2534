"""Fitted weights fitted in a child process and kept on disk give the very replies of weights
fitted in this process (issue 12: `python -m bot run` never imports scikit-learn)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import KNOWLEDGE, TESTS

from bot.core import fitting, keptfolds
from bot.core.knowledge import load_knowledge
from bot.core.matching import classifier, ranker
from bot.core.responder import Responder
from bot.core.triage import model
from bot.fitstore import DiskWeights, fit_in_child

KB = load_knowledge(KNOWLEDGE)


def _messages() -> list[str]:
    """Every bundled message: test sets, triage examples, entries' questions."""
    texts: list[str] = []
    for path in sorted((TESTS / "data").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        items = doc if isinstance(doc, list) else [
            item for value in doc.values() if isinstance(value, list) for item in value
        ]
        texts += [i["text"] if isinstance(i, dict) else i for i in items
                  if isinstance(i, str) or (isinstance(i, dict) and "text" in i)]
    for examples in KB.triage_examples:
        texts += [e.text for e in [*examples.urgent, *examples.unclear]]
        texts += [*examples.lookalike, *examples.question, *examples.out_of_scope]
    texts += [q for entry in KB.entries.values() for q in entry.questions]
    return texts


MESSAGES = _messages()


def _forget_fitted() -> None:
    """Forget the weights this process already holds (tests share one process)."""
    model._TRAINED.clear()
    classifier._memo.clear()
    ranker._built.clear()


@pytest.fixture
def fresh() -> Iterator[None]:
    _forget_fitted()
    yield
    fitting.configure()
    _forget_fitted()


def _never_fit(fit: Any, args: tuple[Any, ...]) -> Any:
    raise AssertionError(f"{fit.__name__} ran: the weights should have come from the disk")


def _figures(
    responder: Responder, messages: list[str] = MESSAGES
) -> list[tuple[float, str, str, list[tuple[str, float]]]]:
    figures = []
    for text in messages:
        message = responder.normalise(text)
        danger, kind = responder.model.scores(responder.tiering.model_text(message))
        hits = responder.matcher.search(message, 3)
        figures.append((danger, kind, responder.model.tier(danger),
                        [(h.entry_id, h.score) for h in hits]))
    return figures


def _assert_same(ours: list, reference: list, messages: list[str] = MESSAGES) -> None:
    assert len(ours) == len(reference) == len(messages)
    for text, mine, theirs in zip(messages, ours, reference, strict=True):
        assert abs(mine[0] - theirs[0]) <= 1e-9, text
        assert mine[1:] == theirs[1:], text


def test_child_fitted_and_stored_weights_give_the_same_triage_and_matches(
    fresh: None, tmp_path: Path
) -> None:
    assert len(MESSAGES) > 3000
    in_process = _figures(Responder(KB))  # scikit-learn in this process, nothing kept

    _forget_fitted()
    fitting.configure(DiskWeights(tmp_path), fit_in_child)
    cold = Responder(KB)  # a cache miss: fitted in a child process, then kept on disk
    kept = sorted(p.name.split("-")[0] + p.suffix for p in tmp_path.iterdir())
    assert kept == ["ranker.json", "ranker.npz", "rankertexts.json", "rankertexts.npz",
                    "triage.json", "triage.npz", "triagetexts.json", "triagetexts.npz"]
    _assert_same(_figures(cold), in_process)

    _forget_fitted()
    fitting.configure(DiskWeights(tmp_path), _never_fit)
    warm = Responder(KB)  # a restart with the same knowledge: read from the disk
    _assert_same(_figures(warm), in_process)
    assert warm.respond("chu hang xom so vao cho kin cua em").urgent


def test_a_damaged_weights_file_is_fitted_again_not_a_crash(fresh: None, tmp_path: Path) -> None:
    sample = MESSAGES[::20]
    fitting.configure(DiskWeights(tmp_path))
    first = _figures(Responder(KB), sample)
    for path in tmp_path.glob("triage-*.npz"):
        path.write_bytes(b"not a zip file")
    _forget_fitted()
    again = Responder(KB)
    _assert_same(_figures(again, sample), first, sample)
    fitting.configure(DiskWeights(tmp_path), _never_fit)
    _forget_fitted()
    Responder(KB)  # the refit was written back whole


def test_a_changed_knowledge_base_gets_weights_of_its_own(fresh: None, tmp_path: Path) -> None:
    fitting.configure(DiskWeights(tmp_path))
    Responder(KB)
    examples = KB.triage_examples[0].model_copy(deep=True)
    examples.question.append("con tôi hay hỏi cách trồng cây cà chua trên ban công")
    changed = dataclasses.replace(KB, triage_examples=[examples, *KB.triage_examples[1:]])
    Responder(changed)
    assert len(list(tmp_path.glob("triage-*.json"))) == 2  # a new digest, a new fit
    assert len(list(tmp_path.glob("ranker-*.json"))) == 1  # entries unchanged: reused


def test_a_change_to_knowledge_examples_builds_the_ranker_again(
    fresh: None, tmp_path: Path
) -> None:
    """knowledge/examples/ are training data of the ranker (indexed questions, the "none"
    class): an edit there must not reuse the weights kept for the old files."""
    fitting.configure(DiskWeights(tmp_path))
    Responder(KB)
    entry_id, questions = next(iter(KB.examples.questions.items()))
    asked = dataclasses.replace(KB.examples, questions={
        **KB.examples.questions, entry_id: [*questions, "cho em hỏi thêm về chuyện này với ạ"]
    })
    Responder(dataclasses.replace(KB, examples=asked))
    assert len(list(tmp_path.glob("ranker-*.json"))) == 2  # a new example question: rebuilt
    not_ours = dataclasses.replace(
        KB.examples, out_of_scope=[*KB.examples.out_of_scope, "giá vé xe khách đi Đà Lạt bao nhiêu"]
    )
    Responder(dataclasses.replace(KB, examples=not_ours))
    assert len(list(tmp_path.glob("ranker-*.json"))) == 3  # a new out-of-scope message too

    _forget_fitted()
    fitting.configure(DiskWeights(tmp_path), _never_fit)
    warm = Responder(KB)  # the stored index keeps the "none" class after the entries
    fitted = warm.matcher._classifier.weights
    assert fitted is not None and fitted.intercept.size == len(KB.entries) + 1
    assert warm.respond("tổng đài điện lực số mấy").band == "fallback"


def test_a_restart_reads_the_folded_examples_instead_of_folding_them_again(
    fresh: None, tmp_path: Path
) -> None:
    """Folding the ~5,000 triage examples is about a second of every start: kept on disk, and
    folded again only when the examples, the lexicon (fold_key) or the folding code change."""
    fitting.configure(DiskWeights(tmp_path))
    texts = ["Bố đánh em\nđau quá", "tổng đài 111", "", "e bi ban bat nat tren lop"]
    normalise = Responder(KB).normalise

    def fold(text: str) -> str:
        return normalise(text).folded

    def folded(texts: list[str], fold: Callable[[str], str], key: str) -> list[str]:
        return keptfolds.folded_texts("triagetexts", texts, fold, key)

    first = folded(texts, fold, "lexicon-1")
    assert first == [fold(t) for t in texts] and first[1] == "tong dai 111"

    def refuse(text: str) -> str:
        raise AssertionError("folded again although the folded examples were kept")

    assert folded(texts, refuse, "lexicon-1") == first
    assert folded(texts, str.upper, "lexicon-2") == [t.upper() for t in texts]
    assert folded([*texts, "thêm một câu"], str.upper, "lexicon-1")[-1] == "THÊM MỘT CÂU"


def test_packed_n_grams_read_a_slice_at_a_time_are_the_strings_that_were_packed() -> None:
    # more than one slice, multi-byte letters across slice edges, one-letter strings
    texts = [f"ả{i}ư" * (i % 7 + 1) for i in range(40_000)] + ["x", "đ"]
    packed = fitting.pack_texts(texts)
    assert packed.size > 4 * fitting.PackedTexts.SLICE_BYTES
    assert list(fitting.PackedTexts(packed, len(texts))) == texts
    assert list(fitting.PackedTexts(fitting.pack_texts([]), 0)) == []
    assert list(fitting.PackedTexts(fitting.pack_texts([""]), 1)) == [""]
    with pytest.raises(ValueError):  # a damaged store is refused when read, as before
        fitting.PackedTexts(packed, len(texts) + 1)
