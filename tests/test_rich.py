"""The bot's own text format: every channel renders it, and a long text is cut where a reader
would not notice (between lines, else between words), never inside a mark."""

import re

from hypothesis import given
from hypothesis import strategies as st

from messages import escape, join_rich
from messages.rich import Rich, Span, Style, html_line, lines, plain, plain_line, split
from tests.fake_telegram import parse_html


def test_marks_become_styles_and_escaped_text_reads_as_typed() -> None:
    text = join_rich(
        [Rich("<b>III.4.2</b> — ") + escape("<b>& a < b"), Rich("<i>ghi <code>x</code></i>")]
    )
    assert lines(text) == [
        (Span("III.4.2", Style.BOLD), Span(" — <b>& a < b")),
        (Span("ghi ", Style.ITALIC), Span("x", Style.ITALIC | Style.CODE)),
    ]
    assert plain(text) == "III.4.2 — <b>& a < b\nghi x"
    assert html_line(lines(text)[0]) == "<b>III.4.2</b> — &lt;b&gt;&amp; a &lt; b"


def test_a_mark_open_across_lines_is_closed_and_reopened_on_each() -> None:
    parts = split(Rich("<b>một\nhai</b> ba"), 1000, html_line)
    assert parts == ["<b>một</b>\n<b>hai</b> ba"]


def test_a_long_text_is_cut_between_lines_then_between_words() -> None:
    text = join_rich([escape("a" * 10), escape(" ".join(["bb"] * 8)), escape("c" * 25)])
    parts = split(text, 12, plain_line)
    assert parts == ["a" * 10, "bb bb bb bb", "bb bb bb bb", "c" * 12, "c" * 12, "c"]


@given(
    st.lists(
        st.tuples(st.sampled_from(["", "b", "i", "code"]), st.text(min_size=0, max_size=80)),
        max_size=30,
    ),
    st.integers(min_value=20, max_value=300),
)
def test_any_text_split_fits_the_limit_keeps_every_word_and_stays_valid_html(
    pieces: list[tuple[str, str]], limit: int
) -> None:
    text = Rich("".join(f"<{m}>{escape(t)}</{m}>" if m else escape(t) for m, t in pieces))
    shown = split(text, limit, plain_line)
    assert all(len(part) <= limit for part in shown)
    assert words(" ".join(shown)) == words(plain(text)) or _words_cut(shown, plain(text), limit)
    for part in split(text, limit, html_line):
        parse_html(part)  # Telegram would take it: no mark cut in half, every & escaped


def words(text: str) -> list[str]:
    """Words as the splitter sees them: between spaces and line breaks."""
    return [word for word in re.split(r"[ \n]+", text) if word]


def _words_cut(parts: list[str], whole: str, limit: int) -> bool:
    """Only a word longer than the limit may be cut inside: the letters are all there."""
    return "".join(words("".join(parts))) == "".join(words(whole)) and any(
        len(word) > limit for word in words(whole)
    )
