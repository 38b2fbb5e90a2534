"""Redaction v2: personal data out of every text the bot keeps or shows staff.

The text is prepared (NFKC, invisible characters removed, look-alike letters mapped to Latin);
that copy is what is redacted and kept. On its tokens: shapes (e-mails, links, handles, dates,
plates), digit runs (digits, digit words, look-alikes: "không chín một hai...", "O912..."),
tokens in other scripts, and context rules from `knowledge/privacy.yaml` (name triggers,
surnames, address terms, places, schools, ids). Deliberately over-inclusive: a wrong mask costs
a word of a report, a leak can cost a child."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from bot.privacy.lists import PrivacyLists, fold_word
from bot.privacy.namelists import mask_listed_names
from bot.privacy.numbers import NumberRules
from bot.privacy.patterns import SHAPES
from bot.privacy.places import extend_addresses
from bot.privacy.tokens import (
    TOKEN_RE,
    Tok,
    Words,
    fold_char,
    label_span,
    latin,
    render,
    slashed_number_before,
    word_matches,
)

NAME = "[TÊN]"
ADDRESS = "[ĐỊA CHỈ]"
SCHOOL = "[TRƯỜNG]"
CODE = "[MÃ]"
DATE_TOKEN = "[NGÀY]"

_HANDLE_JOINERS = set("._-")
_CLASS_CODE_RE = re.compile(r"^\d{1,2}[a-z]\d{0,2}$|^[a-z]\d{1,2}$")
_MAX_CHARS = 20_000
# Zero-width, joiners, soft hyphen, bidi controls, variation selectors, BOM, word joiners.
_INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u20e3\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)


class Redactor:
    """Replaces personal data with tokens such as [SĐT], [TÊN], [ĐỊA CHỈ]; see module doc."""

    def __init__(self, lists: PrivacyLists, vocabulary: Iterable[str] = ()) -> None:
        self.lists = lists
        self._letters = str.maketrans(lists.lookalike_letters)
        self._surnames = Words(lists.surnames)
        self._given = Words(lists.given_names)
        self._address = Words(lists.address_terms)
        self._stop = Words(lists.stop_words)
        # compared as typed: an unaccented word counts only if the list has it unaccented
        self._villages = frozenset(phrase.split()[-1] for phrase in lists.village_words)
        self._time_words = frozenset(fold_word(w) for w in lists.time_words)
        self._acronyms = Words(lists.acronyms)
        self._speech = Words(lists.speech_verbs)
        self._prefixes = frozenset(fold_word(w) for w in lists.name_prefixes)
        self._public = set(lists.public_numbers)
        self._numbers = NumberRules(lists)
        self._number_words = frozenset(lists.digit_words) | frozenset(
            fold_word(w) for w in lists.number_words
        )
        vocab: set[str] = set()
        bigrams: set[tuple[str, str]] = set()
        typed: set[str] = set()
        for text in vocabulary:
            found = re.findall(r"[^\W\d_]+", text)
            typed.update(w.lower() for w in found)
            words = [fold_word(w) for w in found]
            vocab.update(words)
            bigrams.update(zip(words, words[1:], strict=False))
        self._vocab = frozenset(vocab - self._given.folded - self._surnames.folded)
        # Every known word as written, names included ("Trường", "Điều"): what a capital at a
        # sentence's start may be without being a name
        self._common = Words(typed)
        self._bigrams = frozenset(bigrams)
        self._phrases: dict[str, list[tuple[tuple[tuple[str, str], ...], str]]] = {}
        for kind, phrases in (
            ("name", lists.name_triggers),
            ("school", lists.school_words),
            ("place", [*lists.place_words, *lists.village_words]),
            ("landmark", lists.landmark_words),
            ("date", lists.date_triggers),
            ("id", lists.id_triggers),
        ):
            for phrase in phrases:
                pairs = tuple((w, fold_word(w)) for w in TOKEN_RE.findall(phrase))
                self._phrases.setdefault(pairs[0][1], []).append((pairs, kind))
        for candidates in self._phrases.values():
            candidates.sort(key=lambda item: -len(item[0]))  # longest phrase wins

    # --- preparation ------------------------------------------------------------------------
    def prepare(self, text: str) -> str:
        """NFKC, invisible characters removed, look-alike letters mapped: the text we keep."""
        return self._prepare(text)[0]

    def _prepare(self, text: str) -> tuple[str, list[int]]:
        text = unicodedata.normalize("NFKC", text[:_MAX_CHARS])
        text = unicodedata.normalize("NFC", _INVISIBLE_RE.sub("", text))
        mapped = [i for i, c in enumerate(text) if c in self.lists.lookalike_letters]
        return text.translate(self._letters), mapped

    # --- public -----------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        """The prepared text with every piece of personal data replaced by a token."""
        text, mapped = self._prepare(text or "")
        folded = "".join(fold_char(c) for c in text)
        toks = [Tok(m) for m in TOKEN_RE.finditer(text)]
        labels: list[str | None] = [None] * len(toks)
        for index in mapped:  # "Нguyễn" typed with a Cyrillic letter: a disguised word
            label_span(toks, labels, index, index + 1, NAME)
        for pattern, label in SHAPES:
            for match in pattern.finditer(folded):
                label_span(toks, labels, match.start(), match.end(), label)
        self._numbers.label(toks, labels)
        self._codes_and_scripts(toks, labels)
        self._spelled_out(toks, labels)
        self._contexts(toks, labels)
        extend_addresses(toks, labels, ADDRESS, CODE, self._stop, self._address)
        self._free_names(toks, labels)
        self._cued_names(toks, labels)
        mask_listed_names(toks, labels, self._starts_name, NAME)
        return render(text, toks, labels)

    # --- rules ------------------------------------------------------------------------------
    def _codes_and_scripts(self, toks: list[Tok], labels: list[str | None]) -> None:
        for k, tok in enumerate(toks):
            if labels[k] or not tok.word:
                continue
            if tok.text.isalpha():  # letters only: no code, no user_name; maybe another script
                if not tok.text.isascii() and not all(map(latin, tok.text)):
                    labels[k] = NAME
                continue
            digits = sum(c.isdigit() for c in tok.text)
            letters = sum(c.isalpha() for c in tok.text)
            # passports, plates, handles with numbers ("taolaosu88"), class codes
            if (digits >= 3 and letters) or (digits >= 2 and letters >= 4):
                labels[k] = CODE
            elif "_" in tok.text.strip("_"):
                labels[k] = NAME  # user_names
            elif any(c.isalpha() and not latin(c) for c in tok.text):
                labels[k] = NAME  # a name written in another script

    def _class_name(self, toks: list[Tok], labels: list[str | None], k: int) -> None:
        """"lớp 7A", "lớp Chồi 2", "lớp 11 chuyên Anh": a class that names a group of pupils;
        a bare grade ("lớp 7") stays, it says only an age."""
        end = k
        named = False
        while end < len(toks) and end - k < 3 and toks[end].word and (
            toks[end].text[0].isdigit() or toks[end].cap or toks[end] not in self._stop
        ):
            named = named or toks[end].cap or bool(_CLASS_CODE_RE.match(toks[end].folded))
            end += 1
        if named:
            label_span(toks, labels, toks[k].start, toks[end - 1].end, CODE)

    def _spelled_out(self, toks: list[Tok], labels: list[str | None]) -> None:
        """"T r ư ơ n g", "N.g.u.y.e.n", "h o a n g . m y": a word written letter by letter."""
        k = 0
        while k < len(toks):
            j = k
            singles = 0
            while j < len(toks) and (
                (toks[j].word and len(toks[j].text) == 1)
                or (toks[j].text in "._-@" and singles and j + 1 < len(toks))
            ):
                singles += toks[j].word
                j += 1
            if singles >= 4:
                label_span(toks, labels, toks[k].start, toks[j - 1].end, NAME)
            k = max(j, k + 1)

    def _match_phrase(self, toks: list[Tok], k: int) -> tuple[int, str] | None:
        for words, kind in self._phrases.get(toks[k].folded, ()):
            end = k + len(words)
            if end <= len(toks) and all(
                word_matches(toks[k + n], w, f) for n, (w, f) in enumerate(words)
            ):
                return end, kind
        return None

    def _name_like(
        self, toks: list[Tok], k: int, strict: bool = False, in_run: bool = False
    ) -> bool:
        """Could token k be (part of) a name? Capitalised, a known name, or no common word.

        Inside a name ("tên là bảo ngân", "nguyen van an") a known given name wins over the
        common word it folds to ("bảo", "vẫn")."""
        tok = toks[k]
        if not tok.word or tok.text.isdigit():
            return False
        if in_run and (tok in self._given or tok in self._surnames):
            return True
        if (in_run and tok.cap and tok.lower not in self._stop.accented
                and tok not in self._acronyms):
            # "thôn Vy Da": a capital goes on with the name, common word or not (a stop word
            # only as written: "Da" is not "đã")
            return True
        nxt = toks[k + 1].folded if k + 1 < len(toks) else ""
        if (tok.folded, nxt) in self._bigrams and tok not in self._surnames:
            return tok.cap and not strict and tok.folded not in self._vocab
        if tok in self._stop and not tok.cap:
            return False
        if tok.cap and tok not in self._acronyms:
            return True
        if tok in self._given or tok in self._surnames:
            return True
        return not strict and tok.folded not in self._vocab and tok not in self._stop

    def _mask_run(
        self, toks: list[Tok], labels: list[str | None], k: int, label: str, most: int,
        *, any_word: bool = False,
    ) -> int:
        """Mask up to `most` name-like tokens from k (handles joined by . _ - stay whole)."""
        first = k
        count = 0
        while k < len(toks) and count < most:
            tok = toks[k]
            joined = (
                (tok.text in _HANDLE_JOINERS or (tok.text == "/" and label == ADDRESS))
                and k > first
                and k + 1 < len(toks)
                and toks[k - 1].end == tok.start == toks[k + 1].start - 1
            )
            if joined:
                k += 1
                continue
            takes = tok.word and (
                tok.text[0].isdigit()
                or self._name_like(toks, k, in_run=True)
                or (any_word and tok not in self._stop)
            )
            if not takes:
                break
            count += 1
            k += 1
        if k > first:
            label_span(toks, labels, toks[first].start, toks[k - 1].end, label)
        return k

    def _contexts(self, toks: list[Tok], labels: list[str | None]) -> None:
        k = 0
        while k < len(toks):
            tok = toks[k]
            if tok.lower in _SELF_CUES and k > 0 and toks[k - 1].folded in _SELF:
                k = max(k + 1, self._mask_run(toks, labels, k + 1, NAME, 4))
                continue
            phrase = self._match_phrase(toks, k)
            if phrase:
                start, (end, kind) = k, phrase
                j = slashed_number_before(toks, start, self._time_words)
                if kind == "place" and j < start:
                    label_span(toks, labels, toks[j].start, toks[start - 1].end, ADDRESS)
                k = self._after_phrase(toks, labels, end, kind)
                if self._place_goes_too(toks, labels, start, end, kind):
                    label_span(toks, labels, tok.start, toks[end - 1].end, ADDRESS)
                continue
            if tok in self._surnames and k + 1 < len(toks) and toks[k + 1].word:
                nxt = toks[k + 1]
                if (nxt.cap or nxt in self._given) and (
                    tok.folded,
                    nxt.folded,
                ) not in self._bigrams or (tok.cap and nxt.cap):
                    k = max(k + 1, self._mask_run(toks, labels, k, NAME, 4))
                    continue
            if tok in self._address and k + 1 < len(toks) and (
                self._name_like(toks, k + 1, strict=not toks[k + 1].cap)
                or (toks[k + 1].plain and toks[k + 1] in self._given)
            ):
                k = self._mask_run(toks, labels, k + 1, NAME, 3)
                continue
            if tok.lower in ("lớp", "lop", "class") and k + 1 < len(toks):
                self._class_name(toks, labels, k + 1)
            k += 1

    def _place_goes_too(
        self, toks: list[Tok], labels: list[str | None], start: int, end: int, kind: str
    ) -> bool:
        """Whether the place words toks[start:end], now followed by a masked name, are masked
        with it: a workplace or landmark before a capitalised name ("lò gạch Tư Hùng": the
        kind of place still narrows a village down to one family's business), and a place
        word between two masks ("[TÊN] toa [ĐỊA CHỈ]": part of one address)."""
        if end >= len(toks) or labels[end] != ADDRESS:
            return False
        if kind == "landmark":
            run = end
            while run < len(toks) and labels[run] == ADDRESS and not toks[run].cap:
                run += 1
            named = run < len(toks) and labels[run] == ADDRESS
            return named and (end - start > 1 or not toks[start].plain)
        return kind == "place" and start > 0 and labels[start - 1] in (NAME, ADDRESS)

    def _village_name(self, toks: list[Tok], k: int) -> bool:
        """After "thôn", "ấp", "xã"... the lower-case words that follow are the village's name
        even when each is a common word ("thôn phú thạnh", "ap ca dua"), unless the two make
        a common phrase ("xã hội", "ap luc") or the next word is a stop word ("xã này")."""
        tok, before = toks[k], toks[k - 1]
        return (
            before.lower in self._villages and tok.word and not tok.cap
            and tok not in self._stop and (before.folded, tok.folded) not in self._bigrams
        )

    def _after_phrase(self, toks: list[Tok], labels: list[str | None], k: int, kind: str) -> int:
        # Skip connectors: "tên zalo của nó là: ..."
        skipped = 0
        while k < len(toks) and skipped < 6:
            tok = toks[k]
            if (tok.folded in _CONNECTORS or tok.text in ":-=\'\"“”‘’«»") and not tok.cap:
                k += 1
            elif kind == "name" and (again := self._match_phrase(toks, k)) and again[1] == "name":
                k = again[0]  # "nick zalo", "tên fb"
            else:
                break
            skipped += 1
        if k >= len(toks):
            return k
        if kind == "name":
            return self._mask_run(toks, labels, k, NAME, 5, any_word=True)
        if kind == "school":
            nxt = self._match_phrase(toks, k)
            if nxt and nxt[1] == "school":
                return self._after_phrase(toks, labels, nxt[0], "school")
            if toks[k] in self._stop or (toks[k - 1].folded, toks[k].folded) in self._bigrams:
                return k
            return self._mask_run(toks, labels, k, SCHOOL, 4, any_word=True)
        if kind in ("place", "landmark"):
            nxt = self._match_phrase(toks, k)
            # "xóm trọ", "gần chợ": another place word; "xóm Bến", "thôn Chợ": a capital
            # starts the place's own name
            if nxt and nxt[1] in ("place", "landmark") and not toks[k].cap:
                return self._after_phrase(toks, labels, nxt[0], nxt[1])
            if toks[k].text in self._public:
                return k + 1  # "tổng đài số 111"
            if kind == "place" and self._village_name(toks, k):
                return self._mask_run(toks, labels, k, ADDRESS, 6, any_word=True)
            if toks[k].text[0].isdigit() or self._name_like(toks, k, strict=not toks[k].cap):
                return self._mask_run(toks, labels, k, ADDRESS, 6)
            if kind == "landmark" and not toks[k - 1].plain:
                # "mỏ thiếc Tĩnh Túc", "vườn cao su Phú Riềng": what is made or grown there,
                # then the place's name
                for name_at in range(k + 1, min(k + 3, len(toks))):
                    between = toks[name_at - 1]
                    if not between.word or between.cap or between in self._stop:
                        break
                    name = toks[name_at]
                    if name.cap and name.lower not in self._stop.accented:
                        label_span(toks, labels, toks[k].start, between.end, ADDRESS)
                        return self._mask_run(toks, labels, name_at, ADDRESS, 4)
            return k
        if kind == "date":
            if toks[k].text[0].isdigit() or toks[k].folded in self._number_words:
                end = k
                while end < len(toks) and end - k < 14 and (
                    toks[end].text[0].isdigit() or toks[end].folded in self._number_words
                    or toks[end].text in "/-.,"
                ):
                    end += 1
                label_span(toks, labels, toks[k].start, toks[end - 1].end, DATE_TOKEN)
                return end
            return k
        # id
        if toks[k].text[0].isdigit() or self._name_like(toks, k):
            return self._mask_run(toks, labels, k, CODE, 4)
        return k

    def _free_names(self, toks: list[Tok], labels: list[str | None]) -> None:
        """Capitalised words that are no common word (at a sentence's start too: "Páo đánh
        em"), SHOUTED unknown words, names with an apostrophe ("H'Yên", "y'bhin"), and a
        capitalised word just before a masked name ("Ksor [TÊN]")."""
        for k, tok in enumerate(toks):
            if labels[k] or not tok.word:
                continue
            if _APOSTROPHE_NAME_RE.match(tok.text):
                labels[k] = NAME
                continue
            if not tok.cap or any(c.isdigit() for c in tok.text):
                continue
            sentence_start = k == 0 or toks[k - 1].text in ".!?\n:;\"'(“‘"
            # a stop word as written ("Nhưng"), or as folded at a sentence's start; inside a
            # sentence a capital spelt otherwise is a name ("HS Y Nhung": not "nhưng")
            if tok in self._acronyms or tok.lower in self._stop.accented or (
                    sentence_start and tok in self._stop):
                continue
            known = tok.folded in self._vocab
            nxt = toks[k + 1].folded if k + 1 < len(toks) else ""
            # "Páo đánh em", "Hùng bảo em": an unknown word, or a given name that is also a
            # common word ("Bình", "Mai") unless the next word makes a known pair with it
            # ("Tổng đài", "Mai là")
            if (sentence_start and len(tok.text) > 1 and tok not in self._address
                    and (tok not in self._common or tok in self._given)
                    and (tok.folded, nxt) not in self._bigrams):
                labels[k] = NAME
                continue
            neighbour_caps = any(
                0 <= n < len(toks) and toks[n].word and toks[n].cap and not toks[n].upper
                for n in (k - 1, k + 1)
            )
            if neighbour_caps and (tok in self._given or tok in self._surnames):
                pair_known = any(
                    0 <= n < len(toks) - 1 and (toks[n].folded, toks[n + 1].folded) in self._bigrams
                    for n in (k - 1, k)
                )
                if not pair_known:
                    labels[k] = NAME
                    continue
            if k > 0 and labels[k - 1] == NAME and toks[k - 1].end + 1 == tok.start:
                labels[k] = NAME
                continue
            shouted = tok.upper and not known
            unknown_mid_sentence = not sentence_start and not known
            name_after_capital = (
                not sentence_start and tok in self._given and k > 0 and toks[k - 1].cap
            )
            if shouted or unknown_mid_sentence or name_after_capital:
                labels[k] = NAME
        for k in range(len(toks) - 2, -1, -1):
            tok = toks[k]
            if (labels[k] is None and labels[k + 1] == NAME and tok.word and tok.cap
                    and tok.end + 1 == toks[k + 1].start and tok not in self._stop
                    and tok not in self._acronyms and tok not in self._address):
                labels[k] = NAME

    def _cued_names(self, toks: list[Tok], labels: list[str | None]) -> None:
        """Names the words around them give away, in any case: a known given name (or a
        capitalised word) just before a speech verb ("Bình nói với em", "hôm nay lan bảo
        tao"), and an Ê Đê / Gia Rai prefix letter before a word no knowledge text uses
        ("h lim kbuor")."""
        accented: bool | None = None  # worked out only when a speech verb needs it
        for k in range(len(toks) - 1):
            tok, nxt = toks[k], toks[k + 1]
            if labels[k] or not tok.word or tok.text[0].isdigit():
                continue
            if (tok.folded in self._prefixes and tok.plain and len(tok.text) == 1
                    and nxt.word and not labels[k + 1] and nxt not in self._common
                    and nxt not in self._stop and not nxt.text[0].isdigit()
                    and any(_foreign_onset(t.folded) for t in toks[k + 1:k + 3] if t.word)):
                # "h lim kbuor", "y bhin": not "y chang", "y tá" (no Ê Đê / Jrai cluster)
                self._mask_run(toks, labels, k, NAME, 4, any_word=True)
                continue
            if not (nxt.word and nxt in self._speech and tok.end + 1 == nxt.start):
                continue
            if nxt.plain and not self._said_to(toks, k + 2):
                continue  # "hoc phi bao nhieu": without diacritics "bao" is also "bao nhiêu"
            if tok in self._stop or tok in self._address or tok in self._acronyms:
                continue
            if tok.cap:  # "Bình nói", "Páo bảo": a known name, or a word no text uses
                if not any(c.isdigit() for c in tok.text) and (
                        tok in self._given or tok not in self._common):
                    labels[k] = NAME
                continue
            # lower case: a given name that is no syllable of a known word ("tin nhắn",
            # "công an kể", "trung tâm" stay)
            prev = toks[k - 1].folded if k > 0 and toks[k - 1].word else ""
            if accented is None:
                # typed with diacritics: a bare "quan", "tin" is that word, not "quân", "tín"
                words = [t for t in toks if t.word and not t.text[0].isdigit()]
                accented = sum(not t.plain for t in words) * 5 >= len(words)
            given = (tok.folded in self._given.plain if accented and tok.plain
                     else tok in self._given)
            if (given and (prev, tok.folded) not in self._bigrams
                    and (tok.folded, nxt.folded) not in self._bigrams):
                labels[k] = NAME

    def _starts_name(self, tok: Tok) -> bool:
        """A list item's first word that makes it a name: a given or family name, typed with
        diacritics or a capital (without either, too many syllables are also some name)."""
        return ((tok.cap or not tok.plain) and tok not in self._address
                and (tok in self._given or tok in self._surnames))

    def _said_to(self, toks: list[Tok], k: int) -> bool:
        """Whether toks[k] goes on a speech verb typed without diacritics: "với", "là",
        "rằng" or a word for a person ("lan bao voi tao", "binh noi em")."""
        if k >= len(toks) or not toks[k].word:
            return False
        return toks[k].folded in _SAID_TO or toks[k] in self._address


# One letter, an apostrophe, a word: Ê Đê, Jrai and Bahnar names ("H'Yên", "Y'Bhin", "k'hen").
_APOSTROPHE_NAME_RE = re.compile(r"^[^\W\d_]['’][^\W\d_]{2,}$")
_SELF_CUES = {"là", "tên", "la", "ten"}
_SELF = {"em", "toi", "minh", "tui", "to", "tao", "chau", "con", "be", "no", "ban"}
_CONNECTORS = {"la", "cua", "no", "em", "toi", "minh", "tui", "nguoi", "ten", "do", "ay", "la:"}
_SAID_TO = {"voi", "la", "rang", "vs"}  # what goes on an unaccented speech verb
# Two consonants that start no Vietnamese syllable ("kb", "bh", "ml", "ks"): Ê Đê, Jrai names.
_CONSONANTS = frozenset("bcdfghjklmnpqrstvwxz")
_ONSET_PAIRS = frozenset({"ng", "nh", "ch", "gh", "kh", "ph", "th", "tr"})


def _foreign_onset(folded: str) -> bool:
    return (len(folded) > 2 and folded[0] in _CONSONANTS and folded[1] in _CONSONANTS
            and folded[:2] not in _ONSET_PAIRS)
