"""Recurrences as a plan writes them in Vietnamese, read into rules: "thứ Sáu hằng tuần" is
`weekly:fri`, "định kỳ 2 tuần/lần vào thứ Sáu" `every:2w:fri`, "ngày 25 hằng tháng"
`monthly:25`, "thứ Sáu tuần cuối mỗi tháng" `monthly:last-fri`, "hằng năm vào các ngày 15/01,
25/05" `yearly:15/01,25/05`, "cuối mỗi học kỳ" `semester`. Every text `describe_recurrence`
writes reads back into its rule. Matching is done on folded text (no diacritics, lower case)."""

import re

from services.text import fold

WEEKDAY = (
    r"(?P<weekday>thu (?:hai|ba|tu|nam|sau|bay|[2-7])|t[2-7]|chu nhat|cn)"  # thứ Hai … Chủ nhật
)
WEEKDAY_CODES = {
    "hai": "mon", "2": "mon", "ba": "tue", "3": "tue", "tu": "wed", "4": "wed",
    "nam": "thu", "5": "thu", "sau": "fri", "6": "fri", "bay": "sat", "7": "sat",
}  # fmt: skip
EACH = r"(?:hang|moi)"  # hằng, hàng, mỗi
MONTHLY = rf"(?:{EACH} thang|cua thang|thang)"
START = r"(?:,? tu ngay (?P<start>\d{1,2}/\d{1,2}/\d{4}))?"
NTH = {
    "dau tien": "1st", "tuan dau": "1st", "tuan dau tien": "1st", "thu 2": "2nd",
    "tuan thu 2": "2nd", "thu 3": "3rd", "tuan thu 3": "3rd", "thu 4": "4th",
    "tuan thu 4": "4th", "cuoi cung": "last", "tuan cuoi": "last", "tuan cuoi cung": "last",
}  # fmt: skip
PER_TIME = r"(?: mot lan| 1 lan| ?/ ?lan)"  # "2 tuần một lần", "2 tuần/lần"
DATES = r"(?P<dates>\d{1,2}/\d{1,2}(?:\s*(?:,|va)\s*\d{1,2}/\d{1,2})*)"
PATTERNS = (
    ("weeks", rf"(?:dinh ky )?(?P<weeks>\d{{1,2}}) tuan{PER_TIME}(?: vao)? {WEEKDAY}{START}"),
    ("week", rf"{EACH} tuan(?: vao)? {WEEKDAY}{START}"),
    ("week", rf"{WEEKDAY} {EACH} tuan{START}"),
    ("nth", rf"{WEEKDAY} (?P<nth>{'|'.join(sorted(NTH, key=len, reverse=True))}) {MONTHLY}"),
    ("day", rf"(?:vao )?ngay (?P<day>\d{{1,2}}) {EACH} thang"),
    ("day", rf"{EACH} thang(?: vao)? ngay (?P<day>\d{{1,2}})"),
    ("year", rf"{EACH} nam(?: vao)?(?: cac)? ngay {DATES}"),
    ("semester", r"(?:cuoi )?(?:moi |hang )?hoc ky"),
    ("school_year", rf"(?:dau )?(?:{EACH} )?nam hoc"),
)  # fmt: skip


def rule_from_words(text: str) -> str | None:
    """The rule a Vietnamese phrase means, or None when it is not one of the known phrasings."""
    folded = fold(text).rstrip(".")
    for kind, pattern in PATTERNS:
        match = re.fullmatch(pattern, folded)
        if match is not None:
            return _rule(kind, match)
    return None


def _rule(kind: str, match: re.Match[str]) -> str:
    if kind in ("semester", "school_year"):
        return kind
    if kind == "day":
        return f"monthly:{int(match['day'])}"
    if kind == "year":
        dates = re.split(r"\s*(?:,|va)\s*", match["dates"])
        return "yearly:" + ",".join(_day_month(day) for day in dates)
    weekday = _weekday(match["weekday"])
    if kind == "nth":
        return f"monthly:{NTH[match['nth']]}-{weekday}"
    weeks = int(match["weeks"]) if kind == "weeks" else 1
    start = f":{match['start']}" if match["start"] else ""
    if weeks == 1 and not start:
        return f"weekly:{weekday}"
    return f"every:{weeks}w:{weekday}{start}"


def _weekday(words: str) -> str:
    """thứ Sáu, thứ 6, T6 → fri; Chủ nhật, CN → sun."""
    if words in ("chu nhat", "cn"):
        return "sun"
    return WEEKDAY_CODES[words[4:] if words.startswith("thu ") else words[1:]]


def _day_month(text: str) -> str:
    day, month = text.split("/")
    return f"{int(day):02d}/{int(month):02d}"
