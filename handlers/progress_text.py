"""Reading free-text reports: "80%", "đã xong 80% khối 6", "xong", "vướng: thiếu máy chiếu"."""

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Meaning(StrEnum):
    PERCENT = "percent"
    DONE = "done"
    BLOCKED = "blocked"
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class Reading:
    meaning: Meaning
    percent: int | None = None
    note: str | None = None


DONE_WORDS = r"(?:đã\s+)?(?:xong|hoàn\s+thành|hoàn\s+tất|done|finished|complete[d]?)"
NEGATIONS = r"(?:chưa|không|ko|k|not|never)\s+(?:\S+\s+)?"
BLOCKED = re.compile(
    r"^(?:gặp\s+)?(?:vướng(?:\s+mắc)?|khó\s+khăn|bị\s+kẹt|kẹt|blocked|stuck)\s*[:\-–,.]?\s*(?P<reason>.*)$",
    re.S,
)
PERCENT = re.compile(r"(?<![\d.,])(\d{1,3})(?:[.,]\d+)?\s*(?:%|phần\s+trăm|percent)")
PARTIAL = re.compile(r"\b(?:còn|chưa|trừ|nhưng|một\s+phần|partly|except|but)\b")
ONLY_A_NUMBER = re.compile(
    r"\s*(?:được|đạt|đã\s+xong|xong)?\s*\d{1,3}\s*(?:%|phần\s+trăm|percent)?[\s.!]*"
)
BARE_NUMBER = re.compile(r"^\s*(\d{1,3})\s*$")


def read_report(text: str) -> Reading:
    cleaned = unicodedata.normalize("NFC", text).strip()
    lowered = cleaned.lower()
    note = cleaned or None
    if not lowered:
        return Reading(Meaning.UNCLEAR)
    blocked = BLOCKED.match(lowered)
    if blocked:
        reason = (
            cleaned[len(cleaned) - len(blocked["reason"]) :].strip() if blocked["reason"] else ""
        )
        return Reading(Meaning.BLOCKED, note=reason or None)
    percents = {int(match) for match in PERCENT.findall(lowered)}
    bare = BARE_NUMBER.match(lowered)
    if bare:
        percents.add(int(bare[1]))
    negated = re.search(NEGATIONS + DONE_WORDS, lowered)
    if len(percents) > 1 or any(p > 100 for p in percents):
        return Reading(Meaning.UNCLEAR, note=note)
    if percents:
        percent = percents.pop()
        if percent == 100 and negated:
            return Reading(Meaning.UNCLEAR, note=note)
        if ONLY_A_NUMBER.fullmatch(lowered):
            note = None  # "80%" says nothing beyond the number itself
        return Reading(Meaning.DONE if percent == 100 else Meaning.PERCENT, percent, note)
    if negated:
        return Reading(Meaning.UNCLEAR, note=note)
    if re.fullmatch(r"(?:đã\s+|em\s+|tôi\s+)?" + DONE_WORDS + r"(?:\s+rồi)?[\s.!]*", lowered):
        return Reading(Meaning.DONE, 100, None)
    if re.match(DONE_WORDS + r"\b", lowered) and not PARTIAL.search(lowered):
        return Reading(Meaning.DONE, 100, note)
    return Reading(Meaning.UNCLEAR, note=note)
