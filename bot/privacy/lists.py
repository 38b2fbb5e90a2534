"""The staff-edited word lists behind redaction (`knowledge/privacy.yaml`), validated on load."""

from __future__ import annotations

import unicodedata

from pydantic import BaseModel, ConfigDict, Field, field_validator


def fold_word(text: str) -> str:
    """Lower case, no diacritics, đ -> d: how every list entry and every token is compared."""
    if text.isascii():  # nothing to decompose (most tokens typed on a phone)
        return text.lower()
    decomposed = unicodedata.normalize("NFD", text.lower())
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return plain.replace("đ", "d")


def _phrases(values: list[str]) -> list[str]:
    cleaned = [" ".join(unicodedata.normalize("NFC", v.lower()).split()) for v in values]
    if any(not v for v in cleaned):
        raise ValueError("có một mục rỗng trong danh sách")
    return cleaned


class PrivacyLists(BaseModel):
    """Word lists that tell the redactor where personal data starts (lower case, NFC)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    surnames: list[str] = Field(min_length=1)
    given_names: list[str] = Field(min_length=1)
    address_terms: list[str] = Field(min_length=1)
    name_triggers: list[str] = Field(min_length=1)
    place_words: list[str] = Field(min_length=1)
    landmark_words: list[str] = Field(default_factory=list)
    village_words: list[str] = Field(default_factory=list)
    school_words: list[str] = Field(min_length=1)
    date_triggers: list[str] = Field(default_factory=list)
    time_words: list[str] = Field(default_factory=list)
    id_triggers: list[str] = Field(default_factory=list)
    stop_words: list[str] = Field(min_length=1)
    lookalike_letters: dict[str, str] = Field(default_factory=dict)
    digit_words: dict[str, str] = Field(default_factory=dict)
    number_words: list[str] = Field(default_factory=list)
    digit_letters: dict[str, str] = Field(default_factory=dict)
    public_numbers: list[str] = Field(default_factory=list)
    acronyms: list[str] = Field(default_factory=list)
    speech_verbs: list[str] = Field(default_factory=list)
    name_prefixes: list[str] = Field(default_factory=list)

    _fold = field_validator(
        "surnames",
        "given_names",
        "address_terms",
        "name_triggers",
        "place_words",
        "landmark_words",
        "village_words",
        "school_words",
        "date_triggers",
        "time_words",
        "id_triggers",
        "stop_words",
        "acronyms",
        "number_words",
        "speech_verbs",
        "name_prefixes",
    )(_phrases)

    @field_validator("lookalike_letters", "digit_letters")
    @classmethod
    def _single_characters(cls, value: dict[str, str]) -> dict[str, str]:
        for key, target in value.items():
            if len(key) != 1 or len(target) != 1:
                raise ValueError(f"'{key}': '{target}' phải là một ký tự đổi thành một ký tự")
        return value

    @field_validator("digit_words")
    @classmethod
    def _digits(cls, value: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for word, digit in value.items():
            if not (len(digit) == 1 and digit.isdigit()):
                raise ValueError(f"'{word}' phải ứng với đúng một chữ số, ví dụ: hai: \"2\"")
            out[fold_word(word)] = digit
        return out

    @field_validator("public_numbers")
    @classmethod
    def _numbers(cls, value: list[str]) -> list[str]:
        for number in value:
            if not number.isdigit():
                raise ValueError(f"'{number}' chỉ được gồm chữ số")
        return value
