"""The bot's own n-gram analyzers and row norm are scikit-learn's, n-gram for n-gram and bit for bit
(issue 12): the bot process applies fitted weights without importing scikit-learn, so a
difference here would silently change triage and matching scores."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import KNOWLEDGE
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from bot.core.knowledge import load_knowledge
from bot.core.matching.features import char_feature, hashed, hashed_counts, l2_rows
from bot.core.ngrams import WORD_PATTERN, WordGramHashes, char_wb_grams, word_grams
from bot.core.text import Normaliser

KB = load_knowledge(KNOWLEDGE)
NORMALISE = Normaliser(KB.lexicon)


def _texts() -> list[str]:
    texts = [t for entry in KB.entries.values() for t in [*entry.questions, entry.title]]
    for examples in KB.triage_examples:
        texts += [e.text for e in [*examples.urgent, *examples.unclear]]
        texts += [*examples.lookalike, *examples.question, *examples.out_of_scope]
    texts += [text for text, _ in KB.danger.examples()]
    # the tricky shapes: runs of spaces, tabs, one-letter words, capitals, digits, punctuation
    texts += ["  A  b\t\tcd  ", "x", "", "Ô TÔ 1-2 ,, đi!!", "a\nb c\u00a0d", "teen_code vs 2ce"]
    return texts + [NORMALISE(t).folded for t in texts]


TEXTS = _texts()


@pytest.mark.parametrize("lowercase", [True, False])
def test_char_and_word_ngrams_are_scikit_learns_on_every_knowledge_text(lowercase: bool) -> None:
    assert len(TEXTS) > 2000  # the whole knowledge base, raw and folded
    theirs_chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), lowercase=lowercase
    ).build_analyzer()
    theirs_words = HashingVectorizer(
        analyzer="word", ngram_range=(1, 2), token_pattern=WORD_PATTERN, lowercase=lowercase
    ).build_analyzer()
    ours_chars = char_wb_grams(2, 5, lowercase=lowercase)
    ours_words = word_grams(1, 2, lowercase=lowercase)
    for text in TEXTS:
        assert ours_chars(text) == theirs_chars(text), text
        assert ours_words(text) == theirs_words(text), text


def test_row_norm_is_scikit_learns_bit_for_bit_on_the_knowledge_base() -> None:
    folded = [NORMALISE(t).folded for e in KB.entries.values() for t in [*e.questions, e.title]]
    rows = hashed_counts([*folded, ""])  # an empty row stays empty
    rows.data = rows.data * np.linspace(0.5, 3.0, rows.nnz, dtype=np.float32)
    theirs = normalize(rows).astype(np.float32)
    ours = l2_rows(rows.astype(np.float32))
    assert ours.nnz == theirs.nnz > 10_000
    assert np.array_equal(ours.indptr, theirs.indptr)
    assert np.array_equal(ours.indices, theirs.indices)
    assert np.array_equal(ours.data, theirs.data)  # exact: the index keeps float16 of these


def test_hashes_worked_out_by_word_are_the_hashes_of_the_ngrams_known_word_or_not() -> None:
    # the table knows the words of every other text: the rest are new to it, like a child's
    known = WordGramHashes((w for t in TEXTS[::2] for w in t.split()), 2, 5, hash)
    grams = char_wb_grams(2, 5, lowercase=False)
    odd = ["z\u0335a\u0337lgo", "\U0001f600\U0001f600", "x" * 3000, "Ж 中文 mixed"]
    for text in [*TEXTS, *odd]:
        assert known(text).tolist() == [hash(g) for g in grams(text)], text


def test_the_rankers_features_are_the_same_with_the_words_hashes_kept() -> None:
    kept = WordGramHashes((w for t in TEXTS[::3] for w in t.split()), 2, 5, char_feature)
    for text in TEXTS:
        plain, plain_counts = hashed(text)
        features, counts = hashed(text, kept)
        assert features.tolist() == plain.tolist(), text
        assert counts.tolist() == plain_counts.tolist(), text
