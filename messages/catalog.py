"""Every user-facing text, Vietnamese first and English second. Placeholders use str.format."""

LOCALES = ("vi", "en")

CATALOG: dict[str, dict[str, str]] = {
    # --- configuration -----------------------------------------------------------------------
    "config.invalid": {
        "vi": "Cấu hình sai ở biến {variable} (giá trị: {value!r}): {expected}",
        "en": "Bad configuration in {variable} (value: {value!r}): {expected}",
    },
    "config.expected.DATABASE_URL": {
        "vi": "cần sqlite:///đường/dẫn.db hoặc postgresql://người_dùng:mật_khẩu@máy/tên_csdl.",
        "en": "expected sqlite:///path.db or postgresql://user:password@host/database.",
    },
    "config.expected.TELEGRAM_BOT_TOKEN": {
        "vi": "cần mã bot do BotFather cấp, dạng 123456:ABC...",
        "en": "expected the token BotFather gave you, like 123456:ABC...",
    },
    "config.expected.TELEGRAM_API_BASE_URL": {
        "vi": "cần một địa chỉ dạng https://api.telegram.org/bot.",
        "en": "expected an address like https://api.telegram.org/bot.",
    },
    "config.expected.TELEGRAM_BOT_USERNAME": {
        "vi": "cần tên bot không có @, ví dụ dondoc_bot.",
        "en": "expected the bot's username without @, e.g. dondoc_bot.",
    },
    "config.expected.DEFAULT_TIMEZONE": {
        "vi": "cần tên múi giờ IANA, ví dụ Asia/Ho_Chi_Minh.",
        "en": "expected an IANA time zone, e.g. Asia/Ho_Chi_Minh.",
    },
    "config.expected.LOG_LEVEL": {
        "vi": "cần một trong DEBUG, INFO, WARNING, ERROR.",
        "en": "expected one of DEBUG, INFO, WARNING, ERROR.",
    },
    "config.expected.INVITATION_TTL_DAYS": {
        "vi": "cần số ngày hiệu lực của mã mời, từ 1 đến 365.",
        "en": "expected the invitation lifetime in days, from 1 to 365.",
    },
    "file.not_found": {
        "vi": "không tìm thấy tệp {path}.",
        "en": "file {path} not found.",
    },
    # --- plan files --------------------------------------------------------------------------
    "plan.file_refused": {
        "vi": "Không nhập tệp {file}; cơ sở dữ liệu giữ nguyên. Cần sửa:",
        "en": "File {file} was not imported; the database is unchanged. To fix:",
    },
    "plan.more_problems": {
        "vi": "  … và {count} lỗi khác.",
        "en": "  … and {count} more problems.",
    },
    "plan.unknown_format": {
        "vi": "chỉ nhận tệp .yaml, .yml, .json hoặc .xlsx.",
        "en": "only .yaml, .yml, .json or .xlsx files are accepted.",
    },
    "plan.not_utf8": {
        "vi": "tệp không ở mã UTF-8; hãy lưu lại với mã UTF-8.",
        "en": "the file is not UTF-8; save it again as UTF-8.",
    },
    "plan.syntax": {
        "vi": "sai cú pháp YAML{where}: {problem}. Kiểm tra thụt lề và dấu hai chấm.",
        "en": "YAML syntax error{where}: {problem}. Check indentation and colons.",
    },
    "plan.at_line": {
        "vi": " ở dòng {line}, cột {column}",
        "en": " at line {line}, column {column}",
    },
    "plan.at_path": {"vi": "dòng {line} ({path})", "en": "line {line} ({path})"},
    "plan.whole_file": {"vi": "toàn tệp", "en": "whole file"},
    "plan.at_sheet": {"vi": "trang '{sheet}'", "en": "sheet '{sheet}'"},
    "plan.at_row": {"vi": "dòng {row}", "en": "row {row}"},
    "plan.at_column": {"vi": "cột '{column}'", "en": "column '{column}'"},
    "plan.bad_workbook": {
        "vi": "không mở được tệp Excel; hãy lưu lại dạng .xlsx (tạo mẫu: dondoc plan template).",
        "en": "cannot open the Excel file; save it as .xlsx (template: dondoc plan template).",
    },
    "plan.missing_sheet": {
        "vi": "thiếu trang '{sheet}' (tạo mẫu đúng: dondoc plan template).",
        "en": "sheet '{sheet}' is missing (get the template: dondoc plan template).",
    },
    "plan.unknown_column": {
        "vi": "trang '{sheet}' có cột lạ '{column}'; hãy dùng đúng tiêu đề cột của mẫu.",
        "en": "sheet '{sheet}' has an unknown column '{column}'; use the template's headers.",
    },
    "plan.missing_field": {
        "vi": "thiếu trường bắt buộc '{field}'.",
        "en": "required field '{field}' is missing.",
    },
    "plan.unknown_field": {
        "vi": "trường lạ '{field}'; kiểm tra chính tả (các mục: school, units, kpis, tasks).",
        "en": "unknown field '{field}'; check the spelling (sections: school, units, kpis, tasks).",
    },
    "plan.too_long": {"vi": "dài quá {max} ký tự.", "en": "longer than {max} characters."},
    "plan.empty_value": {"vi": "không được để trống.", "en": "must not be empty."},
    "plan.empty_list": {
        "vi": "cần ít nhất một mục.",
        "en": "needs at least one entry.",
    },
    "plan.bad_choice": {
        "vi": "giá trị '{value}' không hợp lệ; cần một trong: {choices}.",
        "en": "'{value}' is not valid; expected one of: {choices}.",
    },
    "plan.out_of_range": {
        "vi": "giá trị {value} nằm ngoài khoảng cho phép (năm từ 2000 đến 2100).",
        "en": "{value} is out of range (years 2000 to 2100).",
    },
    "plan.need_number": {
        "vi": "'{value}' không phải là số; hãy ghi một số, ví dụ 0,5 hoặc 96.",
        "en": "'{value}' is not a number; write a number such as 0.5 or 96.",
    },
    "plan.wrong_shape": {
        "vi": "sai cấu trúc; tệp cần các mục school, units, kpis, tasks như tệp mẫu.",
        "en": "wrong structure; the file needs school, units, kpis, tasks as in the template.",
    },
    "plan.bad_code": {
        "vi": "mã '{value}' không hợp lệ; mã không chứa khoảng trắng, ví dụ III.4.2 hoặc VANPHONG.",
        "en": "code '{value}' is not valid; codes have no spaces, e.g. III.4.2 or VANPHONG.",
    },
    "plan.bad_kpi_key": {
        "vi": "mã chỉ số '{value}' không hợp lệ; dùng chữ thường không dấu và _, ví dụ dropout.",
        "en": "KPI key '{value}' is not valid; use lowercase letters and _, e.g. dropout.",
    },
    "plan.bad_date_format": {
        "vi": "'{value}' không phải là ngày; hãy ghi dd/mm/yyyy (ví dụ 31/03/2026) hoặc 2026-03-31.",
        "en": "'{value}' is not a date; write dd/mm/yyyy (e.g. 31/03/2026) or 2026-03-31.",
    },
    "plan.impossible_date": {
        "vi": "ngày '{value}' không tồn tại; hãy ghi một ngày có thật dạng dd/mm/yyyy.",
        "en": "date '{value}' does not exist; write a real date as dd/mm/yyyy.",
    },
    "plan.bad_timezone": {
        "vi": "múi giờ '{value}' không hợp lệ; ví dụ Asia/Ho_Chi_Minh.",
        "en": "time zone '{value}' is not valid; e.g. Asia/Ho_Chi_Minh.",
    },
    "plan.bad_target": {
        "vi": "mục tiêu '{value}' không hợp lệ; ghi một số (ví dụ 0,5) hoặc có/không.",
        "en": "target '{value}' is not valid; write a number (e.g. 0.5) or yes/no.",
    },
    "plan.target_needs_yes_no": {
        "vi": "chỉ số dạng có/không cần mục tiêu là có (true) hoặc không (false), không phải {value}.",
        "en": "a yes/no KPI needs a target of yes (true) or no (false), not {value}.",
    },
    "plan.target_needs_number": {
        "vi": "chỉ số này cần mục tiêu là một số, không phải {value}; hoặc đặt direction: yes_no.",
        "en": "this KPI needs a numeric target, not {value}; or set direction: yes_no.",
    },
    "plan.bad_recurrence": {
        "vi": "lịch lặp '{value}' không hợp lệ; dùng weekly:fri, monthly:25, yearly:05/09, "
        "semester hoặc school_year.",
        "en": "recurrence '{value}' is not valid; use weekly:fri, monthly:25, yearly:05/09, "
        "semester or school_year.",
    },
    "plan.deadline_or_recurrence": {
        "vi": "mỗi nhiệm vụ cần đúng một trong hai: deadline (hạn) hoặc recurrence (lặp lại).",
        "en": "each task needs exactly one of deadline or recurrence.",
    },
    "plan.duplicate": {
        "vi": "mã '{value}' bị trùng; mỗi mã chỉ được dùng một lần.",
        "en": "code '{value}' is duplicated; each code may appear once.",
    },
    "plan.unknown_unit": {
        "vi": "không có tổ/bộ phận mã '{value}'; hãy dùng một trong: {known}.",
        "en": "there is no unit with code '{value}'; use one of: {known}.",
    },
    "plan.imported": {
        "vi": "Đã nhập kế hoạch của {school}: {units} tổ/bộ phận, {kpis} chỉ số, {tasks} nhiệm vụ "
        "({created} mới, {updated} cập nhật, {unchanged} giữ nguyên).",
        "en": "Imported the plan of {school}: {units} units, {kpis} KPIs, {tasks} tasks "
        "({created} new, {updated} updated, {unchanged} unchanged).",
    },
    "plan.template_written": {
        "vi": "Đã ghi mẫu Excel trống vào {path}. Điền các trang rồi chạy: dondoc plan import {path}",
        "en": "Wrote the empty Excel template to {path}. Fill it in, then: dondoc plan import {path}",
    },
    "plan.exported": {"vi": "Đã xuất kế hoạch ra {path}.", "en": "Exported the plan to {path}."},
    "plan.xlsx_needs_out": {
        "vi": "Định dạng xlsx cần --out TỆP.xlsx.",
        "en": "The xlsx format needs --out FILE.xlsx.",
    },
    "plan.bad_export_format": {
        "vi": "Định dạng '{value}' không hỗ trợ; dùng yaml, json hoặc xlsx.",
        "en": "Format '{value}' is not supported; use yaml, json or xlsx.",
    },
    # --- the Excel form ----------------------------------------------------------------------
    "xlsx.sheet.school": {"vi": "Trường", "en": "School"},
    "xlsx.sheet.units": {"vi": "Tổ - bộ phận", "en": "Units"},
    "xlsx.sheet.kpis": {"vi": "Chỉ số", "en": "KPIs"},
    "xlsx.sheet.tasks": {"vi": "Nhiệm vụ", "en": "Tasks"},
    "xlsx.sheet.guide": {"vi": "Hướng dẫn", "en": "Guide"},
    "xlsx.column.school.code": {"vi": "Mã trường", "en": "School code"},
    "xlsx.column.school.name": {"vi": "Tên trường", "en": "School name"},
    "xlsx.column.school.timezone": {"vi": "Múi giờ", "en": "Time zone"},
    "xlsx.column.school.plan": {"vi": "Kế hoạch", "en": "Plan"},
    "xlsx.column.units.code": {"vi": "Mã", "en": "Code"},
    "xlsx.column.units.name": {"vi": "Tên tổ/bộ phận", "en": "Unit name"},
    "xlsx.column.units.description": {"vi": "Nhiệm vụ chung", "en": "Role"},
    "xlsx.column.kpis.key": {"vi": "Mã chỉ số", "en": "Key"},
    "xlsx.column.kpis.name": {"vi": "Chỉ số", "en": "Indicator"},
    "xlsx.column.kpis.measure": {"vi": "Đơn vị tính", "en": "Measure"},
    "xlsx.column.kpis.direction": {"vi": "Chiều", "en": "Direction"},
    "xlsx.column.kpis.target": {"vi": "Mục tiêu", "en": "Target"},
    "xlsx.column.kpis.year": {"vi": "Năm", "en": "Year"},
    "xlsx.column.kpis.section": {"vi": "Mục", "en": "Section"},
    "xlsx.column.tasks.code": {"vi": "Mã", "en": "Code"},
    "xlsx.column.tasks.title": {"vi": "Nhiệm vụ", "en": "Task"},
    "xlsx.column.tasks.description": {"vi": "Mô tả", "en": "Description"},
    "xlsx.column.tasks.section": {"vi": "Mục", "en": "Section"},
    "xlsx.column.tasks.unit": {"vi": "Tổ/bộ phận", "en": "Unit"},
    "xlsx.column.tasks.deadline": {"vi": "Hạn", "en": "Deadline"},
    "xlsx.column.tasks.recurrence": {"vi": "Lặp lại", "en": "Recurrence"},
    "xlsx.yes": {"vi": "có", "en": "yes"},
    "xlsx.no": {"vi": "không", "en": "no"},
    "xlsx.guide": {
        "vi": "Mẫu kế hoạch dondoc: điền các trang Trường, Tổ - bộ phận, Chỉ số, Nhiệm vụ; "
        "giữ nguyên dòng tiêu đề.\n"
        "Trường: một dòng — mã trường (không dấu cách, ví dụ THCS-TT2), tên trường, "
        "múi giờ (Asia/Ho_Chi_Minh), tên kế hoạch.\n"
        "Tổ - bộ phận: mã (ví dụ VANPHONG), tên, nhiệm vụ chung.\n"
        "Chỉ số: mã chỉ số (chữ thường không dấu, ví dụ dropout), tên, đơn vị tính (%, lớp…), "
        "chiều (<=, >=, <, >, =, yes_no), mục tiêu (số, hoặc có/không với yes_no), năm, mục.\n"
        "Nhiệm vụ: mã (ví dụ III.4.2), tên nhiệm vụ, mô tả, mục, mã tổ/bộ phận phụ trách, "
        "và đúng một trong hai cột: Hạn (dd/mm/yyyy) hoặc Lặp lại.\n"
        "Lặp lại: weekly:fri (hằng tuần, thứ Sáu), monthly:25 (ngày 25 hằng tháng), "
        "yearly:05/09 (hằng năm), semester (cuối mỗi học kỳ), school_year (đầu năm học).\n"
        "Nhập: dondoc plan import tệp.xlsx — nhập lại nhiều lần không tạo trùng, "
        "không xoá lịch sử tiến độ.",
        "en": "dondoc plan template: fill in the School, Units, KPIs and Tasks sheets; "
        "keep the header row.\n"
        "School: one row — code (no spaces, e.g. THCS-TT2), name, time zone, plan title.\n"
        "Units: code (e.g. VANPHONG), name, role.\n"
        "KPIs: key (lowercase, e.g. dropout), name, measure (%, classes…), direction "
        "(<=, >=, <, >, =, yes_no), target (a number, or yes/no for yes_no), year, section.\n"
        "Tasks: code (e.g. III.4.2), title, description, section, unit code, and exactly one "
        "of Deadline (dd/mm/yyyy) or Recurrence.\n"
        "Recurrence: weekly:fri, monthly:25, yearly:05/09, semester, school_year.\n"
        "Import: dondoc plan import file.xlsx — importing again never duplicates rows "
        "nor deletes progress history.",
    },
    # --- schools -----------------------------------------------------------------------------
    "school.none": {
        "vi": "Chưa có trường nào trong cơ sở dữ liệu; hãy chạy: dondoc plan import",
        "en": "There is no school in the database yet; run: dondoc plan import",
    },
    "school.unknown": {
        "vi": "Không có trường mã '{code}'; các trường hiện có: {known}.",
        "en": "There is no school with code '{code}'; schools: {known}.",
    },
    "school.ambiguous": {
        "vi": "Cơ sở dữ liệu có {count} trường; hãy thêm --school MÃ (một trong: {known}).",
        "en": "The database holds {count} schools; add --school CODE (one of: {known}).",
    },
    "school.mismatch": {
        "vi": "Tệp là kế hoạch của trường '{file_code}', không phải '{code}'; "
        "hãy sửa mã trường trong tệp hoặc bỏ --school.",
        "en": "The file is the plan of school '{file_code}', not '{code}'; "
        "fix the school code in the file or drop --school.",
    },
    # --- people ------------------------------------------------------------------------------
    "people.file_refused": {
        "vi": "Không nhập danh sách {file}; cơ sở dữ liệu giữ nguyên. Cần sửa:",
        "en": "List {file} was not imported; the database is unchanged. To fix:",
    },
    "people.unknown_format": {
        "vi": "chỉ nhận tệp .csv hoặc .xlsx với tiêu đề name,unit,role,phone.",
        "en": "only .csv or .xlsx files with the header name,unit,role,phone are accepted.",
    },
    "people.bad_header": {
        "vi": "dòng tiêu đề cần các cột name,unit,role,phone (hoặc Họ tên, Tổ/bộ phận, Vai trò, "
        "Điện thoại); đang thiếu: {missing}.",
        "en": "the header needs name,unit,role,phone; missing: {missing}.",
    },
    "people.row": {"vi": "dòng {row}: {problem}", "en": "row {row}: {problem}"},
    "people.missing_name": {
        "vi": "thiếu họ tên; hãy ghi họ và tên đầy đủ ở cột name (Họ tên).",
        "en": "the name is missing; write the full name in the name column.",
    },
    "people.unknown_unit": {
        "vi": "không có tổ/bộ phận '{value}'; hãy ghi mã hoặc tên, một trong: {known}.",
        "en": "there is no unit '{value}'; write a code or name, one of: {known}.",
    },
    "people.unknown_role": {
        "vi": "vai trò '{value}' không hợp lệ; hãy ghi Hiệu trưởng, Phó hiệu trưởng, "
        "Tổ trưởng/Trưởng bộ phận hoặc Giáo viên/Nhân viên.",
        "en": "role '{value}' is not valid; write principal, vice_principal, unit_head or staff.",
    },
    "people.bad_phone": {
        "vi": "số điện thoại '{value}' không hợp lệ; ghi 10 chữ số, ví dụ 0912345678.",
        "en": "phone '{value}' is not valid; write 10 digits, e.g. 0912345678.",
    },
    "people.conflict": {
        "vi": "'{name}' có hai vai trò khác nhau trong cùng tổ/bộ phận {unit}.",
        "en": "'{name}' has two different roles in the same unit {unit}.",
    },
    "people.ambiguous": {
        "vi": "có nhiều người tên '{name}'; hãy ghi thêm số điện thoại để phân biệt.",
        "en": "several people are named '{name}'; add the phone number to tell them apart.",
    },
    "people.shared_phone": {
        "vi": "số điện thoại {phone} đang dùng cho nhiều người ({names}); mỗi người một số, "
        "hãy sửa lại trong tệp.",
        "en": "phone {phone} belongs to several people ({names}); give each person their own "
        "number in the file.",
    },
    "people.empty": {
        "vi": "tệp không có dòng dữ liệu nào dưới dòng tiêu đề.",
        "en": "the file has no rows below the header.",
    },
    "people.imported": {
        "vi": "Đã nhập {rows} dòng: {created} người mới, {updated} người cập nhật; "
        "{memberships} lượt thuộc tổ/bộ phận.",
        "en": "Imported {rows} rows: {created} new people, {updated} updated; "
        "{memberships} unit memberships.",
    },
    # --- roles -------------------------------------------------------------------------------
    "role.principal": {"vi": "Hiệu trưởng", "en": "Principal"},
    "role.vice_principal": {"vi": "Phó hiệu trưởng", "en": "Vice principal"},
    "role.unit_head": {"vi": "Tổ trưởng/Trưởng bộ phận", "en": "Unit head"},
    "role.staff": {"vi": "Giáo viên/Nhân viên", "en": "Teacher/Staff"},
    # --- invitations -------------------------------------------------------------------------
    "invite.none": {
        "vi": "Mọi người đều đã tham gia hoặc chưa có ai; nhập danh sách: dondoc people import TỆP",
        "en": "Everyone has joined or nobody is listed; import people: dondoc people import FILE",
    },
    "invite.header": {
        "vi": "Mã mời của {school} (dùng một lần, hết hạn {expires}). Mã cũ chưa dùng đã bị huỷ.",
        "en": "Invitations of {school} (single use, expire {expires}). "
        "Earlier unused codes are revoked.",
    },
    "invite.line": {
        "vi": "{name} — {units} — {role} — mã: {code}",
        "en": "{name} — {units} — {role} — code: {code}",
    },
    "invite.link": {"vi": "    liên kết: {link}", "en": "    link: {link}"},
    # --- database ----------------------------------------------------------------------------
    "db.upgraded": {
        "vi": "Cơ sở dữ liệu đã ở phiên bản mới nhất ({url}).",
        "en": "The database schema is up to date ({url}).",
    },
    "db.unreachable": {
        "vi": "Không kết nối được cơ sở dữ liệu {url}: {reason}. Kiểm tra DATABASE_URL.",
        "en": "Cannot connect to the database {url}: {reason}. Check DATABASE_URL.",
    },
    # --- plan overview (demo) ----------------------------------------------------------------
    "overview.title": {
        "vi": "{school}\n{plan}",
        "en": "{school}\n{plan}",
    },
    "overview.units": {
        "vi": "TỔ/BỘ PHẬN VÀ NHIỆM VỤ ({units} tổ/bộ phận, {tasks} nhiệm vụ)",
        "en": "UNITS AND TASKS ({units} units, {tasks} tasks)",
    },
    "overview.unit": {
        "vi": "■ {name} ({code}) — {count} nhiệm vụ",
        "en": "■ {name} ({code}) — {count} tasks",
    },
    "overview.task_deadline": {
        "vi": "  • {code} {title}\n      hạn {deadline} ({countdown})",
        "en": "  • {code} {title}\n      due {deadline} ({countdown})",
    },
    "overview.task_recurring": {
        "vi": "  • {code} {title}\n      {rule}; lần tới {next}",
        "en": "  • {code} {title}\n      {rule}; next {next}",
    },
    "overview.kpis": {"vi": "CHỈ SỐ MỤC TIÊU NĂM {year}", "en": "KPI TARGETS FOR {year}"},
    "overview.kpi": {"vi": "  • {name} [{key}]: {target}", "en": "  • {name} [{key}]: {target}"},
    "overview.demo_db": {
        "vi": "Cơ sở dữ liệu thử: {path}",
        "en": "Demo database: {path}",
    },
    "overview.next_steps": {
        "vi": "Tiếp theo: nhập danh sách cán bộ (dondoc people import TỆP.csv) và in mã mời "
        "(dondoc invite).",
        "en": "Next: import the staff list (dondoc people import FILE.csv) and print invitations "
        "(dondoc invite).",
    },
    "countdown.left": {"vi": "còn {days} ngày", "en": "{days} days left"},
    "countdown.today": {"vi": "hạn hôm nay", "en": "due today"},
    "countdown.overdue": {"vi": "quá hạn {days} ngày", "en": "{days} days overdue"},
    "target.yes": {"vi": "phải đạt", "en": "must be met"},
    "target.no": {"vi": "không yêu cầu", "en": "not required"},
    "direction.<=": {"vi": "≤ {value}", "en": "≤ {value}"},
    "direction.>=": {"vi": "≥ {value}", "en": "≥ {value}"},
    "direction.<": {"vi": "dưới {value}", "en": "below {value}"},
    "direction.>": {"vi": "trên {value}", "en": "above {value}"},
    "direction.=": {"vi": "{value}", "en": "{value}"},
    "recurrence.week": {"vi": "hằng tuần vào {weekday}", "en": "every week on {weekday}"},
    "recurrence.month": {"vi": "ngày {day} hằng tháng", "en": "every month on day {day}"},
    "recurrence.year": {"vi": "hằng năm vào ngày {dates}", "en": "every year on {dates}"},
    "recurrence.years": {"vi": "hằng năm vào các ngày {dates}", "en": "every year on {dates}"},
    "weekday.0": {"vi": "thứ Hai", "en": "Monday"},
    "weekday.1": {"vi": "thứ Ba", "en": "Tuesday"},
    "weekday.2": {"vi": "thứ Tư", "en": "Wednesday"},
    "weekday.3": {"vi": "thứ Năm", "en": "Thursday"},
    "weekday.4": {"vi": "thứ Sáu", "en": "Friday"},
    "weekday.5": {"vi": "thứ Bảy", "en": "Saturday"},
    "weekday.6": {"vi": "Chủ nhật", "en": "Sunday"},
    # --- command line help -------------------------------------------------------------------
    "cli.help": {
        "vi": "dondoc — chatbot đôn đốc thực hiện kế hoạch của nhà trường.",
        "en": "dondoc — the chatbot that follows up a school's plan.",
    },
    "cli.school": {
        "vi": "Mã trường, khi cơ sở dữ liệu có nhiều trường.",
        "en": "School code, when the database holds several schools.",
    },
    "cli.db": {"vi": "Quản lý cơ sở dữ liệu.", "en": "Manage the database."},
    "cli.db.upgrade": {
        "vi": "Tạo hoặc nâng cấp lược đồ cơ sở dữ liệu.",
        "en": "Create or migrate the database schema.",
    },
    "cli.plan": {"vi": "Nhập, xuất kế hoạch.", "en": "Import and export the plan."},
    "cli.plan.import": {
        "vi": "Nhập kế hoạch từ tệp YAML/JSON/Excel; không có TỆP thì nhập kế hoạch mặc định.",
        "en": "Import a plan from YAML/JSON/Excel; without FILE, the default plan.",
    },
    "cli.plan.export": {
        "vi": "Xuất kế hoạch (yaml, json ra màn hình; xlsx cần --out).",
        "en": "Export the plan (yaml, json to stdout; xlsx needs --out).",
    },
    "cli.plan.format": {"vi": "yaml, json hoặc xlsx.", "en": "yaml, json or xlsx."},
    "cli.plan.out": {"vi": "Ghi ra tệp này.", "en": "Write to this file."},
    "cli.plan.template": {
        "vi": "Ghi mẫu Excel trống để điền kế hoạch.",
        "en": "Write an empty Excel template for a plan.",
    },
    "cli.people": {"vi": "Danh sách cán bộ, giáo viên.", "en": "The staff list."},
    "cli.people.import": {
        "vi": "Nhập danh sách từ CSV/XLSX với tiêu đề name,unit,role,phone.",
        "en": "Import people from CSV/XLSX with the header name,unit,role,phone.",
    },
    "cli.invite": {
        "vi": "In mã mời (dùng một lần) cho những người chưa tham gia.",
        "en": "Print single-use invitations for people who have not joined.",
    },
    "cli.invite.format": {"vi": "text hoặc json.", "en": "text or json."},
    "cli.demo": {
        "vi": "Chạy thử trên cơ sở dữ liệu SQLite mới với kế hoạch mặc định.",
        "en": "Try dondoc on a fresh SQLite database with the default plan.",
    },
    "cli.demo.out": {
        "vi": "Thư mục chứa cơ sở dữ liệu thử.",
        "en": "Folder for the demo database.",
    },
    "cli.error": {"vi": "Lỗi: {message}", "en": "Error: {message}"},
}
