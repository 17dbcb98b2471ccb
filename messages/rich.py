"""The bot's own text format, which every channel renders its way: lines of spans, a span
plain, bold, italic or code. Written as `Rich` text: `<b>`, `<i>` and `<code>` marks, with
`&lt;`, `&gt;` and `&amp;` for the characters themselves (`escape` writes user text so). Telegram
renders it as its HTML, the console and Zalo as plain text; a message too long for a channel is
cut between lines, never inside a mark."""

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Flag, auto
from typing import overload


class Rich(str):
    """Text in the bot's format: `h()` inserts it as it is. Rich joined to Rich is Rich."""

    @overload
    def __add__(self, other: "Rich", /) -> "Rich": ...
    @overload
    def __add__(self, other: str, /) -> str: ...
    def __add__(self, other: str, /) -> str:
        joined = str.__add__(self, other)
        return Rich(joined) if isinstance(other, Rich) else joined


def escape(value: object) -> Rich:
    """A value written into Rich text as it reads (what a person typed is never a mark)."""
    return value if isinstance(value, Rich) else Rich(html.escape(str(value), quote=False))


def join_rich(parts: Iterable[Rich], separator: str = "\n") -> Rich:
    return Rich(separator.join(parts))


class Style(Flag):
    PLAIN = 0
    BOLD = auto()
    ITALIC = auto()
    CODE = auto()


MARKS = {"b": Style.BOLD, "i": Style.ITALIC, "code": Style.CODE}
TOKEN = re.compile(r"</?(?:b|i|code)>")


@dataclass(frozen=True)
class Span:
    text: str
    style: Style = Style.PLAIN


Line = tuple[Span, ...]


def lines(text: Rich) -> list[Line]:
    """The text's lines, each a run of styled spans. A mark left open at a line's end goes on
    into the next line; one never closed ends with the text."""
    style = Style.PLAIN
    result: list[Line] = []
    for raw in text.split("\n"):
        spans: list[Span] = []
        position = 0
        for match in TOKEN.finditer(raw):
            _add(spans, raw[position : match.start()], style)
            tag = match.group()
            mark = MARKS[tag.strip("</>")]
            style = style & ~mark if tag.startswith("</") else style | mark
            position = match.end()
        _add(spans, raw[position:], style)
        result.append(tuple(spans))
    return result


def _add(spans: list[Span], marked: str, style: Style) -> None:
    if marked:
        spans.append(Span(html.unescape(marked), style))


Render = Callable[[Line], str]


def plain_line(line: Line) -> str:
    return "".join(span.text for span in line)


def html_line(line: Line) -> str:
    """A line as Telegram's HTML (b, i, code), every character of the text escaped."""
    parts = []
    for span in line:
        text = html.escape(span.text, quote=False)
        for name, mark in MARKS.items():
            if span.style & mark:
                text = f"<{name}>{text}</{name}>"
        parts.append(text)
    return "".join(parts)


def plain(text: Rich) -> str:
    return "\n".join(plain_line(line) for line in lines(text))


def split(text: Rich, limit: int, line: Render) -> list[str]:
    """The text rendered in parts of at most `limit` characters of what the reader sees, cut
    between lines; a line longer than that alone is cut between words (a long note)."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for each in lines(text):
        for piece in _fitting(each, limit):
            seen = len(plain_line(piece))
            if current and size + 1 + seen > limit:
                parts.append("\n".join(current).rstrip("\n"))
                current, size = [], 0
            if not current and not seen:
                continue  # a part does not open on a blank line
            size += seen + (1 if current else 0)
            current.append(line(piece))
    parts.append("\n".join(current).rstrip("\n"))
    return parts


def _fitting(line: Line, limit: int) -> list[Line]:
    """A line cut at spaces into pieces of at most `limit` characters (at `limit` when a word
    alone is longer), each piece keeping its spans' styles."""
    text = plain_line(line)
    if len(text) <= limit:
        return [line]
    pieces: list[Line] = []
    start = 0
    while len(text) - start > limit:
        space = text.rfind(" ", start + 1, start + limit + 1)
        end = space if space > start else start + limit
        pieces.append(_part(line, start, len(text[start:end].rstrip(" ")) + start))
        start = end
        while start < len(text) and text[start] == " ":
            start += 1  # the spaces at a cut go
    pieces.append(_part(line, start, len(text)))
    return pieces


def _part(line: Line, start: int, end: int) -> Line:
    """The characters `start` to `end` of a line, in their spans."""
    part: list[Span] = []
    offset = 0
    for span in line:
        low, high = max(start, offset), min(end, offset + len(span.text))
        if low < high:
            part.append(Span(span.text[low - offset : high - offset], span.style))
        offset += len(span.text)
    return tuple(part)
