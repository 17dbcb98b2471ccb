"""Reading what school staff write about progress, the way they text it on a phone.

Words are matched on a folded copy of the text (NFC; per character NFD without combining marks,
đ → d, lower case; one folded character per original character), so every match maps back to the
original and notes keep the person's spelling. A word typed *with* diacritics matches a table word
only when its marks fit that word's marks ("kết" is not "kẹt", "nữa" is not "nửa", "đã" is not
the polite "dạ"); a word typed without any marks matches every spelling.

Choices where the brief was silent:
- a decimal percentage is floored ("62,5%" → 62, "99,9%" stays below done);
- a blocker keeps a single percentage written before it ("được 60% thì vướng kinh phí");
- "còn 20%" (what is left) is not a percentage of progress; alone it is unclear;
- "gần 100%", "chưa được 50%" are unclear; "ok" / 👍 next to other words ("ok em sẽ làm") are
  unclear, while "xong" / "hoàn thành" next to other words are done with those words as the note;
- a written code that matches no known code, or several, still starts its own part (with no code)
  so its statement never lands on a neighbouring task;
- a code read by running digits together that also starts a longer known code is ambiguous
  ("III.11": III.1.1, or III.1.11 typed short); "III.14" alone is III.1.4;
- a number after a minus sign ("-5") is no percentage; a range ("80-90%") is unclear.
"""

import re
import unicodedata
from collections import Counter, deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache


class Meaning(StrEnum):
    DONE = "done"
    PERCENT = "percent"
    BLOCKED = "blocked"
    OUT_OF_RANGE = "out_of_range"
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class Part:
    """One statement about one or more tasks."""

    meaning: Meaning
    percent: int | None = None  # 100 for DONE, the number for PERCENT / OUT_OF_RANGE
    note: str | None = None  # the words minus what was parsed, as typed; all of them if UNCLEAR
    words: str | None = None  # the words minus only codes and line numbers, as typed
    codes: tuple[str, ...] = ()  # known task codes named, in the school's spelling, in order
    lines: tuple[int, ...] = ()  # numbered lines of the replied-to message ("1 xong, 2 50%")


@dataclass(frozen=True)
class Ambiguous:
    """A code as written that could be several known codes."""

    written: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class Reading:
    parts: tuple[Part, ...]  # at least one
    unknown_codes: tuple[str, ...] = ()  # written like a plan code, matching none, as typed
    ambiguous: tuple[Ambiguous, ...] = ()


# Politeness and small talk, dropped from the edges of a note.
OPENERS = (
    "dạ", "vâng", "thưa", "kính gửi", "báo cáo", "bc", "báo cáo tiến độ", "bc tiến độ",
    "cập nhật", "cập nhật tiến độ", "em", "tôi", "rồi", "thì", "mà", "cũng", "cảm ơn", "cám ơn",
)  # fmt: skip
# These open a note only before a word ("e gửi file rồi"), never before "< b" or a number.
SHORT_OPENERS = ("e", "r")
CLOSERS = (
    "ạ", "à", "a", "ah", "ak", "nhé", "nhe", "nha", "nhá", "nhen", "ha", "hen", "rồi", "rùi",
    "ròi", "r", "ồi", "luôn", "thôi", "ơi", "nè", "cảm ơn", "cám ơn", "thanks", "thank you",
    "tks", "hihi", "hehe",
)  # fmt: skip
ADDRESSEES = ("thầy", "cô", "anh", "chị", "thầy cô", "ad", "admin", "sếp", "bgh")
CALLS = ("ơi", "ạ", "nhé", "nha")
# Words that say nothing on their own: a clause made of them and codes is only a list of codes.
EMPTY_WORDS = (
    "đều", "cũng vậy", "cũng thế", "tương tự", "như trên", "cả hai", "cả 2", "cả ba", "cả 3",
    "tất cả", "hết", "cả",
)  # fmt: skip
FILLER_EMOJI = r"(?:[\U0001F600-\U0001F64F\U0001F970-\U0001F97A\u2764\u2665]|:\)+|:d+|\^\^|=\)+)"

DONE_WORDS = (
    "xong", "xog", "xonh", "xongg", "xomg", "xong xuôi", "hoàn thành", "hoàn tất", "hoàn thiện",
    "done", "finished", "finish", "complete", "completed",
)  # fmt: skip
DONE_MARKS = "✅✔☑"
# "ok" and 👍 also mean "got it": they report done only when nothing else is said.
OK_WORDS = r"o+k+(?:e+|ie+|i+|ay|ela)?|o\s+ke"
OK_MARKS = "👍👌🆗"
DONE_PREFIXES = ("đã", "vừa", "mới", "làm", "thực hiện")
DONE_SUFFIXES = ("hết", "xuôi", "cả", "rồi", "r", "luôn", "được", "đc", "dc", "hẳn", "đủ")
NEGATIONS = (
    "chưa", "không", "ko", "k", "kh", "hông", "hok", "chẳng", "chả", "not", "never",
    "không thể", "chưa thể",
)  # fmt: skip
NOT_YET = (
    "sắp", "gần", "gần như", "sẽ", "đang", "dự kiến", "chắc", "mai", "ngày mai", "mốt",
    "tuần sau", "tháng sau", "cố gắng", "định", "để", "almost", "will",
)  # fmt: skip
# After a done word these make it partial or a question: "xong khối 6, còn khối 7".
RESTRICTIONS = (
    "còn", "chưa", "trừ", "ngoại trừ", "nhưng", "một phần", "1 phần", "phần", "riêng", "thôi",
    "except", "but", "partly", "partially", "không", "ko", "k", "hông",
)  # fmt: skip
BLOCKERS = (
    "vướng", "vướng mắc", "khó khăn", "kẹt", "bế tắc", "trở ngại", "trục trặc", "blocked",
    "stuck",
)  # fmt: skip
BLOCKER_PREFIXES = (
    "đang", "còn", "bị", "gặp", "có", "hơi", "chút", "một chút", "một số", "vài", "nhiều", "nên",
    "thì", "mà", "em", "e",
)  # fmt: skip
CAUSES = ("vì", "do", "tại", "tại vì", "bởi", "bởi vì", "lý do", "lí do", "vì lý do")
SO = ("nên", "cho nên", "nên là", "thành ra")
NO_PROBLEM_STARTS = ("không còn", "ko còn", "hết", "hết bị")
NO_PROBLEM_FILL = ("có", "gặp", "bị", "còn", "gì")
NO_PROBLEM_WORDS = ("vấn đề", "gì")
NO_PROBLEM_ENDS = ("gì", "cả", "nào")
PERCENT_INTROS = (
    "được", "đc", "dc", "đạt", "đạt được", "tiến độ", "làm được", "xong", "đã xong", "hoàn thành",
    "đã", "mới", "chỉ", "khoảng", "tầm", "gần", "hơn", "trên", "cỡ", "chừng", "xấp xỉ", "lên",
    "hiện", "hiện tại", "thực hiện", "thực hiện được", "làm", "đến", "tới", "đang", "đang làm",
)  # fmt: skip
APPROXIMATE = ("khoảng", "tầm", "gần", "hơn", "trên", "cỡ", "chừng", "xấp xỉ")
CAPPING_VERBS = ("được", "đc", "dc", "đạt", "đến", "tới", "lên", "quá", "nổi")
REMAINING = ("còn", "còn lại", "còn thiếu", "thiếu")
HALF = ("nửa",)
ONE = ("một", "1")
LINE_WORDS = ("việc", "số", "nhiệm vụ", "nv", "mục", "ý", "câu", "dòng", "task")
LINE_LEADS = ("dạ", "vâng", "thưa", "thưa thầy", "thưa cô", "báo cáo", "bc")
# A number next to these counts things ("2 lớp"), it is not a line of the reminder.
COUNTED = (
    "khối", "lớp", "tiết", "buổi", "bài", "người", "máy", "phòng", "tuần", "ngày", "tháng", "năm",
    "tổ", "hs", "gv", "học sinh", "giáo viên", "cái", "bộ", "được", "đạt", "còn", "cả", "có",
    "mất", "hết",
)  # fmt: skip
DATE_WORDS = ("ngày", "hôm", "hạn", "trước", "sau", "lúc", "từ", "đến", "tới", "tháng")
AND = ("và",)

WORD = r"[^\W_]"
_B = rf"(?<!{WORD})"
_E = rf"(?!{WORD})"
EDGE_PUNCTUATION = ".,;:!?…-–—\ufe0f"
SKIN = r"[\ufe0f\U0001F3FB-\U0001F3FF]*"
MINUS = re.compile("[-–][0-9]")

Span = tuple[int, int]


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d"
    bare = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return next((c for c in (bare.lower(), char.lower()) if len(c) == 1), char)


def _fold(text: str) -> str:
    return "".join(map(_fold_char, text))


def _alt(phrases: Iterable[str]) -> str:
    forms = sorted({_fold(phrase) for phrase in phrases}, key=len, reverse=True)
    return "(?:" + "|".join(r"\s+".join(map(re.escape, form.split())) for form in forms) + ")"


def _words(phrases: Iterable[str]) -> str:
    return rf"{_B}{_alt(phrases)}{_E}"


def _marks(word: str) -> Counter[str]:
    marks = Counter(
        c for ch in word for c in unicodedata.normalize("NFD", ch) if unicodedata.combining(c)
    )
    marks["đ"] = sum(ch in "đĐ" for ch in word)
    return marks


def _spellings(*tables: Iterable[str]) -> dict[str, tuple[Counter[str], ...]]:
    spellings: dict[str, dict[str, Counter[str]]] = {}
    for table in tables:
        for word in (word for phrase in table for word in phrase.split()):
            spellings.setdefault(_fold(word), {})[word] = _marks(word)
    return {folded: tuple(marks.values()) for folded, marks in spellings.items()}


FILLER_SPELLINGS = _spellings(OPENERS, SHORT_OPENERS, CLOSERS, ADDRESSEES, CALLS, EMPTY_WORDS)
WORD_SPELLINGS = _spellings(
    DONE_WORDS, DONE_PREFIXES, DONE_SUFFIXES, NEGATIONS, NOT_YET, RESTRICTIONS, BLOCKERS,
    BLOCKER_PREFIXES, CAUSES, SO, NO_PROBLEM_STARTS, NO_PROBLEM_FILL, NO_PROBLEM_WORDS,
    NO_PROBLEM_ENDS, PERCENT_INTROS, APPROXIMATE, CAPPING_VERBS, REMAINING, HALF, ONE, LINE_WORDS,
    LINE_LEADS, COUNTED, DATE_WORDS, AND,
)  # fmt: skip

_CALL = rf"{_alt(ADDRESSEES)}(?:\s+{WORD}+)?\s+{_alt(CALLS)}{_E}"
_FILLER_WORDS = OPENERS + SHORT_OPENERS + CLOSERS + EMPTY_WORDS + ADDRESSEES
_FILLER = rf"(?:{_words(_FILLER_WORDS)}|{_B}{_CALL}|{FILLER_EMOJI})"
_EDGE = rf"[\s{re.escape(EDGE_PUNCTUATION)}]"
_ADDRESS = rf"{_B}{_CALL}|{_words(ADDRESSEES)}(?=\s*,)"  # "thầy ơi", "cô Lan ạ", "thầy, …"
_OPENER = (
    rf"{_words(OPENERS)}|{_words(SHORT_OPENERS)}(?=\s+{WORD})|{_ADDRESS}|{FILLER_EMOJI}"
    rf"|{_words(CLOSERS)}(?=\s*(?:[,.;!…]|\Z))"  # "ạ, đã nộp": a particle ending the sentence
)
OPENERS_RUN = re.compile(rf"(?:{_EDGE}*+(?:{_OPENER}){SKIN})*+")
# Searched within the last CLOSERS_WINDOW characters of a piece only.
CLOSERS_RUN = re.compile(rf"(?:(?:{_words(CLOSERS)}|{FILLER_EMOJI}){SKIN}{_EDGE}*+)*+\Z")
CLOSERS_WINDOW = 200
ONLY_FILLERS = re.compile(rf"(?:{_EDGE}*+{_FILLER}{SKIN})*+\s*")

_DONE_CORE = rf"(?:{_words(DONE_WORDS)}|{_B}(?:{OK_WORDS}){_E}|[{DONE_MARKS}{OK_MARKS}]{SKIN})"
_DONE = rf"(?:{_words(DONE_PREFIXES)}\s+){{0,3}}+{_DONE_CORE}(?:\s+{_words(DONE_SUFFIXES)}){{0,3}}+"
DONE = re.compile(_DONE)
STRONG_DONE = re.compile(rf"{_words(DONE_WORDS)}|[{DONE_MARKS}]")
NEGATED = re.compile(rf"{_words(NEGATIONS)}(?:\s+{WORD}+){{0,2}}?\s+{_DONE}")
NOT_DONE_YET = re.compile(rf"{_words(NOT_YET)}(?:\s+{WORD}+){{0,2}}?\s+{_DONE}")
RESTRICTION = re.compile(rf"{_words(RESTRICTIONS)}|\?")
FRACTION = re.compile(r"(?<![0-9/])([0-9]{1,4})\s*/\s*([0-9]{1,4})(?![0-9/])")
DATE_BEFORE = re.compile(rf"{_words(DATE_WORDS)}\s*$")

BLOCKER = re.compile(
    rf"(?:{_words(BLOCKER_PREFIXES)}\s+){{0,3}}{_words(BLOCKERS)}"
    rf"(?:\s*+[:\-–,.]?\s*+(?:{_words(CAUSES)}|{_B}la{_E}))?\s*+[:\-–,.]?"
)
CAUSE = re.compile(_words(CAUSES))
CAUSED = re.compile(
    rf"{_words(NEGATIONS)}(?:\s+[^\s,.;]+){{0,4}}?\s*+[,:]?\s*+{_words(CAUSES)}\s*+[:\-]?(?=\s*\S)"
)
SO_NOT = re.compile(
    rf"{_words(SO)}\s+{_words(NEGATIONS)}(?:\s+[^\s,.;]+){{0,5}}?(?=\s*(?:[,.;!?]|$))"
)
NO_PROBLEM = re.compile(
    rf"(?:{_words(NO_PROBLEM_STARTS)}|{_words(NEGATIONS)})(?:\s+{_words(NO_PROBLEM_FILL)}){{0,2}}"
    rf"\s+(?:{_words(BLOCKERS)}|{_words(NO_PROBLEM_WORDS)})(?:\s+{_words(NO_PROBLEM_ENDS)}){{0,2}}"
)

_NUMBER = r"(?<![0-9])(?<!(?<![0-9])-)([0-9]{1,9})(?:[.,]([0-9]{1,9}))?(?![0-9])"
_PERCENT_SIGN = rf"\s*(?:%|％|phan\s*tram{_E}|pt{_E}|percent{_E})"
# Searched backwards from a number, within INTRO_WINDOW characters: "mới được khoảng 60%".
INTROS = re.compile(rf"(?:{_words(PERCENT_INTROS)}\s*+(?:[:\-]\s*+)?)++\Z")
INTRO_WINDOW = 40
EXPLICIT = re.compile(rf"{_NUMBER}{_PERCENT_SIGN}")
RANGE_START = re.compile(
    rf"{_NUMBER}\s*+%?\s*+(?:-|–|~|den{_E}|toi{_E})\s*+(?=[0-9]{{1,9}}{_PERCENT_SIGN})"
)
HALVES = re.compile(rf"(?P<one>{_words(ONE)}\s*)?{_words(HALF)}")
BARE = re.compile(_NUMBER)
AFTER_CODE = re.compile(rf"\s*+(?:[:=\-–]\s*+)?{_NUMBER}(?!\s*/)")
APPROXIMATION = re.compile(_words(APPROXIMATE))
CAPPED = re.compile(_words(CAPPING_VERBS))
NEGATION_BEFORE = re.compile(rf"{_words(NEGATIONS)}\s*$")
REMAINING_BEFORE = re.compile(rf"{_words(REMAINING)}\s*$")

CODE_GAP = r"[ \t._-]{0,2}"
CODE_MARK = "\x01"  # stands for a written code while splitting into clauses
UNKNOWN_CODE = re.compile(
    rf"{_B}(?:viii|vii|vi|iv|ix|iii|ii|i|v|x)(?:\.[0-9]{{1,3}})+(?!{WORD}|[.,]?[0-9])",
    re.IGNORECASE,
)
SEPARATOR = re.compile(
    rf"\n+|;|(?<![0-9]),|,(?![0-9])|(?<!\s)\s++(?:{_alt(AND)}|&|\+)\s+|(?:\.+|…)(?=\s|$)"
    rf"|(?<={CODE_MARK})\s*+[/&+]\s*(?={CODE_MARK})"  # "III.1.4/III.2.8"
)
LIST_MARKER = re.compile(rf"\s*(?:#\s*|{_words(LINE_WORDS)}\s*)?[0-9]{{1,3}}\s*")
_NOT_A_LINE = rf"\s*(?:%|％|phan\s*tram{_E}|pt{_E}|{_words(HALF)}|phan{_E}|/|{_words(COUNTED)})"
LINE_NUMBER = re.compile(
    rf"(?:#\s*|{_words(LINE_WORDS)}\s*)?(?<![0-9])([0-9]{{1,3}})"
    rf"(?![0-9]|\.[0-9]|,[0-9]+{_PERCENT_SIGN}|{_NOT_A_LINE})(?:[.:)\]](?![0-9]))?"
)
LINE_JOIN = re.compile(rf"\s*[,&+]\s*|\s+{_alt(AND)}\s+|\s+")
LINE_LEAD = re.compile(rf"\s*+(?:{_words(LINE_LEADS)}\s*+(?:,\s*+)?)*+")
AFTER_LINES = re.compile(r"[\s.:)\-–/]*")
NEXT_LINE = re.compile(rf"(?<=\s){LINE_NUMBER.pattern}(?=[\s.:)\-–]*+[^\s.:)\-–])")
COUNTED_BEFORE = re.compile(rf"{_words(COUNTED)}\s*$")
DONE_THEN = re.compile(rf"{LINE_LEAD.pattern}{_DONE}\s+")
AFTER_DONE_LINES = re.compile(rf"(?:[\s.!]*+{_FILLER})*+[\s.!]*")


@dataclass(frozen=True)
class _Text:
    original: str
    key: str  # folded, for intent words
    fillers: str  # folded, for politeness; the two differ only in which words are marked foreign


@dataclass(frozen=True)
class _Anchor:
    """A written task code (known, unknown or ambiguous) or numbered-line reference."""

    start: int
    end: int
    codes: tuple[str, ...] = ()
    lines: tuple[int, ...] = ()


@dataclass
class _Clause:
    start: int
    end: int
    anchors: list[_Anchor] = field(default_factory=list)
    filled: bool = False  # says something beyond codes, line numbers and politeness


@dataclass
class _Draft:
    start: int
    end: int
    anchors: list[_Anchor]
    glue: list[Span]  # separators between codes that share one statement
    filled: bool


@dataclass(frozen=True)
class _Percent:
    span: Span
    value: float
    approximate: bool
    capped: bool  # "chưa được 50%": below a bound, not a report
    remaining: bool  # "còn 20%": what is left


@dataclass(frozen=True)
class _Statement:
    meaning: Meaning
    percent: int | None = None
    parsed: tuple[Span, ...] = ()
    only_ok: bool = False  # done said with "ok" or 👍 alone, which must stand without other words


def read_progress(
    text: str,
    codes: Collection[str] = (),
    lines: int = 0,
    expect_percent: bool = False,
) -> Reading:
    """What `text` says about which tasks.

    `codes` are the school's task codes; `lines` is how many numbered lines the replied-to
    message has; `expect_percent` reads a number right after the code(s) as the percentage.
    """
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        return Reading(parts=(Part(Meaning.UNCLEAR),))
    t = _Text(text, _key(text, WORD_SPELLINGS), _key(text, FILLER_SPELLINGS))
    anchors, ambiguous = _find_codes(text, codes)
    unknown = _find_unknown(text, anchors)
    anchors = sorted(anchors + [_Anchor(*span) for span in unknown], key=lambda a: a.start)
    clauses = _split(t, anchors)
    if lines > 0:
        clauses = _number_lines(t, clauses, lines)
    for clause in clauses:
        clause.filled = (
            _cut(t, clause.start, clause.end, _spans_of(clause.anchors), True) is not None
        )
    all_anchors = [a for clause in clauses for a in clause.anchors]
    masked = _blank(t.key, _spans_of(all_anchors))
    parts = tuple(_read_part(t, masked, d, expect_percent) for d in _group(clauses))
    return Reading(
        parts=parts,
        unknown_codes=tuple(dict.fromkeys(text[a:b] for a, b in unknown)),
        ambiguous=tuple(dict.fromkeys(ambiguous)),
    )


def _key(text: str, spellings: dict[str, tuple[Counter[str], ...]]) -> str:
    """The folded text, with words whose diacritics fit no table spelling upper-cased."""
    folded = _fold(text)
    chars = list(folded)
    for word in re.finditer(rf"{WORD}+", folded):
        known = spellings.get(word[0])
        if known and not any(_marks(text[word.start() : word.end()]) <= m for m in known):
            chars[word.start() : word.end()] = word[0].upper()
    return "".join(chars)


@lru_cache(maxsize=1024)
def _code_pattern(code: str) -> re.Pattern[str] | None:
    chunks = re.findall(rf"{WORD}+", code)
    if not chunks:
        return None
    body = CODE_GAP.join(map(re.escape, chunks))
    return re.compile(rf"{_B}{body}(?!{WORD}|[._-][0-9])", re.IGNORECASE)


def _find_codes(text: str, codes: Collection[str]) -> tuple[list[_Anchor], list[Ambiguous]]:
    found: dict[Span, list[str]] = {}
    for code in dict.fromkeys(codes):
        if pattern := _code_pattern(code):
            for match in pattern.finditer(text):
                found.setdefault(match.span(), []).append(code)
    anchors: list[_Anchor] = []
    ambiguous: list[Ambiguous] = []
    for span in sorted(found, key=lambda s: (s[0] - s[1], s[0])):
        if any(span[0] < a.end and a.start < span[1] for a in anchors):
            continue
        written = text[span[0] : span[1]]
        exact = [code for code in found[span] if code.casefold() == written.casefold()]
        candidates = exact[:1] or found[span]
        if len(candidates) == 1 and not exact:
            candidates += _cut_from(written, candidates[0], codes)
        if len(candidates) == 1:
            anchors.append(_Anchor(*span, codes=tuple(candidates)))
        else:
            ambiguous.append(Ambiguous(written, tuple(candidates)))
            anchors.append(_Anchor(*span))
    return anchors, ambiguous


def _cut_from(written: str, code: str, codes: Collection[str]) -> list[str]:
    """Longer codes a code written with run-together digits may be missing a digit of: "III.11"
    is III.1.1, or III.1.11 typed short."""
    if len(re.findall("[0-9]+", written)) == len(re.findall("[0-9]+", code)):
        return []
    start = _compact(written)
    return [
        other
        for other in dict.fromkeys(codes)
        if other != code and _compact(other).startswith(start)
    ]


def _compact(code: str) -> str:
    return "".join(re.findall(rf"{WORD}+", code)).casefold()


def _find_unknown(text: str, anchors: list[_Anchor]) -> list[Span]:
    return [
        m.span()
        for m in UNKNOWN_CODE.finditer(text)
        if not any(m.start() < a.end and a.start < m.end() for a in anchors)
    ]


def _spans_of(anchors: Iterable[_Anchor]) -> list[Span]:
    return [(a.start, a.end) for a in anchors]


def _shift(spans: Iterable[Span], by: int) -> list[Span]:
    return [(a + by, b + by) for a, b in spans]


def _blank(text: str, spans: Iterable[Span], fill: str = " ") -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = fill * (end - start)
    return "".join(chars)


def _split(t: _Text, anchors: list[_Anchor]) -> list[_Clause]:
    """Clauses between separators; a separator never cuts through a written code."""
    key = _blank(t.key, _spans_of(anchors), CODE_MARK)
    clauses: list[_Clause] = []
    start = 0
    for sep in SEPARATOR.finditer(key):
        if sep[0][0] in ".…" and LIST_MARKER.fullmatch(key[start : sep.start()]):
            continue
        clauses.append(_Clause(start, sep.start()))
        start = sep.end()
    clauses.append(_Clause(start, len(key)))
    kept = [c for c in clauses if t.original[c.start : c.end].strip()] or [_Clause(0, len(key))]
    for clause in kept:
        clause.anchors = [a for a in anchors if clause.start <= a.start < clause.end]
    return kept


def _number_lines(t: _Text, clauses: list[_Clause], lines: int) -> list[_Clause]:
    """Line references ("1 xong", "việc 2 50%", "xong 1 và 2") in clauses that name no code.

    A clause of numbers alone ("1" in "1, 2 xong") refers to lines only when another clause does.
    """
    key = _blank(t.key, _spans_of(a for c in clauses for a in c.anchors))
    result: list[_Clause] = []
    bare: list[tuple[_Clause, _Anchor]] = []
    pending = deque(clauses)
    while pending:
        clause = pending.popleft()
        result.append(clause)
        found = None if clause.anchors else _line_anchor(t, key, clause, lines)
        if found is None:
            continue
        anchor, split = found
        if split is None:
            bare.append((clause, anchor))
            continue
        clause.anchors.append(anchor)
        if split < clause.end:
            pending.appendleft(_Clause(split, clause.end))
            clause.end = split
    if any(c.anchors and c.anchors[0].lines for c in result):
        for clause, anchor in bare:
            clause.anchors.append(anchor)
    return result


def _line_anchor(
    t: _Text, key: str, clause: _Clause, lines: int
) -> tuple[_Anchor, int | None] | None:
    """The clause's line reference, and where the clause should end (None: it is only numbers)."""
    text = key[clause.start : clause.end]
    if head := _line_run(text, _matched(LINE_LEAD.match(text)).end(), lines):
        numbers, start, end = head
        anchor = _Anchor(clause.start + start, clause.start + end, lines=numbers)
        if not text[_matched(AFTER_LINES.match(text, end)).end() :]:
            return anchor, None
        split = _next_line(text, end, max(numbers), lines)
        return anchor, clause.end if split is None else clause.start + split
    if tail := _done_then_lines(t.fillers[clause.start : clause.end], text, lines):
        numbers, start, end = tail
        return _Anchor(clause.start + start, clause.start + end, lines=numbers), clause.end
    return None


def _line_run(text: str, pos: int, lines: int) -> tuple[tuple[int, ...], int, int] | None:
    numbers: list[int] = []
    start = end = pos
    while (m := LINE_NUMBER.match(text, pos)) and 1 <= int(m[1]) <= lines:
        start = start if numbers else m.start()
        numbers.append(int(m[1]))
        end = m.end()
        join = LINE_JOIN.match(text, end)
        if not join:
            break
        pos = join.end()
    return (tuple(numbers), start, end) if numbers else None


def _next_line(text: str, pos: int, last: int, lines: int) -> int | None:
    """Where "1 xong 2 50%" starts talking about the next line."""
    for m in NEXT_LINE.finditer(text, pos):
        if last < int(m[1]) <= lines and not COUNTED_BEFORE.search(
            text[max(0, m.start() - 20) : m.start()]
        ):
            return m.start()
    return None


def _done_then_lines(
    fillers: str, text: str, lines: int
) -> tuple[tuple[int, ...], int, int] | None:
    """ "xong 1", "xong việc 2": a done word, then line numbers and nothing else."""
    done = DONE_THEN.match(text)
    run = done and _line_run(text, done.end(), lines)
    if run and AFTER_DONE_LINES.fullmatch(fillers, run[2]):
        return run
    return None


def _group(clauses: list[_Clause]) -> list[_Draft]:
    """Clauses into parts: a clause naming codes starts a part; the others join the one before."""
    drafts: list[_Draft] = []
    for clause in clauses:
        last = drafts[-1] if drafts else None
        if last is None or (clause.anchors and last.anchors and last.filled):
            drafts.append(_Draft(clause.start, clause.end, list(clause.anchors), [], clause.filled))
            continue
        if clause.anchors and last.anchors:
            last.glue.append((last.end, clause.start))
        _extend(last, clause.end, clause.anchors, clause.filled)
    if len(drafts) > 1 and not drafts[-1].filled:
        tail = drafts.pop()
        drafts[-1].glue += [(drafts[-1].end, tail.start), *tail.glue]
        _extend(drafts[-1], tail.end, tail.anchors, False)
    return drafts


def _extend(draft: _Draft, end: int, anchors: list[_Anchor], filled: bool) -> None:
    draft.end = end
    draft.anchors += anchors
    draft.filled = draft.filled or filled


def _read_part(t: _Text, masked: str, draft: _Draft, expect_percent: bool) -> Part:
    removed = _spans_of(draft.anchors) + draft.glue
    words = _cut(t, draft.start, draft.end, removed, False)
    codes = tuple(dict.fromkeys(code for a in draft.anchors for code in a.codes))
    lines = tuple(dict.fromkeys(line for a in draft.anchors for line in a.lines))
    code_ends = (
        [a.end - draft.start for a in draft.anchors if not a.lines] if expect_percent else []
    )
    region = _blank(masked[draft.start : draft.end], _shift(draft.glue, -draft.start))
    fillers = _blank(t.fillers[draft.start : draft.end], _shift(removed, -draft.start))
    statement = _statement(region, fillers, code_ends)
    parsed = _shift(statement.parsed, draft.start)
    note = _cut(t, draft.start, draft.end, removed + parsed, True)
    if statement.meaning == Meaning.UNCLEAR or (statement.only_ok and note):
        return Part(Meaning.UNCLEAR, note=words, words=words, codes=codes, lines=lines)
    return Part(statement.meaning, statement.percent, note, words, codes, lines)


def _statement(region: str, fillers: str, code_ends: list[int]) -> _Statement:
    quiet = _spans(NO_PROBLEM, region)
    region = _blank(region, quiet)
    negated = _spans(NEGATED, region)
    percents = _percents(region, fillers, code_ends)
    if blocked := _blocked(region):
        return _blocked_statement(blocked, percents, negated, quiet)
    later = _spans(NOT_DONE_YET, region)
    if percents:
        return _percent_statement(region, percents, negated, later, quiet)
    done = list(DONE.finditer(region))
    if negated or later or not done or _restricted(region, done[0].end()):
        return _Statement(Meaning.UNCLEAR)
    only_ok = not any(STRONG_DONE.search(m[0]) for m in done)
    return _Statement(Meaning.DONE, 100, (*quiet, *(m.span() for m in done)), only_ok)


def _spans(pattern: re.Pattern[str], text: str) -> list[Span]:
    return [m.span() for m in pattern.finditer(text)]


def _matched(found: re.Match[str] | None) -> re.Match[str]:
    """The match of a pattern whose every part is optional: there always is one."""
    if found is None:
        raise ValueError("a pattern that matches the empty string found nothing")
    return found


def _blocked(region: str) -> list[Span]:
    if found := BLOCKER.search(region) or CAUSED.search(region):
        return [found.span()]
    so_not = SO_NOT.search(region)
    cause = so_not and CAUSE.search(region, 0, so_not.start())
    return [cause.span(), so_not.span()] if cause and so_not else []


def _blocked_statement(
    blocked: list[Span], percents: list[_Percent], negated: list[Span], quiet: list[Span]
) -> _Statement:
    reason = blocked[0][1]
    before = [p for p in percents if p.span[1] <= reason and not p.remaining]
    values = {p.value for p in before}
    value = values.pop() if len(values) == 1 else None
    percent = int(value) if value is not None and value < 100 else None
    early = [span for span in negated if span[1] <= reason]
    return _Statement(
        Meaning.BLOCKED, percent, (*quiet, *blocked, *early, *(p.span for p in before))
    )


def _percents(region: str, fillers: str, code_ends: list[int]) -> list[_Percent]:
    found = [_percent(region, m, _value(m)) for m in EXPLICIT.finditer(region)]
    found += [_percent(region, m, _value(m)) for m in RANGE_START.finditer(region)]
    halves = ((m, _percent(region, m, 50.0)) for m in HALVES.finditer(region))
    found += [p for m, p in halves if m["one"] or p.span[0] < m.start()]
    after_codes = (AFTER_CODE.match(region, end) for end in code_ends)
    found += [_percent(region, m, _value(m)) for m in after_codes if m]
    if found:
        return found
    bare = [_percent(region, m, _value(m)) for m in BARE.finditer(region)]
    if len(bare) == 1 and _says_nothing(_blank(fillers, [bare[0].span])):
        return bare
    return []


def _value(match: re.Match[str]) -> float:
    return float(f"{match[1]}.{match[2] or 0}")


def _percent(region: str, match: re.Match[str], value: float) -> _Percent:
    intros = INTROS.search(region, max(0, match.start() - INTRO_WINDOW), match.start())
    start = intros.start() if intros else match.start()
    intro = region[start : match.start()]
    before = region[max(0, start - 24) : start]
    return _Percent(
        span=(start, match.end()),
        value=value,
        approximate=bool(APPROXIMATION.search(intro)),
        capped=bool(CAPPED.match(intro) and NEGATION_BEFORE.search(before)),
        remaining=bool(REMAINING_BEFORE.search(before)),
    )


def _percent_statement(
    region: str, percents: list[_Percent], negated: list[Span], later: list[Span], quiet: list[Span]
) -> _Statement:
    """One percentage decides; "tuần sau xong" (when it will be done) stays in the note."""
    counted = [p for p in percents if not p.remaining]
    values = {p.value for p in counted}
    if len(values) != 1 or any(p.capped for p in counted):
        return _Statement(Meaning.UNCLEAR)
    value = values.pop()
    done = [d for d in _spans(DONE, region) if not any(a <= d[0] < b for a, b in later)]
    parsed = (*quiet, *negated, *done, *(p.span for p in counted))
    if value > 100:
        return _Statement(Meaning.OUT_OF_RANGE, int(value), parsed)
    if value < 100:
        return _Statement(Meaning.PERCENT, int(value), parsed)
    first = min(p.span[1] for p in counted)
    if negated or later or any(p.approximate for p in counted) or _restricted(region, first):
        return _Statement(Meaning.UNCLEAR)
    return _Statement(Meaning.DONE, 100, parsed)


def _restricted(region: str, after: int) -> bool:
    """A done word followed by "còn", "chưa", "một phần"… or a count short of the whole ("3/5")."""
    return bool(RESTRICTION.search(region, after)) or any(
        0 < int(m[1]) < int(m[2])
        and not DATE_BEFORE.search(region[max(0, m.start() - 12) : m.start()])
        for m in FRACTION.finditer(region)
    )


def _says_nothing(fillers: str) -> bool:
    return _trim(fillers, 0, len(fillers), True) is None


def _cut(t: _Text, start: int, end: int, removed: Iterable[Span], fillers: bool) -> str | None:
    """The original text of [start, end) without the removed spans, each piece trimmed."""
    pieces = (_trim(t.fillers, a, b, fillers) for a, b in _gaps(start, end, removed))
    return " ".join(t.original[a:b] for a, b in filter(None, pieces)) or None


def _gaps(start: int, end: int, removed: Iterable[Span]) -> list[Span]:
    gaps: list[Span] = []
    pos = start
    for a, b in sorted(removed):
        if a > pos:
            gaps.append((pos, min(a, end)))
        pos = max(pos, b)
        if pos >= end:
            break
    if pos < end:
        gaps.append((pos, end))
    return gaps


def _trim(fillers: str, start: int, end: int, drop_fillers: bool) -> Span | None:
    """A piece without edge punctuation and whitespace, and without edge politeness if asked."""
    start, end = _inside_edges(fillers, start, end)
    if start == end:
        return None
    if not drop_fillers:
        return start, end
    piece = fillers[start:end]
    if ONLY_FILLERS.fullmatch(piece):
        return None
    lead = _matched(OPENERS_RUN.match(piece)).end()
    tail = _matched(CLOSERS_RUN.search(piece, max(lead, len(piece) - CLOSERS_WINDOW))).start()
    start, end = _inside_edges(fillers, start + lead, start + max(lead, tail))
    return (start, end) if start < end else None


def _inside_edges(fillers: str, start: int, end: int) -> Span:
    while start < end and _is_edge(fillers[start]) and not MINUS.match(fillers, start, end):
        start += 1
    while end > start and _is_edge(fillers[end - 1]):
        end -= 1
    return start, end


def _is_edge(char: str) -> bool:
    return char.isspace() or char in EDGE_PUNCTUATION or unicodedata.category(char) in ("Cc", "Cf")
