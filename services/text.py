"""Comparing what people type with what is stored, the way Vietnamese is typed on phones."""

import re
import unicodedata


def fold(text: str) -> str:
    """Lower case, without diacritics (đ becomes d) and with single spaces: "Đỗ  Văn Bình" and
    "do van binh" fold alike. For matching only; show and store the original."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", bare).strip().casefold()


SEPARATORS = re.compile(r"[\s._\-]+")


def code_key(written: str) -> str:
    """A task code as written, compared the forgiving way: any case, spaces or hyphens for dots,
    the dot between letters and digits optional ("iii 1.4", "III1.4" → "III.1.4")."""
    text = SEPARATORS.sub(".", written.strip().upper())
    text = re.sub(r"(?<=[A-Z])(?=\d)|(?<=\d)(?=[A-Z])", ".", text)
    return text.strip(".")


def squashed(code: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", code.upper())


def is_number(text: str) -> bool:
    """Digits 0-9 only: what `int` reads as the number it shows ("²" and "٣" are digits to
    `str.isdigit`, but not what a person means by a number here)."""
    return text.isascii() and text.isdigit()
