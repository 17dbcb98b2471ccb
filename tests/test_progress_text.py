"""Progress reports as teachers text them, and typed KPI values, read the way they are written."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.progress_text import Meaning, Part, Reading, read_progress
from models import Direction, Kpi
from services.kpis import parse_value

PLAN = ("III.1.4", "III.1.11", "III.2.8", "III.3.4", "III.3.5", "III.4.2", "III.5.5")
CLOSE_CODES = (*PLAN, "III.1.1", "III.1.14", "III.11.4")

Expected = tuple[tuple[str | int, ...], Meaning, int | None, str | None]


def done(*refs: str | int, note: str | None = None) -> Expected:
    return refs, Meaning.DONE, 100, note


def percent(value: int, *refs: str | int, note: str | None = None) -> Expected:
    return refs, Meaning.PERCENT, value, note


def over(value: int, *refs: str | int) -> Expected:
    return refs, Meaning.OUT_OF_RANGE, value, None


def blocked(*refs: str | int, note: str | None = None, value: int | None = None) -> Expected:
    return refs, Meaning.BLOCKED, value, note


def unclear(*refs: str | int, note: str | None) -> Expected:
    return refs, Meaning.UNCLEAR, None, note


def row(text: str, *parts: Expected, lines: int = 0, expect: bool = False) -> object:
    return pytest.param(text, lines, expect, list(parts), id=repr(text)[:60])


PHRASINGS = [
    # --- "done" alone, with or without diacritics, wrapped in politeness ---
    row("xong", done()),
    row("XONG", done()),
    row("xong rồi", done()),
    row("xong r", done()),
    row("Xong rồi ạ", done()),
    row("e xong r ạ", done()),
    row("em đã xong", done()),
    row("đã xong", done()),
    row("da xong", done()),
    row("Dạ em xong rồi ạ", done()),
    row("dạ em làm xong rồi ạ", done()),
    row("lam xong roi", done()),
    row("xong hết rồi", done()),
    row("xong het roi a", done()),
    row("Xong xuôi rồi ạ", done()),
    row("hoàn thành", done()),
    row("hoan thanh", done()),
    row("Đã hoàn thành", done()),
    row("đã hoàn thành rồi ạ", done()),
    row("hoàn tất", done()),
    row("hoan tat roi", done()),
    row("Xong rồi thầy ạ", done()),
    row("Dạ xong rồi cô ơi", done()),
    row("Xong rồi chị ạ", done()),
    row("Vâng, em xong rồi ạ", done()),
    row("Báo cáo thầy, em đã hoàn thành ạ", done()),
    row("bc xong", done()),
    row("xong rồi nha", done()),
    row("xong nhé", done()),
    row("xong ạ 🙏", done()),
    row("e da xong r", done()),
    row("xog r", done()),
    row("xonh rồi ạ", done()),
    # --- ok, English and emoji ---
    row("ok", done()),
    row("Ok ạ", done()),
    row("oke", done()),
    row("okie thầy", done()),
    row("okay", done()),
    row("OK!", done()),
    row("done", done()),
    row("Done ạ", done()),
    row("finished", done()),
    row("completed", done()),
    row("👍", done()),
    row("👍👍", done()),
    row("✅", done()),
    row("👌", done()),
    row("🆗", done()),
    # "ok" / 👍 with more to say is an acknowledgement, not a report
    row("oke em sẽ làm ngay", unclear(note="oke em sẽ làm ngay")),
    row("👍 em sẽ nộp sau", unclear(note="👍 em sẽ nộp sau")),
    # --- done, with more words kept as the note ---
    row("hoàn thành, đã nộp biên bản", done(note="đã nộp biên bản")),
    row("Xong rồi ạ, biên bản em để trên drive", done(note="biên bản em để trên drive")),
    row("xong, đã gửi file cho văn phòng", done(note="đã gửi file cho văn phòng")),
    row("đã họp chi bộ xong", done(note="đã họp chi bộ")),
    row("xong rồi, không có vướng mắc gì ạ", done()),
    row("Hết vướng rồi, xong rồi ạ", done()),
    row("xong rồi, mai em nộp biên bản", done(note="mai em nộp biên bản")),
    row("xong rồi thầy, em gửi kèm ảnh minh chứng", done(note="gửi kèm ảnh minh chứng")),
    row("xong rồi, thầy Nam đã ký", done(note="thầy Nam đã ký")),
    row("xong 38/38 lớp", done(note="38/38 lớp")),
    row("xong ạ, đã nộp", done(note="đã nộp")),
    row("e gửi file rồi, xong ạ", done(note="gửi file")),
    row("xong ngày 3/5", done(note="ngày 3/5")),
    # --- partly done, not yet, questions: ask back ---
    row("xong phần khối 6, còn khối 7", unclear(note="xong phần khối 6, còn khối 7")),
    row("xong một phần", unclear(note="xong một phần")),
    row("xong 1 phần", unclear(note="xong 1 phần")),
    row("xong, trừ lớp 9A", unclear(note="xong, trừ lớp 9A")),
    row("Xong nhưng chưa nộp biên bản", unclear(note="Xong nhưng chưa nộp biên bản")),
    row("xong khối 6 thôi ạ", unclear(note="xong khối 6 thôi ạ")),
    row("3/5 lớp xong", unclear(note="3/5 lớp xong")),
    row("Đã xong 3/4 khối", unclear(note="Đã xong 3/4 khối")),
    row("chưa xong", unclear(note="chưa xong")),
    row("chua xong a", unclear(note="chua xong a")),
    row("em chưa làm xong", unclear(note="em chưa làm xong")),
    row("không hoàn thành được", unclear(note="không hoàn thành được")),
    row("khong hoan thanh", unclear(note="khong hoan thanh")),
    row("ko xong dc", unclear(note="ko xong dc")),
    row("k xong", unclear(note="k xong")),
    row("kh xong đâu ạ", unclear(note="kh xong đâu ạ")),
    row("ko ok", unclear(note="ko ok")),
    row("sắp xong rồi ạ", unclear(note="sắp xong rồi ạ")),
    row("sap xong", unclear(note="sap xong")),
    row("gần xong", unclear(note="gần xong")),
    row("gần như xong rồi", unclear(note="gần như xong rồi")),
    row("tuần sau xong", unclear(note="tuần sau xong")),
    row("sẽ hoàn thành trước 30/3", unclear(note="sẽ hoàn thành trước 30/3")),
    row("xong chưa ạ?", unclear(note="xong chưa ạ")),
    row("đã xong chưa", unclear(note="đã xong chưa")),
    row("ht", unclear(note="ht")),
    row("đã ht", unclear(note="đã ht")),
    row("đang làm", unclear(note="đang làm")),
    row("dang lam a", unclear(note="dang lam a")),
    row("hôm nay trời đẹp", unclear(note="hôm nay trời đẹp")),
    row("Dạ vâng ạ", unclear(note="Dạ vâng ạ")),
    row("đã kết thúc", unclear(note="đã kết thúc")),  # "kết" is not "kẹt"
    row("công tác tốt", unclear(note="công tác tốt")),
    # --- percentages ---
    row("80%", percent(80)),
    row("80 %", percent(80)),
    row("80", percent(80)),
    row("được 80", percent(80)),
    row("dc 80 r", percent(80)),
    row("được 60% rồi", percent(60)),
    row("dc 70%", percent(70)),
    row("đc 70%", percent(70)),
    row("đạt 70%", percent(70)),
    row("tiến độ 70%", percent(70)),
    row("tiến độ: 70%", percent(70)),
    row("80 phần trăm", percent(80)),
    row("80 phan tram", percent(80)),
    row("80pt", percent(80)),
    row("được 45 phần trăm", percent(45)),
    row("xong 80%", percent(80)),
    row("đã xong 80% khối 6", percent(80, note="khối 6")),
    row("xong 80%, còn khối 9", percent(80, note="còn khối 9")),
    row("được một nửa", percent(50)),
    row("xong 1 nửa", percent(50)),
    row("làm được một nửa rồi, còn khối 9", percent(50, note="còn khối 9")),
    row("mới được 30% thôi ạ", percent(30)),
    row("khoảng 70%", percent(70)),
    row("tầm 60 thôi ạ", percent(60)),
    row("Dạ được 80% rồi ạ", percent(80)),
    row("làm dc 40% r a", percent(40)),
    row("đang làm được 60%", percent(60)),
    row("tới 80% rồi", percent(80)),
    row("ok 80%", percent(80)),
    row("đã hoàn thành 80% kế hoạch", percent(80, note="kế hoạch")),
    row("90% rồi, tuần sau xong", percent(90, note="tuần sau xong")),
    row("0%", percent(0)),
    row("chưa làm, 0%", percent(0, note="chưa làm")),
    row("chưa xong, mới 80%", percent(80)),
    row("xong 80%, còn 20% nữa", percent(80, note="còn 20% nữa")),
    row("62,5%", percent(62)),  # floored: a report never rounds up
    row("85.5%", percent(85)),
    row("99,9%", percent(99)),
    # --- 100, above 100, and numbers that do not make one percentage ---
    row("100%", done()),
    row("100", done()),
    row("hoàn thành 100%", done()),
    row("xong 100% rồi ạ", done()),
    row("100 phần trăm", done()),
    row("Done 100%", done()),
    row("150%", over(150)),
    row("150", over(150)),
    row("200 %", over(200)),
    row("từ 50% lên 80%", unclear(note="từ 50% lên 80%")),
    row("80-90%", unclear(note="80-90%")),
    row("70 đến 80%", unclear(note="70 đến 80%")),
    row("còn 20%", unclear(note="còn 20%")),
    row("gần 100%", unclear(note="gần 100%")),
    row("chưa được 50%", unclear(note="chưa được 50%")),
    row("chưa xong 100%", unclear(note="chưa xong 100%")),
    row("-10%", unclear(note="-10%")),
    row("sắp xong 100%", unclear(note="sắp xong 100%")),
    row("xong 50% khối 6 và 100% khối 7", unclear(note="xong 50% khối 6 và 100% khối 7")),
    # --- blockers and their reasons, as typed ---
    row("vướng", blocked()),
    row("Vướng: Thiếu MÁY chiếu", blocked(note="Thiếu MÁY chiếu")),
    row("vuong: thieu may chieu", blocked(note="thieu may chieu")),
    row("Vướng mắc - chưa có kinh phí", blocked(note="chưa có kinh phí")),
    row("gặp vướng mắc: chưa có danh sách học sinh", blocked(note="chưa có danh sách học sinh")),
    row("gặp khó khăn: thiếu người", blocked(note="thiếu người")),
    row("khó khăn là thiếu giáo viên tin học", blocked(note="thiếu giáo viên tin học")),
    row("bị kẹt", blocked()),
    row("em bị kẹt r ạ", blocked()),
    row("kẹt, chờ phòng GD duyệt", blocked(note="chờ phòng GD duyệt")),
    row("bi ket o khau duyet", blocked(note="o khau duyet")),
    row("Em đang vướng thiếu máy chiếu ạ", blocked(note="thiếu máy chiếu")),
    row("còn vướng ạ", blocked()),
    row("blocked", blocked()),
    row("stuck: waiting for the district", blocked(note="waiting for the district")),
    row("chưa làm được vì thiếu máy", blocked(note="thiếu máy")),
    row("chua lam duoc vi thieu may", blocked(note="thieu may")),
    row("không làm được do thiếu người", blocked(note="thiếu người")),
    row("ko làm dc vì máy hỏng", blocked(note="máy hỏng")),
    row("chưa xong vì thiếu kinh phí", blocked(note="thiếu kinh phí")),
    row("chưa xong, vì chưa có kinh phí ạ", blocked(note="chưa có kinh phí")),
    row("chưa xong tại vì chưa có kinh phí", blocked(note="chưa có kinh phí")),
    row("chưa triển khai được bởi vì thiếu giáo viên", blocked(note="thiếu giáo viên")),
    row("vì thiếu máy nên chưa xong", blocked(note="thiếu máy")),
    row("được 60% thì vướng kinh phí", blocked(note="kinh phí", value=60)),
    row("chưa xong 80% vì thiếu máy", blocked(note="thiếu máy", value=80)),
    # --- a task code and a word, in either order, however the code is typed ---
    row("III.1.4 xong", done("III.1.4")),
    row("iii.1.4 xong", done("III.1.4")),
    row("xong iii14", done("III.1.4")),
    row("III14 ok", done("III.1.4")),
    row("III 1.4 hoàn thành", done("III.1.4")),
    row("III.1.11 xong", done("III.1.11")),
    row("III.1.4: 80%", percent(80, "III.1.4")),
    row("III.1.4 80%, còn khối 9", percent(80, "III.1.4", note="còn khối 9")),
    row("III.4.2: đạt 90%, còn thiếu khối 9", percent(90, "III.4.2", note="còn thiếu khối 9")),
    row("III.2.8 vướng: chưa có danh sách", blocked("III.2.8", note="chưa có danh sách")),
    row("III.2.8 kẹt vì chưa có danh sách", blocked("III.2.8", note="chưa có danh sách")),
    row("Vì thiếu máy nên III.4.2 chưa xong", blocked("III.4.2", note="thiếu máy")),
    row("✅ III.1.4", done("III.1.4")),
    row("III.1.4 👍", done("III.1.4")),
    row("III.1.4 ok em sẽ làm", unclear("III.1.4", note="ok em sẽ làm")),
    row("III.1.4", unclear("III.1.4", note=None)),
    row("Dạ thầy ơi, III.1.4 xong rồi ạ", done("III.1.4")),
    row("Báo cáo: III.3.4 đã hoàn thành", done("III.3.4")),
    # --- several tasks in one message ---
    row("III.1.4 và III.2.8 xong", done("III.1.4", "III.2.8")),
    row("III.1.4 va III.2.8 xong r", done("III.1.4", "III.2.8")),
    row("III.1.4 III.2.8 xong", done("III.1.4", "III.2.8")),
    row("III.1.4, III.2.8: xong hết", done("III.1.4", "III.2.8")),
    row("xong III.1.4, III.2.8", done("III.1.4", "III.2.8")),
    row("III.1.4 & III.2.8 done", done("III.1.4", "III.2.8")),
    row("III.1.4 + III.3.4 ok", done("III.1.4", "III.3.4")),
    row("III.1.4/III.2.8 xong", done("III.1.4", "III.2.8")),
    row("III.1.4 xong, III.2.8 50%", done("III.1.4"), percent(50, "III.2.8")),
    row("III.1.4 xong rồi, III.2.8 cũng vậy", done("III.1.4", "III.2.8")),
    row("III.1.4 ok, III.2.8 chưa", done("III.1.4"), unclear("III.2.8", note="chưa")),
    row(
        "III.1.4 xong, III.2.8, III.3.4 50%",
        done("III.1.4"),
        percent(50, "III.2.8", "III.3.4"),
    ),
    row(
        "III.1.4 đã xong; III.2.8 được 50%; III.4.2 gặp khó khăn do thiếu máy tính",
        done("III.1.4"),
        percent(50, "III.2.8"),
        blocked("III.4.2", note="thiếu máy tính"),
    ),
    row(
        "III.1.4: xong\nIII.2.8: 70%\nIII.3.4: vướng, chưa có kinh phí",
        done("III.1.4"),
        percent(70, "III.2.8"),
        blocked("III.3.4", note="chưa có kinh phí"),
    ),
    row("Em báo cáo tiến độ ạ\nIII.1.4 xong\nIII.2.8 50%", done("III.1.4"), percent(50, "III.2.8")),
    row(
        "III.1.4 xong. III.2.8 thì mới được 40% ạ",
        done("III.1.4"),
        percent(40, "III.2.8"),
    ),
    row(
        "Báo cáo thầy: III.1.4 đã hoàn thành, III.2.8 đang làm được 60%",
        done("III.1.4"),
        percent(60, "III.2.8"),
    ),
    row(
        "em xong III.1.4 rồi, còn III.2.8 thì chưa",
        done("III.1.4"),
        unclear("III.2.8", note="còn thì chưa"),
    ),
    # --- /capnhat: a number right after the code is the percentage ---
    row(
        "III.4.2 60 đã số hoá khối 6", percent(60, "III.4.2", note="đã số hoá khối 6"), expect=True
    ),
    row("III.4.2 60", percent(60, "III.4.2"), expect=True),
    row("III.4.2: 75 ạ", percent(75, "III.4.2"), expect=True),
    row(
        "III.4.2 60% đã số hoá khối 6", percent(60, "III.4.2", note="đã số hoá khối 6"), expect=True
    ),
    row("III.4.2 100", done("III.4.2"), expect=True),
    row("III.4.2 150", over(150, "III.4.2"), expect=True),
    row("III.4.2 xong", done("III.4.2"), expect=True),
    row("III.4.2 -5", unclear("III.4.2", note="-5"), expect=True),
    row("III.4.2 60 a < b && c > d", percent(60, "III.4.2", note="a < b && c > d"), expect=True),
    row("III.4.2 60 đã số hoá khối 6", unclear("III.4.2", note="60 đã số hoá khối 6")),
    # --- numbered answers to a grouped reminder ---
    row("1 xong", done(1), lines=2),
    row("dạ 1 xong ạ", done(1), lines=2),
    row("1 xong, 2 50%", done(1), percent(50, 2), lines=3),
    row("2. 50%", percent(50, 2), lines=3),
    row("3: vướng thiếu máy", blocked(3, note="thiếu máy"), lines=3),
    row("việc 2 xong", done(2), lines=3),
    row("số 1 ok", done(1), lines=3),
    row("#2 xong", done(2), lines=3),
    row("1 và 2 xong", done(1, 2), lines=3),
    row("1, 2 xong", done(1, 2), lines=3),
    row("1,2 xong", done(1, 2), lines=3),
    row("1, 2, 3 đều xong", done(1, 2, 3), lines=3),
    row("xong 1 và 2", done(1, 2), lines=3),
    row(
        "1. Xong\n2. Đang làm 50%\n3. Vướng: thiếu máy",
        done(1),
        percent(50, 2),
        blocked(3, note="thiếu máy"),
        lines=3,
    ),
    row("1 ok\n2 chua\n3 80", done(1), unclear(2, note="chua"), percent(80, 3), lines=3),
    row("1) xong 2) vướng: thiếu máy", done(1), blocked(2, note="thiếu máy"), lines=2),
    row("1 xong 2 chưa", done(1), unclear(2, note="chưa"), lines=2),
    row(
        "việc 1 xong rồi ạ, việc 2 em đang làm được 30%",
        done(1),
        percent(30, 2),
        lines=2,
    ),
    row("1 và 3 xong, 2 đang làm 50%", done(1, 3), percent(50, 2), lines=3),
    row("câu 3 chưa làm được vì thiếu máy", blocked(3, note="thiếu máy"), lines=3),
    row("1 xong 2 lớp", done(1, note="2 lớp"), lines=3),
    row("80", percent(80), lines=3),
    row("1 xong", done(note="1")),
]


@pytest.mark.parametrize(("text", "lines", "expect", "parts"), PHRASINGS)
def test_phrasings(text: str, lines: int, expect: bool, parts: list[Expected]) -> None:
    reading = read_progress(text, PLAN, lines=lines, expect_percent=expect)
    got = [(p.codes or p.lines, p.meaning, p.percent, p.note) for p in reading.parts]
    assert got == parts
    assert (reading.unknown_codes, reading.ambiguous) == ((), ())


def test_there_are_enough_phrasings() -> None:
    assert len(PHRASINGS) >= 150


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_nothing_written_is_unclear(text: str) -> None:
    assert read_progress(text, PLAN) == Reading(parts=(Part(Meaning.UNCLEAR),))


def test_a_code_matching_several_known_codes_is_ambiguous() -> None:
    reading = read_progress("III114 xong", CLOSE_CODES)
    assert [(a.written, a.codes) for a in reading.ambiguous] == [
        ("III114", ("III.1.14", "III.11.4"))
    ]
    assert [(p.codes, p.meaning) for p in reading.parts] == [((), Meaning.DONE)]


@pytest.mark.parametrize(
    ("text", "code"),
    [("III.1.14 xong", "III.1.14"), ("iii.11.4 xong", "III.11.4"), ("III.1.1 xong", "III.1.1")],
)
def test_a_code_spelled_out_is_not_ambiguous(text: str, code: str) -> None:
    reading = read_progress(text, CLOSE_CODES)
    assert (reading.parts[0].codes, reading.ambiguous) == ((code,), ())


def test_unknown_codes_are_reported_and_kept_apart() -> None:
    reading = read_progress("III.1.4 xong, III.9.9 50%", PLAN)
    assert reading.unknown_codes == ("III.9.9",)
    assert [(p.codes, p.meaning, p.percent) for p in reading.parts] == [
        (("III.1.4",), Meaning.DONE, 100),
        ((), Meaning.PERCENT, 50),
    ]
    assert read_progress("iv.2 xong", PLAN).unknown_codes == ("iv.2",)


def test_a_code_typed_short_of_a_digit_is_ambiguous() -> None:
    reading = read_progress("III.11 xong", CLOSE_CODES)
    assert reading.parts[0].codes == ()
    assert {"III.1.1", "III.1.11"} <= set(reading.ambiguous[0].codes)
    assert read_progress("iii14 xong", CLOSE_CODES).parts[0].codes == ("III.1.4",)


def test_codes_are_matched_on_the_text_as_typed() -> None:
    reading = read_progress("vì thiếu máy nên VI.1 chưa xong", ("VI.1",))
    assert reading.parts[0].codes == ("VI.1",)
    assert reading.parts[0].note == "thiếu máy"


def test_words_keep_everything_but_codes_and_line_numbers() -> None:
    assert read_progress("III.1.4 đã nộp biên bản", PLAN).parts[0].words == "đã nộp biên bản"
    assert read_progress("III.1.4 và III.2.8 xong rồi ạ", PLAN).parts[0].words == "xong rồi ạ"
    assert read_progress("2. Đang làm 50%", lines=3).parts[0].words == "Đang làm 50%"
    assert read_progress("III.1.4", PLAN).parts[0].words is None


@pytest.mark.parametrize(
    "note", ["<b>&", "*_[", "a < b && c > d", "&amp; <i>nghiêng</i>", "&" * 999]
)
def test_notes_keep_markup_as_typed(note: str) -> None:
    assert read_progress(f"III.4.2 60 {note}", PLAN, expect_percent=True).parts[0].note == note
    assert read_progress(f"vướng: {note}", PLAN).parts[0].note == note
    assert read_progress(note, PLAN).parts[0].note == note


@pytest.mark.parametrize(
    "text", ["<b>&", "\x00\x1f xong \x7f", "👍🏻", "a" * 10_000, "xong " * 2000]
)
def test_odd_text_is_read_without_error(text: str) -> None:
    assert read_progress(text, PLAN, lines=3, expect_percent=True).parts


@given(
    text=st.text(max_size=300),
    codes=st.lists(st.sampled_from(CLOSE_CODES), max_size=4),
    lines=st.integers(0, 5),
    expect=st.booleans(),
)
def test_any_text_is_read(text: str, codes: list[str], lines: int, expect: bool) -> None:
    reading = read_progress(text, codes, lines=lines, expect_percent=expect)
    assert reading.parts
    for part in reading.parts:
        if part.meaning == Meaning.UNCLEAR:
            assert part.note == part.words


WORDS = [
    "xong", "ok", "dạ", "ạ", "em", "vướng:", "thiếu", "máy", "chưa", "vì", "80%", "150", "1", "2",
    "một", "nửa", "được", "còn", "khối", "9", "👍", "?", "<b>", "đã", "hoàn", "thành", "ko", "r",
    "thầy", "ơi", "sắp", "trừ", "do", "nên", "tiến", "độ", "Thiếu", "MÁY",
]  # fmt: skip
CODE_WORDS = ["III.1.4", "iii14", "III.2.8", "III114", "III.9.9"]
SEPARATORS = [" ", " ", ", ", "\n", " và ", "; ", ". "]


@given(
    tokens=st.lists(
        st.tuples(st.sampled_from(WORDS + CODE_WORDS), st.sampled_from(SEPARATORS)), max_size=12
    ),
    lines=st.sampled_from([0, 3]),
    expect=st.booleans(),
)
def test_every_word_is_kept_or_parsed(
    tokens: list[tuple[str, str]], lines: int, expect: bool
) -> None:
    text = "".join(token + separator for token, separator in tokens)
    reading = read_progress(text, CLOSE_CODES, lines=lines, expect_percent=expect)
    kept = " ".join(part.words or "" for part in reading.parts).casefold()
    for token, _ in tokens:
        word = token.strip(".,;:!?")
        if token in CODE_WORDS or (lines and word.isdigit()) or not word:
            continue
        assert word.casefold() in kept
    for part in reading.parts:
        assert part.note is None or all(piece in (part.words or "") for piece in part.note.split())
        again = read_progress(part.words or "", CLOSE_CODES)
        assert [p.codes for p in again.parts] == [()]
        assert again.ambiguous == ()


def kpi(direction: str, measure: str | None = "%") -> Kpi:
    return Kpi(
        school_id=1,
        key="k",
        name="k",
        measure=measure,
        direction=direction,
        target=1,
        target_year=2026,
    )


@pytest.mark.parametrize(
    ("text", "value", "count"),
    [
        ("0,4", 0.4, None),
        ("0.4", 0.4, None),
        ("96%", 96.0, None),
        ("3/620", 3 / 620 * 100, (3, 620)),
        ("3 / 620", 3 / 620 * 100, (3, 620)),
    ],
)
def test_kpi_values(text: str, value: float, count: tuple[int, int] | None) -> None:
    parsed = parse_value(text, kpi(Direction.AT_MOST))
    assert parsed.value == pytest.approx(value)
    assert (parsed.numerator, parsed.denominator) == (count or (None, None))


@pytest.mark.parametrize("text", ["abc", "1/0", "5/3", "101%", "-1", "0,4,5", ""])
def test_bad_kpi_values_are_refused(text: str) -> None:
    assert parse_value(text, kpi(Direction.AT_MOST)) is None


def test_yes_no_and_plain_counts() -> None:
    assert parse_value("có", kpi(Direction.YES_NO, None)).value == 1.0
    assert parse_value("chưa", kpi(Direction.YES_NO, None)).value == 0.0
    assert parse_value("3", kpi(Direction.YES_NO, None)) is None
    assert parse_value("38", kpi(Direction.EQUAL, "lớp")).value == 38.0
    assert parse_value("31/38", kpi(Direction.EQUAL, "lớp")).value == pytest.approx(31 / 38)
