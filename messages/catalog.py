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
    "config.expected.EVIDENCE_DIR": {
        "vi": "cần đường dẫn thư mục lưu minh chứng, ví dụ ./data/evidence.",
        "en": "expected a folder for evidence files, e.g. ./data/evidence.",
    },
    "config.expected.REPORTS_DIR": {
        "vi": "cần đường dẫn thư mục lưu báo cáo tuần (Excel, biểu đồ), ví dụ ./data/reports.",
        "en": "expected a folder for weekly reports (Excel, chart), e.g. ./data/reports.",
    },
    "config.expected.WEBHOOK_URL": {
        "vi": "cần địa chỉ https công khai của bot, ví dụ https://bot.truong.edu.vn/telegram.",
        "en": "expected the bot's public https address, e.g. https://bot.school.example/telegram.",
    },
    "config.expected.WEBHOOK_SECRET": {
        "vi": "cần chuỗi bí mật 1–256 ký tự gồm chữ, số, _ và -.",
        "en": "expected a secret of 1–256 letters, digits, _ and -.",
    },
    "config.expected.WEBHOOK_LISTEN": {
        "vi": "cần địa chỉ IP để lắng nghe, ví dụ 0.0.0.0.",
        "en": "expected an IP address to listen on, e.g. 0.0.0.0.",
    },
    "config.expected.WEBHOOK_PORT": {
        "vi": "cần số cổng từ 1 đến 65535, ví dụ 8443.",
        "en": "expected a port from 1 to 65535, e.g. 8443.",
    },
    "config.expected.HEALTH_PORT": {
        "vi": "cần số cổng từ 1 đến 65535 cho /healthz (để trống nếu không dùng), ví dụ 8081.",
        "en": "expected a port from 1 to 65535 for /healthz (empty for none), e.g. 8081.",
    },
    "config.expected.ZALO_BOT_TOKEN": {
        "vi": "cần mã bot Zalo dạng số:chuỗi, lấy trong Zalo Bot Creator (để trống nếu không dùng).",
        "en": "expected a Zalo bot token like number:string, from Zalo Bot Creator (empty for none).",
    },
    "config.expected.ZALO_API_BASE_URL": {
        "vi": "cần một địa chỉ dạng https://bot-api.zaloplatforms.com.",
        "en": "expected an address like https://bot-api.zaloplatforms.com.",
    },
    "config.expected.ZALO_WEBHOOK_URL": {
        "vi": "cần địa chỉ HTTPS công khai mà Zalo gọi tới, ví dụ https://truong.edu.vn/zalo.",
        "en": "expected the public HTTPS address Zalo calls, e.g. https://school.example/zalo.",
    },
    "config.expected.ZALO_WEBHOOK_SECRET": {
        "vi": "cần chuỗi bí mật 8–256 ký tự gồm chữ, số, _ và -.",
        "en": "expected a secret of 8–256 letters, digits, _ and -.",
    },
    "config.expected.ZALO_WEBHOOK_LISTEN": {
        "vi": "cần địa chỉ IP để lắng nghe webhook Zalo, ví dụ 0.0.0.0.",
        "en": "expected an IP address to listen on for Zalo's webhook, e.g. 0.0.0.0.",
    },
    "config.expected.ZALO_WEBHOOK_PORT": {
        "vi": "cần số cổng từ 1 đến 65535, ví dụ 8444.",
        "en": "expected a port from 1 to 65535, e.g. 8444.",
    },
    "config.expected.REMINDER_SWEEP_SECONDS": {
        "vi": "cần số giây giữa hai lần gửi nhắc việc, từ 1 đến 3600 (mặc định 30).",
        "en": "expected the seconds between two reminder sweeps, 1 to 3600 (default 30).",
    },
    "config.expected.HEARTBEAT_SECONDS": {
        "vi": "cần số giây giữa hai nhịp báo còn chạy, từ 1 đến 300 (mặc định 10).",
        "en": "expected the seconds between two heartbeats, 1 to 300 (default 10).",
    },
    "config.expected.QUIET_HOURS": {
        "vi": "cần khoảng giờ yên lặng dạng 21:00-06:30, hoặc để trống để tắt.",
        "en": "expected quiet hours such as 21:00-06:30, or empty to turn them off.",
    },
    "config.expected.WORKING_DAYS": {
        "vi": "cần các ngày làm việc, ví dụ mon-sat hoặc mon,tue,wed,thu,fri.",
        "en": "expected working days, e.g. mon-sat or mon,tue,wed,thu,fri.",
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
        "en_one": "  … and 1 more problem.",
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
        "vi": "trang '{sheet}' có cột lạ '{column}'; hãy dùng đúng tiêu đề cột của mẫu: {allowed}.",
        "en": "sheet '{sheet}' has an unknown column '{column}'; use the template's headers: "
        "{allowed}.",
    },
    "plan.unknown_column_similar": {
        "vi": "trang '{sheet}' có cột lạ '{column}'; có phải '{similar}'? Hãy dùng đúng tiêu đề "
        "cột của mẫu: {allowed}.",
        "en": "sheet '{sheet}' has an unknown column '{column}'; did you mean '{similar}'? Use "
        "the template's headers: {allowed}.",
    },
    "plan.missing_field": {
        "vi": "thiếu mục bắt buộc '{field}'.",
        "en": "required field '{field}' is missing.",
    },
    "plan.unknown_field": {
        "vi": "mục lạ '{field}'; kiểm tra chính tả. Ở đây chỉ dùng được: {allowed}.",
        "en": "unknown field '{field}'; check the spelling. Allowed here: {allowed}.",
    },
    "plan.unknown_field_similar": {
        "vi": "mục lạ '{field}'; có phải '{similar}'? Ở đây chỉ dùng được: {allowed}.",
        "en": "unknown field '{field}'; did you mean '{similar}'? Allowed here: {allowed}.",
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
    "plan.unit_code_spaces": {
        "vi": "mã tổ/bộ phận '{value}' có khoảng trắng; hãy ghi mã liền, ví dụ {code}, và ghi "
        "tên đầy đủ vào tên tổ/bộ phận (name).",
        "en": "unit code '{value}' has spaces; write a code without spaces, e.g. {code}, and "
        "keep the full name as the unit's name.",
    },
    "plan.bad_year": {
        "vi": "năm '{value}' không hợp lệ; hãy ghi năm phải đạt mục tiêu, ví dụ 2027, hoặc năm "
        "học như 2026-2027 (tính là 2027, năm kết thúc năm học).",
        "en": "year '{value}' is not valid; write the year the target is due, e.g. 2027, or a "
        "school year such as 2026-2027 (counted as 2027, the year it ends).",
    },
    "plan.bad_kpi_key": {
        "vi": "mã chỉ số '{value}' không hợp lệ; dùng chữ thường không dấu và _, ví dụ dropout.",
        "en": "KPI key '{value}' is not valid; use lowercase letters and _, e.g. dropout.",
    },
    "plan.bad_date_format": {
        "vi": "'{value}' không phải là ngày; hãy ghi dd/mm/yyyy (ví dụ 31/03/2026) hoặc 2026-03-31.",
        "en": "'{value}' is not a date; write dd/mm/yyyy (e.g. 31/03/2026) or 2026-03-31.",
    },
    "plan.bad_deadline": {
        "vi": "hạn '{value}' không hợp lệ; hãy ghi một ngày dd/mm/yyyy (ví dụ 31/03/2026), một "
        "tháng (tháng 3/2026), một quý (quý II/2026) hoặc một năm (năm 2026).",
        "en": "deadline '{value}' is not valid; write a date as dd/mm/yyyy (e.g. 31/03/2026), a "
        "month (tháng 3/2026), a quarter (quý II/2026 or Q2/2026) or a year (năm 2026).",
    },
    "plan.bad_period": {
        "vi": "'{value}' không có thật: tháng từ 1 đến 12, quý từ I đến IV (hoặc 1 đến 4).",
        "en": "'{value}' does not exist: months go from 1 to 12, quarters from I to IV (or 1 to 4).",
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
        "vi": "mục tiêu '{value}' không hợp lệ; ghi một số (ví dụ 0,5), một khoảng (ví dụ 95-98) "
        "hoặc có/không; mục tiêu ghi bằng lời thì bỏ direction hoặc ghi direction: yes_no.",
        "en": "target '{value}' is not valid; write a number (e.g. 0.5), a range (e.g. 95-98) "
        "or yes/no; for a target in words, leave out direction or write direction: yes_no.",
    },
    "plan.range_reversed": {
        "vi": "khoảng mục tiêu '{value}' có số đầu lớn hơn số sau; ghi số nhỏ trước, ví dụ 95-98.",
        "en": "target range '{value}' starts above its end; write the smaller number first, "
        "e.g. 95-98.",
    },
    "plan.range_needs_between": {
        "vi": "mục tiêu {value} là một khoảng: ghi direction: between hoặc bỏ direction.",
        "en": "target {value} is a range: write direction: between or leave direction out.",
    },
    "plan.target_needs_range": {
        "vi": "direction: between cần mục tiêu là một khoảng, ví dụ 95-98, không phải {value}.",
        "en": "direction: between needs a target range, e.g. 95-98, not {value}.",
    },
    "plan.direction_needed": {
        "vi": "mục tiêu {value} là một số: cần ghi direction (<=, >=, <, >, =).",
        "en": "target {value} is a number: write its direction (<=, >=, <, >, =).",
    },
    "plan.target_worded_twice": {
        "vi": "mục tiêu '{value}' đã ghi bằng lời; bỏ target_text hoặc ghi target: có.",
        "en": "target '{value}' is already in words; leave out target_text or write target: yes.",
    },
    "plan.target_needs_yes_no": {
        "vi": "chỉ số dạng có/không cần mục tiêu là có (true) hoặc không (false), không phải {value}.",
        "en": "a yes/no KPI needs a target of yes (true) or no (false), not {value}.",
    },
    "plan.target_needs_number": {
        "vi": "chỉ số này cần mục tiêu là một số, không phải {value}; hoặc đặt direction: yes_no.",
        "en": "this KPI needs a numeric target, not {value}; or set direction: yes_no.",
    },
    "plan.bad_deadline_source": {
        "vi": "nguồn của hạn '{value}' không hợp lệ; để trống nếu kế hoạch ghi ngày này, ghi "
        "proposed (đề xuất) nếu kế hoạch không ghi.",
        "en": "deadline source '{value}' is not valid; leave it blank when the plan gives this "
        "date, write proposed when it does not.",
    },
    "plan.bad_status": {
        "vi": "trạng thái '{value}' không hợp lệ; ghi một trong: chưa bắt đầu, đang thực hiện, "
        "gặp vướng mắc, hoàn thành (hoặc todo, in_progress, blocked, done).",
        "en": "status '{value}' is not valid; write one of: todo, in_progress, blocked, done "
        "(or chưa bắt đầu, đang thực hiện, gặp vướng mắc, hoàn thành).",
    },
    "plan.bad_progress": {
        "vi": "tiến độ '{value}' không hợp lệ; ghi một số nguyên từ 0 đến 100, ví dụ 60 hoặc 60%.",
        "en": "progress '{value}' is not valid; write a whole number from 0 to 100, e.g. 60 or "
        "60%.",
    },
    "plan.done_on_not_done": {
        "vi": "đã ghi ngày hoàn thành nhưng trạng thái là '{status}'; hãy ghi trạng thái hoàn "
        "thành hoặc xoá ngày hoàn thành.",
        "en": "a completion date is given but the status is '{status}'; write the status done "
        "or remove the completion date.",
    },
    "plan.done_not_100": {
        "vi": "nhiệm vụ đã hoàn thành thì tiến độ là 100, không phải {value}; hãy sửa tiến độ "
        "hoặc trạng thái.",
        "en": "a done task's progress is 100, not {value}; fix the progress or the status.",
    },
    "plan.done_on_future": {
        "vi": "ngày hoàn thành {value} chưa đến (hôm nay là {today}); hãy ghi ngày đã hoàn thành.",
        "en": "the completion date {value} has not come yet (today is {today}); write the day "
        "it was done.",
    },
    "plan.done_on_before_report": {
        "vi": "ngày hoàn thành {value} trước lần báo cáo gần nhất của nhiệm vụ ({last}); hãy ghi "
        "ngày từ {last} trở đi, hoặc để trống để giữ tiến độ đã báo cáo.",
        "en": "the completion date {value} is before the task's latest report ({last}); write a "
        "date from {last} on, or leave it blank to keep the progress reported.",
    },
    "plan.bad_recurrence": {
        "vi": "lịch lặp '{value}' không hợp lệ; dùng weekly:fri, monthly:25, yearly:05/09, "
        "every:2w:fri (2 tuần một lần; ngày lần đầu, đúng thứ đó, ghi thêm: "
        "every:2w:fri:09/01/2026), monthly:last-fri (thứ Sáu cuối cùng hằng tháng; 1st-mon … "
        "4th-mon: thứ Hai đầu tiên … thứ 4), semester, school_year, ongoing (thường xuyên) hoặc "
        'on_request (khi có yêu cầu); hoặc ghi bằng lời như "thứ Sáu hằng tuần", "ngày 25 '
        'hằng tháng", "định kỳ 2 tuần/lần vào thứ Sáu".',
        "en": "recurrence '{value}' is not valid; use weekly:fri, monthly:25, yearly:05/09, "
        "every:2w:fri (every 2 weeks; add the first date, on that weekday: "
        "every:2w:fri:09/01/2026), monthly:last-fri (the last Friday of every month; 1st-mon … "
        "4th-mon), semester, school_year, ongoing or on_request; or the plan's Vietnamese "
        'words, such as "thứ Sáu hằng tuần".',
    },
    "plan.deadline_or_recurrence": {
        "vi": "mỗi nhiệm vụ cần đúng một trong hai: deadline (hạn) hoặc recurrence (lặp lại).",
        "en": "each task needs exactly one of deadline or recurrence.",
    },
    "plan.bad_setting": {
        "vi": "'{value}' không hợp lệ; ví dụ: quiet_hours: 21:00-06:30, working_days: mon-sat, "
        "digest: fri 16:30, checkin: thu 09:00, at: 07:30.",
        "en": "'{value}' is not valid; e.g. quiet_hours: 21:00-06:30, working_days: mon-sat, "
        "digest: fri 16:30, checkin: thu 09:00, at: 07:30.",
    },
    "plan.unknown_setting": {
        "vi": "không rõ là cài đặt nào; hãy giữ cột 'Mã' như mẫu, một trong: {allowed}.",
        "en": "which setting is this? keep the template's 'Key' column, one of: {allowed}.",
    },
    "plan.duplicate_setting": {
        "vi": "cài đặt '{setting}' đã ghi ở một dòng trên; mỗi cài đặt chỉ ghi một lần.",
        "en": "setting '{setting}' is already given on a row above; give each setting once.",
    },
    "plan.need_yes_no": {
        "vi": "'{value}' không hợp lệ; hãy ghi có hoặc không.",
        "en": "'{value}' is not valid; write yes or no.",
    },
    "plan.below_min": {
        "vi": "giá trị {value} quá nhỏ; nhỏ nhất là {limit}.",
        "en": "{value} is too small; the least is {limit}.",
    },
    "plan.above_max": {
        "vi": "giá trị {value} quá lớn; lớn nhất là {limit}.",
        "en": "{value} is too large; the most is {limit}.",
    },
    "plan.holiday_order": {
        "vi": "ngày kết thúc (until) phải sau ngày bắt đầu (date).",
        "en": "the end date (until) must come after the start date (date).",
    },
    "plan.school_year_order.semester1_end": {
        "vi": "ngày kết thúc học kỳ I (semester1_end: {later}) phải sau ngày bắt đầu năm học "
        "(start: {earlier}); hãy ghi ba ngày của năm học theo thứ tự, ví dụ start: 05/09/2026, "
        "semester1_end: 10/01/2027, end: 31/05/2027.",
        "en": "the first semester's end (semester1_end: {later}) must come after the school "
        "year's start (start: {earlier}); write the three days in order, e.g. start: "
        "05/09/2026, semester1_end: 10/01/2027, end: 31/05/2027.",
    },
    "plan.school_year_order.end": {
        "vi": "ngày kết thúc năm học (end: {later}) phải sau ngày kết thúc học kỳ I "
        "(semester1_end: {earlier}); hãy ghi ba ngày của năm học theo thứ tự, ví dụ start: "
        "05/09/2026, semester1_end: 10/01/2027, end: 31/05/2027.",
        "en": "the school year's end (end: {later}) must come after the first semester's end "
        "(semester1_end: {earlier}); write the three days in order, e.g. start: 05/09/2026, "
        "semester1_end: 10/01/2027, end: 31/05/2027.",
    },
    "plan.school_year_too_long": {
        "vi": "năm học từ {start} đến {end} dài hơn một năm; hãy ghi ngày kết thúc năm học (end) "
        "trong vòng một năm sau ngày bắt đầu (start), ví dụ start: 05/09/2026, end: 31/05/2027.",
        "en": "a school year from {start} to {end} is longer than a year; write an end within a "
        "year of the start, e.g. start: 05/09/2026, end: 31/05/2027.",
    },
    "plan.duplicate": {
        "vi": "mã '{value}' bị trùng; mỗi mã chỉ được dùng một lần.",
        "en": "code '{value}' is duplicated; each code may appear once.",
    },
    "plan.unknown_unit": {
        "vi": "không có tổ/bộ phận '{value}' trong tệp; hãy ghi mã hoặc tên của một trong: "
        "{known}.",
        "en": "there is no unit '{value}' in the file; write the code or the name of one of: "
        "{known}.",
    },
    "plan.unit_or_units": {
        "vi": "ghi đơn vị được giao: 'unit' (một đơn vị) hoặc 'units' (nhiều đơn vị, mỗi đơn vị "
        "báo cáo riêng phần việc được giao), không ghi cả hai.",
        "en": "write who the task is given to: 'unit' (one unit) or 'units' (several, each "
        "reporting its own part), not both.",
    },
    "plan.bad_role": {
        "vi": "không rõ vai trò '{value}'; hãy ghi Hiệu trưởng, Phó hiệu trưởng, Tổ trưởng hoặc "
        "Giáo viên.",
        "en": "unknown role '{value}'; write principal, vice_principal, unit_head or staff.",
    },
    "plan.unit_twice": {
        "vi": "đơn vị '{value}' được ghi hai lần trong danh sách đơn vị của nhiệm vụ.",
        "en": "unit '{value}' is listed twice among the task's units.",
    },
    "plan.support_is_owner": {
        "vi": "đơn vị '{value}' vừa được giao (unit) vừa phối hợp (support); chỉ ghi ở một chỗ.",
        "en": "unit '{value}' is both given the task (unit) and coordinating (support); write "
        "it in one place only.",
    },
    "plan.imported": {
        "vi": "Đã nhập kế hoạch của {school} ({school_change}):",
        "en": "Imported the plan of {school} ({school_change}):",
    },
    "plan.imported.school.created": {"vi": "trường mới", "en": "new school"},
    "plan.imported.school.updated": {
        "vi": "thông tin trường đã cập nhật",
        "en": "school details updated",
    },
    "plan.imported.school.unchanged": {
        "vi": "thông tin trường giữ nguyên",
        "en": "school details unchanged",
    },
    "plan.imported.kind": {
        "vi": "  - {count} {kind}: {created} mới, {updated} cập nhật, {unchanged} giữ nguyên",
        "en": "  - {count} {kind}: {created} new, {updated} updated, {unchanged} unchanged",
    },
    "plan.imported.none": {"vi": "  - {kind}: không có", "en": "  - {kind}: none"},
    "plan.restored": {
        "vi": "Khôi phục {count} {kind} đã lưu trữ (có lại trong tệp): {codes}",
        "en": "Restored {count} archived {kind} (in the file again): {codes}",
    },
    "plan.archived": {
        "vi": "Đã lưu trữ {count} {kind} không có trong tệp (lịch sử vẫn được giữ): {codes}",
        "en": "Archived {count} {kind} not in the file (their history is kept): {codes}",
    },
    "plan.absent": {
        "vi": "{count} {kind} không có trong tệp, vẫn được theo dõi: {codes}",
        "en": "{count} {kind} not in the file, still followed up: {codes}",
    },
    "plan.kept": {
        "vi": "{count} {kind} không có trong tệp nhưng còn nhiệm vụ đang theo dõi, nên được giữ: "
        "{codes}",
        "en": "{count} {kind} not in the file but with tasks still followed up, so kept: {codes}",
    },
    "plan.prune_hint": {
        "vi": "Thêm --prune để lưu trữ các mục này (lịch sử vẫn được giữ).",
        "en": "Add --prune to archive them (their history is kept).",
    },
    "plan.kind.units": {"vi": "tổ/bộ phận", "en": "units", "en_one": "unit"},
    "plan.kind.kpis": {"vi": "chỉ số", "en": "KPIs", "en_one": "KPI"},
    "plan.kind.tasks": {"vi": "nhiệm vụ", "en": "tasks", "en_one": "task"},
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
    "xlsx.sheet.holidays": {"vi": "Ngày nghỉ", "en": "Holidays"},
    "xlsx.sheet.guide": {"vi": "Hướng dẫn", "en": "Guide"},
    "xlsx.sheet.settings": {"vi": "Cài đặt", "en": "Settings"},
    "xlsx.column.settings.label": {"vi": "Cài đặt", "en": "Setting"},
    "xlsx.column.settings.setting": {"vi": "Mã", "en": "Key"},
    "xlsx.column.settings.value": {"vi": "Giá trị", "en": "Value"},
    "xlsx.column.settings.help": {"vi": "Giải thích", "en": "Explanation"},
    "xlsx.setting.quiet_hours": {"vi": "Giờ không nhắn tin", "en": "Quiet hours"},
    "xlsx.setting.working_days": {"vi": "Ngày làm việc", "en": "Working days"},
    "xlsx.setting.digest": {"vi": "Giờ gửi báo cáo tuần", "en": "Weekly digest time"},
    "xlsx.setting.checkin": {"vi": "Giờ hỏi thăm tổ trưởng", "en": "Weekly check-in time"},
    "xlsx.setting.group_reminders": {"vi": "Nhắc cả trong nhóm của tổ", "en": "Group reminders"},
    "xlsx.setting.reminders.before_days": {
        "vi": "Nhắc trước hạn (ngày)",
        "en": "Remind before the deadline (days)",
    },
    "xlsx.setting.reminders.at": {"vi": "Giờ nhắc", "en": "Reminder time"},
    "xlsx.setting.reminders.overdue_every_days": {
        "vi": "Nhắc lại khi quá hạn (mỗi … ngày)",
        "en": "Remind again when overdue (every … days)",
    },
    "xlsx.setting.reminders.escalate_after_days": {
        "vi": "Báo Ban giám hiệu khi quá hạn (ngày)",
        "en": "Escalate when overdue (days)",
    },
    "xlsx.setting.school_year.start": {"vi": "Ngày bắt đầu năm học", "en": "School year start"},
    "xlsx.setting.school_year.semester1_end": {
        "vi": "Ngày kết thúc học kỳ I",
        "en": "End of the first semester",
    },
    "xlsx.setting.school_year.end": {"vi": "Ngày kết thúc năm học", "en": "School year end"},
    "xlsx.setting.letterhead.parent": {
        "vi": "Cơ quan chủ quản (báo cáo)",
        "en": "Parent body (reports)",
    },
    "xlsx.setting.letterhead.place": {"vi": "Địa danh (báo cáo)", "en": "Place (reports)"},
    "xlsx.setting.letterhead.signer": {"vi": "Người ký (báo cáo)", "en": "Signer (reports)"},
    "xlsx.help.quiet_hours": {
        "vi": "Khoảng giờ bot không nhắn tin, ví dụ 21:30-06:00; ghi 'không' để bot nhắn cả "
        "ngày. Để trống: mặc định của hệ thống (thường là 21:00-06:30).",
        "en": "When the bot sends nothing, e.g. 21:30-06:00; 'no' for no quiet hours. "
        "Empty: the system's default (usually 21:00-06:30).",
    },
    "xlsx.help.working_days": {
        "vi": "Ngày bot nhắn tin, ví dụ thứ 2-thứ 6 (hoặc mon-fri), hay từng ngày cách nhau bởi "
        "dấu phẩy: thứ 2, thứ 4, thứ 6. Để trống: mặc định của hệ thống (thường là thứ 2-thứ 7).",
        "en": "The days the bot writes, e.g. mon-fri, or single days separated by commas: "
        "mon, wed, fri. Empty: the system's default (usually mon-sat).",
    },
    "xlsx.help.digest": {
        "vi": "Thứ và giờ gửi báo cáo tuần cho Ban giám hiệu, ví dụ thứ 6 15:00 (hoặc fri 15:00). "
        "Để trống: thứ 6 16:30.",
        "en": "Day and time of the leadership's weekly digest, e.g. fri 15:00. Empty: fri 16:30.",
    },
    "xlsx.help.checkin": {
        "vi": "Thứ và giờ bot hỏi thăm các tổ trưởng hằng tuần, ví dụ thứ 5 09:00. "
        "Để trống: thứ 5 09:00.",
        "en": "Day and time of the unit heads' weekly check-in, e.g. thu 09:00. Empty: thu 09:00.",
    },
    "xlsx.help.group_reminders": {
        "vi": "có: lời nhắc cũng được gửi vào nhóm chat của tổ/bộ phận đã liên kết với bot; "
        "không: chỉ nhắn riêng. Để trống: không.",
        "en": "yes: reminders also go to the unit's linked group chat; no: only in private. "
        "Empty: no.",
    },
    "xlsx.help.reminders.before_days": {
        "vi": "Số ngày trước hạn thì nhắc, cách nhau bởi dấu phẩy; 0 là đúng ngày hạn; ghi - "
        "để không nhắc trước. Để trống: 7, 1, 0.",
        "en": "Days before the deadline to remind, separated by commas; 0 is the day itself; "
        "- for none. Empty: 7, 1, 0.",
    },
    "xlsx.help.reminders.at": {
        "vi": "Giờ gửi lời nhắc trong ngày, ví dụ 07:30 hoặc 7h30. Để trống: 07:30.",
        "en": "The time of day reminders go out, e.g. 07:30. Empty: 07:30.",
    },
    "xlsx.help.reminders.overdue_every_days": {
        "vi": "Việc quá hạn được nhắc lại sau mỗi chừng ấy ngày (từ 1 đến 30). Để trống: 2.",
        "en": "An overdue task is reminded again every so many days (1 to 30). Empty: 2.",
    },
    "xlsx.help.reminders.escalate_after_days": {
        "vi": 'Việc quá hạn lâu hơn số ngày này được đưa lên mục "Cần thầy/cô quyết" của báo '
        "cáo tuần (từ 1 đến 90). Để trống: 5.",
        "en": 'A task overdue longer than this is listed under "Needs your decision" in the '
        "digest (1 to 90). Empty: 5.",
    },
    "xlsx.help.school_year.start": {
        "vi": "Ngày khai giảng, ví dụ 05/09/2026; việc lặp lại school_year (đầu năm học) đến hạn "
        "vào ngày này. Ghi cả ba ngày của năm học, hoặc để trống cả ba: đầu năm học là 05/09.",
        "en": "The first day of the school year, e.g. 05/09/2026; school_year tasks are due on "
        "it. Fill in all three school-year days, or none: the year then starts on 05/09.",
    },
    "xlsx.help.school_year.semester1_end": {
        "vi": "Ngày kết thúc học kỳ I, ví dụ 10/01/2027; việc lặp lại semester (cuối mỗi học kỳ) "
        "đến hạn vào ngày này và ngày kết thúc năm học. Để trống cả ba: 15/01 và 25/05.",
        "en": "The end of the first semester, e.g. 10/01/2027; semester tasks are due on it and "
        "on the school year's end. All three empty: 15/01 and 25/05.",
    },
    "xlsx.help.letterhead.parent": {
        "vi": "Cơ quan cấp trên ghi ở góc trái báo cáo gửi lên, ví dụ UBND XÃ TÂN AN HỘI. Để "
        "trống: chỉ ghi tên trường.",
        "en": "The body above the school, top left of its official reports, e.g. UBND XÃ TÂN "
        "AN HỘI. Empty: the school's name alone.",
    },
    "xlsx.help.letterhead.place": {
        "vi": "Địa danh ghi trước ngày tháng của báo cáo, ví dụ Tân An Hội.",
        "en": "The place written before a report's date, e.g. Tân An Hội.",
    },
    "xlsx.help.letterhead.signer": {
        "vi": "Người ký báo cáo khi không phải hiệu trưởng có trong danh sách cán bộ. Để trống: "
        "hiệu trưởng.",
        "en": "Who signs the reports when not the principal in the people file. Empty: the "
        "principal.",
    },
    "xlsx.help.school_year.end": {
        "vi": "Ngày kết thúc năm học (cuối học kỳ II), ví dụ 31/05/2027; sau ngày kết thúc học "
        "kỳ I, trong vòng một năm từ ngày bắt đầu.",
        "en": "The end of the school year (of the second semester), e.g. 31/05/2027; after the "
        "first semester's end, within a year of the start.",
    },
    "xlsx.column.holidays.date": {"vi": "Từ ngày", "en": "From"},
    "xlsx.column.holidays.until": {"vi": "Đến ngày", "en": "Until"},
    "xlsx.column.holidays.name": {"vi": "Tên ngày nghỉ", "en": "Holiday"},
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
    "xlsx.column.kpis.target_text": {"vi": "Mục tiêu theo lời kế hoạch", "en": "Target as worded"},
    "xlsx.column.kpis.year": {"vi": "Năm", "en": "Year"},
    "xlsx.column.kpis.section": {"vi": "Mục", "en": "Section"},
    "xlsx.column.tasks.code": {"vi": "Mã", "en": "Code"},
    "xlsx.column.tasks.title": {"vi": "Nhiệm vụ", "en": "Task"},
    "xlsx.column.tasks.description": {"vi": "Mô tả", "en": "Description"},
    "xlsx.column.tasks.section": {"vi": "Mục", "en": "Section"},
    "xlsx.column.tasks.unit": {"vi": "Tổ/bộ phận", "en": "Unit"},
    "xlsx.column.tasks.support": {"vi": "Phối hợp", "en": "Coordinating units"},
    "xlsx.column.tasks.role": {"vi": "Vai trò phụ trách", "en": "Role in charge"},
    "xlsx.column.tasks.deadline": {"vi": "Hạn", "en": "Deadline"},
    "xlsx.column.tasks.recurrence": {"vi": "Lặp lại", "en": "Recurrence"},
    "xlsx.column.tasks.deadline_source": {"vi": "Nguồn của hạn", "en": "Deadline source"},
    "xlsx.column.tasks.assignees": {"vi": "Người thực hiện", "en": "Assignees"},
    "xlsx.column.tasks.status": {"vi": "Trạng thái", "en": "Status"},
    "xlsx.column.tasks.progress": {"vi": "Tiến độ (%)", "en": "Progress (%)"},
    "xlsx.column.tasks.done_on": {"vi": "Ngày hoàn thành", "en": "Done on"},
    "xlsx.column.tasks.reminders.before_days": {
        "vi": "Nhắc trước (ngày)",
        "en": "Remind before (days)",
    },
    "xlsx.column.tasks.reminders.at": {"vi": "Giờ nhắc", "en": "Reminder time"},
    "xlsx.column.tasks.reminders.overdue_every_days": {
        "vi": "Nhắc lại khi quá hạn (ngày)",
        "en": "Remind again when overdue (days)",
    },
    "xlsx.column.tasks.reminders.escalate_after_days": {
        "vi": "Báo BGH khi quá hạn (ngày)",
        "en": "Escalate when overdue (days)",
    },
    "xlsx.yes": {"vi": "có", "en": "yes"},
    "xlsx.no": {"vi": "không", "en": "no"},
    "xlsx.guide": {
        "vi": "Mẫu kế hoạch dondoc: điền các trang Trường, Tổ - bộ phận, Chỉ số, Nhiệm vụ; "
        "giữ nguyên dòng tiêu đề.\n"
        "Trường: một dòng — mã trường (không dấu cách, ví dụ THCS-TT2), tên trường, "
        "múi giờ (Asia/Ho_Chi_Minh), tên kế hoạch.\n"
        "Tổ - bộ phận: mã (ví dụ VANPHONG), tên, nhiệm vụ chung.\n"
        "Chỉ số: mã chỉ số (chữ thường không dấu, ví dụ dropout), tên, đơn vị tính (%, lớp…), "
        "chiều (<=, >=, <, >, =, yes_no, between), mục tiêu (số; có/không với yes_no; một "
        "khoảng như 95-98 với between; hoặc mục tiêu bằng lời như 1 giải Nhì cấp tỉnh, để trống "
        "chiều: chỉ số đạt/chưa đạt), mục tiêu "
        "theo lời kế hoạch (không bắt buộc, ví dụ: duy trì mức độ 3), năm phải đạt (ghi năm học "
        "2026-2027 cũng được, tính là 2027), mục.\n"
        "Nhiệm vụ: mã (ví dụ III.4.2), tên nhiệm vụ, mô tả, mục, mã hoặc tên tổ/bộ phận phụ "
        "trách, "
        "và đúng một trong hai cột: Hạn hoặc Lặp lại. Hạn: một ngày (dd/mm/yyyy), hoặc một "
        "tháng, một quý, một năm như kế hoạch ghi: tháng 3/2026, quý II/2026 (hoặc quý 2/2026), "
        "năm 2026 — hạn là ngày cuối của tháng, quý, năm đó, bot vẫn ghi như kế hoạch. Nguồn của "
        'hạn: để trống nếu kế hoạch ghi ngày này, ghi "đề xuất" nếu kế hoạch không ghi.\n'
        "Giao cho nhiều tổ/bộ phận (ví dụ các tổ chuyên môn, mỗi tổ báo cáo riêng phần việc của tổ, "
        "nhiệm vụ xong khi tất cả xong): mỗi tổ một dòng cùng mã, hoặc ghi các mã cách nhau bởi ; "
        "trong ô Tổ/bộ phận. Phối hợp: các tổ/bộ phận phối hợp với đơn vị chủ trì (cách nhau "
        "bởi ;); họ xem được nhiệm vụ, đơn vị chủ trì báo cáo tiến độ. Vai trò phụ trách: Hiệu "
        "trưởng, Phó hiệu trưởng, Tổ trưởng hoặc Giáo viên (giáo viên chủ nhiệm, GVCN cũng được, "
        "tính là Giáo viên) khi kế hoạch giao việc cho một vai trò (để trống: tổ trưởng).\n"
        "Người thực hiện: họ tên như trong danh sách cán bộ hoặc số điện thoại, nhiều người cách "
        "nhau bởi ; hoặc xuống dòng; chỉ người của tổ/bộ phận phụ trách hoặc ban giám hiệu. "
        "Để trống: giữ nguyên người đã được giao; ghi dấu - : không giao cho ai.\n"
        "Trạng thái, Tiến độ (%), Ngày hoàn thành: khi bắt đầu dùng giữa năm học, ghi việc đã "
        "làm đến đâu — chưa bắt đầu, đang thực hiện, gặp vướng mắc hoặc hoàn thành; tiến độ từ 0 "
        "đến 100; ngày hoàn thành (dd/mm/yyyy) là ngày việc đã xong. Để trống: giữ nguyên tiến "
        "độ đã báo cáo.\n"
        "Lặp lại: weekly:fri (thứ Sáu hằng tuần), every:2w:fri (2 tuần một lần vào thứ Sáu; "
        "every:2w:fri:09/01/2026 ghi thêm ngày của lần đầu), monthly:25 (ngày 25 hằng tháng), "
        "monthly:last-fri (thứ Sáu cuối cùng hằng tháng), monthly:1st-mon (thứ Hai đầu tiên hằng "
        "tháng; 2nd, 3rd, 4th: tuần thứ 2, 3, 4), yearly:05/09 (hằng năm; nhiều ngày: "
        "yearly:15/01,25/05), semester (cuối mỗi học kỳ), school_year (đầu năm học), ongoing "
        "(thường xuyên) hoặc on_request (khi có yêu cầu): hai loại sau không có hạn, không bao "
        "giờ quá hạn. Ghi bằng lời cũng được: thứ Sáu hằng tuần, định kỳ 2 tuần/lần vào thứ Sáu, "
        "thứ Sáu tuần cuối mỗi tháng, cuối mỗi học kỳ, thường xuyên, khi có yêu cầu.\n"
        "Ngày nghỉ: từ ngày, đến ngày (để trống nếu nghỉ một ngày), tên (ví dụ Tết Nguyên đán); "
        "ngày nghỉ không gửi nhắc việc.\n"
        "Nhắc trước (ngày), Giờ nhắc, Nhắc lại khi quá hạn (ngày), Báo BGH khi quá hạn (ngày): "
        "cách nhắc riêng của nhiệm vụ, ghi như trang Cài đặt (ví dụ 3, 0 và 07:30). Để trống: "
        "theo cài đặt chung của trường (việc đã có cách nhắc riêng thì giữ nguyên).\n"
        "Cài đặt: mỗi dòng một cài đặt chung của trường (giờ không nhắn tin, ngày làm việc, giờ "
        "gửi báo cáo tuần, giờ hỏi thăm tổ trưởng, nhắc trong nhóm, nhắc trước hạn, giờ nhắc, "
        "các ngày của năm học…); chỉ ghi cột Giá trị, cột Giải thích nói cách ghi. Ngày bắt "
        "đầu năm học, ngày kết thúc học kỳ I và ngày kết thúc năm học (dd/mm/yyyy) là hạn của "
        "các việc lặp lại school_year và semester. Ô để trống là mặc định; để trống cả "
        "trang (hoặc tệp không có trang này) thì giữ nguyên cài đặt đang dùng.\n"
        "Nhập: dondoc plan import tệp.xlsx — nhập lại nhiều lần không tạo trùng, "
        "không xoá lịch sử tiến độ.",
        "en": "dondoc plan template: fill in the School, Units, KPIs and Tasks sheets; "
        "keep the header row.\n"
        "School: one row — code (no spaces, e.g. THCS-TT2), name, time zone, plan title.\n"
        "Units: code (e.g. VANPHONG), name, role.\n"
        "KPIs: key (lowercase, e.g. dropout), name, measure (%, classes…), direction "
        "(<=, >=, <, >, =, yes_no, between), target (a number; yes/no for yes_no; a range such "
        "as 95-98 for between; or a target in words such as 1 giải Nhì cấp tỉnh, direction left "
        "blank: a met/not met KPI), the target as "
        "the plan words it (optional, e.g. duy trì mức độ 3), year due (a school year such as "
        "2026-2027 counts as 2027), section.\n"
        "Tasks: code (e.g. III.4.2), title, description, section, unit code or name, and exactly one "
        "of Deadline or Recurrence. Deadline: a date (dd/mm/yyyy), or a month, a quarter or a "
        "year as the plan gives it: tháng 3/2026, quý II/2026 (or quý 2/2026), năm 2026 — due "
        "on its last day, shown as written. Deadline source: blank when the plan gives "
        'this date, "proposed" when it does not.\n'
        "A task given to several units (each subject group reporting its own part, the task "
        "done when all are): one row per unit under one code, or the codes separated by ; in "
        "the Unit cell. Coordinating units: units supporting the lead unit (separated by ;); "
        "they see the task, the lead unit reports its progress. Role in charge: principal, vice "
        "principal, unit head or teacher (a homeroom teacher, giáo viên chủ nhiệm or GVCN, is a "
        "teacher) when the plan gives the task to a role (blank: the unit head).\n"
        "Assignees: names as in the staff list or phone numbers, separated by ; or new lines; "
        "only people of the task's unit or the leadership. Empty keeps who is assigned; "
        "- unassigns everyone.\n"
        "Status, Progress (%), Done on: when starting mid-year, how far each task has got — "
        "todo, in progress, blocked or done; progress from 0 to 100; the day it was done "
        "(dd/mm/yyyy). Empty keeps the progress reported.\n"
        "Recurrence: weekly:fri (every Friday), every:2w:fri (every other Friday; "
        "every:2w:fri:09/01/2026 gives the first one), monthly:25 (the 25th of each month), "
        "monthly:last-fri (the last Friday of each month), monthly:1st-mon (the first Monday; "
        "2nd, 3rd, 4th), yearly:05/09 (each year; several days: yearly:15/01,25/05), semester "
        "(each semester's end), school_year (the school year's start), ongoing or on_request "
        "(no deadline, never overdue). The plan's Vietnamese words work too: thứ Sáu hằng tuần, "
        "định kỳ 2 tuần/lần vào thứ Sáu, cuối mỗi học kỳ, thường xuyên, khi có yêu cầu.\n"
        "Holidays: from, until (empty for one day), name (e.g. Tết); no reminders on holidays.\n"
        "Remind before (days), Reminder time, Remind again when overdue (days), Escalate when "
        "overdue (days): the task's own reminder rule, written as on the Settings sheet (e.g. "
        "3, 0 and 07:30). Empty: the school's rule (a task's own rule already set stays).\n"
        "Settings: one row per school setting (quiet hours, working days, digest and check-in "
        "times, group reminders, reminder lead days and time, the school year's days…); fill "
        "in the Value column only, the Explanation column says how. The school year's start, "
        "first semester's end and end (dd/mm/yyyy) are when school_year and semester tasks are "
        "due. An empty cell is the default; an empty sheet (or a "
        "file without it) keeps the settings in use.\n"
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
        "en_one": "The database holds 1 school; add --school CODE (one of: {known}).",
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
        "Tổ trưởng/Trưởng bộ phận, Giáo viên/Nhân viên hoặc Phòng GD&ĐT.",
        "en": "role '{value}' is not valid; write principal, vice_principal, unit_head, staff "
        "or office.",
    },
    "people.bad_phone": {
        "vi": "số điện thoại '{value}' không hợp lệ; ghi 10 chữ số, ví dụ 0912345678.",
        "en": "phone '{value}' is not valid; write 10 digits, e.g. 0912345678.",
    },
    "people.bad_salutation": {
        "vi": "xưng hô '{value}' không hợp lệ; hãy ghi thầy hoặc cô, hoặc để trống.",
        "en": "salutation '{value}' is not valid; write thầy or cô, or leave it empty.",
    },
    "people.unknown_oversight": {
        "vi": "cột phụ trách ghi '{value}', không phải tổ/bộ phận nào; hãy ghi các mã cách nhau "
        "bởi dấu phẩy hoặc chấm phẩy, trong số: {known}.",
        "en": "the oversees column says '{value}', which is no unit; write unit codes separated "
        "by commas or semicolons, among: {known}.",
    },
    "people.oversight_not_vice": {
        "vi": "cột phụ trách chỉ ghi cho Phó hiệu trưởng (Hiệu trưởng theo dõi toàn trường); "
        "hãy để trống ở dòng này.",
        "en": "the oversees column is only for vice principals (the principal follows every "
        "unit); leave it empty on this row.",
    },
    "people.office_unit": {
        "vi": "người của Phòng GD&ĐT không thuộc tổ/bộ phận nào của trường; hãy để trống cột "
        "tổ/bộ phận (đang ghi '{value}').",
        "en": "a person of the education office belongs to no unit of the school; leave the "
        "unit column empty (it says '{value}').",
    },
    "people.office_and_unit": {
        "vi": "'{name}' vừa là người của Phòng GD&ĐT vừa thuộc một tổ/bộ phận của trường; mỗi "
        "người chỉ một trong hai, hãy sửa lại trong tệp.",
        "en": "'{name}' is listed both as the education office's and in a unit of the school; "
        "a person is one or the other, correct the file.",
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
    # --- assignees: a person named in a plan file or `dondoc assign` -------------------------
    "person.unknown_name": {
        "vi": "không có ai tên '{value}' trong danh sách cán bộ; hãy ghi đúng họ tên như trong "
        "danh sách cán bộ hoặc số điện thoại (người mới: dondoc people import TỆP).",
        "en": "nobody is named '{value}' in the staff list; write the name as in the staff list "
        "or the phone number (new people: dondoc people import FILE).",
    },
    "person.unknown_phone": {
        "vi": "không có ai số điện thoại {value} trong danh sách cán bộ; hãy kiểm tra lại số "
        "hoặc ghi họ tên (người mới: dondoc people import TỆP).",
        "en": "nobody has the phone number {value} in the staff list; check the number or write "
        "the name (new people: dondoc people import FILE).",
    },
    "person.no_staff": {
        "vi": "trường chưa có danh sách cán bộ nên chưa giao được cho '{value}'; hãy nhập danh "
        "sách trước (dondoc people import TỆP) rồi giao lại.",
        "en": "the school has no staff list yet, so '{value}' cannot be assigned; import it first "
        "(dondoc people import FILE), then assign again.",
    },
    "person.ambiguous": {
        "vi": "có {count} người tên '{value}'; hãy ghi số điện thoại của người cần giao thay cho "
        "tên.",
        "en": "{count} people are named '{value}'; write the phone number of the one you mean.",
        "en_one": "1 person is named '{value}'; write the phone number of the one you mean.",
    },
    "person.not_candidate": {
        "vi": "{name} không thuộc {unit} cũng không thuộc ban giám hiệu nên không nhận được nhiệm "
        "vụ {code}; hãy giao cho người của {unit} hoặc ban giám hiệu, hoặc thêm {name} vào {unit} "
        "trong danh sách cán bộ.",
        "en": "{name} is neither in {unit} nor in the leadership, so cannot carry out task "
        "{code}; assign someone of {unit} or the leadership, or add {name} to {unit} in the "
        "staff list.",
    },
    "cli.assign.added": {
        "vi": "Đã giao nhiệm vụ {code} cho {names}.",
        "en": "Assigned task {code} to {names}.",
    },
    "cli.assign.added_and_already": {
        "vi": "Đã giao nhiệm vụ {code} cho {names}; {already} đã được giao từ trước.",
        "en": "Assigned task {code} to {names}; {already} already had it.",
    },
    "cli.assign.nothing_new": {
        "vi": "Không có gì thay đổi: {already} đã được giao nhiệm vụ {code} từ trước.",
        "en": "Nothing changed: {already} already had task {code}.",
    },
    "cli.assign.refused": {
        "vi": "Không giao được nhiệm vụ {code}: {problem}",
        "en": "Task {code} was not assigned: {problem}",
    },
    "cli.assign.unknown_task": {
        "vi": "Không có nhiệm vụ mã '{code}'; xem các mã: dondoc plan export.",
        "en": "There is no task '{code}'; list the codes with: dondoc plan export.",
    },
    "cli.assign.archived_task": {
        "vi": "Nhiệm vụ '{code}' đã được lưu trữ ngày {date}; nhập lại tệp kế hoạch có nhiệm vụ "
        "này để khôi phục.",
        "en": "Task '{code}' was archived on {date}; import a plan file with it to restore it.",
    },
    "cli.assign.unknown_task_similar": {
        "vi": "Không có nhiệm vụ mã '{code}'; có phải: {similar}?",
        "en": "There is no task '{code}'; did you mean: {similar}?",
    },
    # --- roles -------------------------------------------------------------------------------
    "role.principal": {"vi": "Hiệu trưởng", "en": "Principal"},
    "role.vice_principal": {"vi": "Phó hiệu trưởng", "en": "Vice principal"},
    "role.unit_head": {"vi": "Tổ trưởng/Trưởng bộ phận", "en": "Unit head"},
    "role.staff": {"vi": "Giáo viên/Nhân viên", "en": "Teacher/Staff"},
    "role.office": {"vi": "Phòng GD&ĐT", "en": "Education office"},
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
    "db.created": {
        "vi": "Đã tạo các bảng dữ liệu của dondoc trong {url} (phiên bản {revision}).",
        "en": "Created dondoc's tables in {url} (version {revision}).",
    },
    "db.upgraded": {
        "vi": "Đã nâng cấp cơ sở dữ liệu {url} từ phiên bản {before} lên {revision}.",
        "en": "Upgraded the database {url} from version {before} to {revision}.",
    },
    "db.up_to_date": {
        "vi": "Cơ sở dữ liệu {url} đã ở phiên bản mới nhất ({revision}); không cần làm gì.",
        "en": "The database {url} is already up to date (version {revision}); nothing to do.",
    },
    "db.unreachable": {
        "vi": "Không kết nối được cơ sở dữ liệu {url}: {reason}. Kiểm tra DATABASE_URL.",
        "en": "Cannot connect to the database {url}: {reason}. Check DATABASE_URL.",
    },
    "db.empty": {
        "vi": "Cơ sở dữ liệu {url} chưa có bảng của dondoc: chạy dondoc db upgrade trước.",
        "en": "The database {url} has no dondoc tables yet: run dondoc db upgrade first.",
    },
    "db.behind": {
        "vi": "Cơ sở dữ liệu {url} ở phiên bản {revision}, bản dondoc này cần {head}: "
        "chạy dondoc db upgrade trước.",
        "en": "The database {url} is at version {revision}, this dondoc needs {head}: "
        "run dondoc db upgrade first.",
    },
    "db.ahead": {
        "vi": "Cơ sở dữ liệu {url} ở phiên bản {revision}, mới hơn bản dondoc này ({head}): "
        "cập nhật dondoc rồi chạy lại.",
        "en": "The database {url} is at version {revision}, newer than this dondoc ({head}): "
        "update dondoc, then run again.",
    },
    "db.backup.done": {
        "vi": "Đã sao lưu {url} (phiên bản {revision}) vào {path}.",
        "en": "Backed up {url} (version {revision}) to {path}.",
    },
    "db.backup.exists": {
        "vi": "Tệp {path} đã có; chọn tên khác (bản sao lưu không ghi đè tệp cũ).",
        "en": "{path} already exists; choose another name (a backup never overwrites a file).",
    },
    "db.backup.missing": {
        "vi": "Chưa có cơ sở dữ liệu {path} để sao lưu. Kiểm tra DATABASE_URL.",
        "en": "There is no database {path} to back up. Check DATABASE_URL.",
    },
    "db.backup.postgresql": {
        "vi": "Với PostgreSQL, sao lưu bằng pg_dump (dondoc không tự làm):\n  {command}",
        "en": "With PostgreSQL, back up with pg_dump (dondoc does not do it itself):\n  {command}",
    },
    "db.restore.postgresql": {
        "vi": "Với PostgreSQL, khôi phục bằng {tool} (nên dừng các tiến trình dondoc run "
        "trước):\n  {command}",
        "en": "With PostgreSQL, restore with {tool} (stop the dondoc run processes first):"
        "\n  {command}",
    },
    "db.password_hidden": {
        "vi": "Mật khẩu không được in ra: đặt biến PGPASSWORD hoặc dùng tệp ~/.pgpass.",
        "en": "The password is not printed: set PGPASSWORD or use ~/.pgpass.",
    },
    "db.restore.not_found": {"vi": "Không có tệp {path}.", "en": "There is no file {path}."},
    "db.restore.same": {
        "vi": "Tệp {path} chính là cơ sở dữ liệu đang dùng; chọn một bản sao lưu.",
        "en": "{path} is the database itself; choose a backup.",
    },
    "db.restore.not_dondoc": {
        "vi": "Tệp {path} không phải cơ sở dữ liệu SQLite của dondoc (không có bảng "
        "alembic_version); không khôi phục.",
        "en": "{path} is not a dondoc SQLite database (it has no alembic_version table); "
        "nothing restored.",
    },
    "db.restore.alive": {
        "vi": "Đang có {count} tiến trình dondoc run dùng cơ sở dữ liệu này ({names}). Dừng "
        "chúng trước khi khôi phục, hoặc thêm --force.",
        "en": "{count} dondoc run processes are using this database ({names}). Stop them "
        "before restoring, or add --force.",
        "en_one": "{count} dondoc run process is using this database ({names}). Stop it "
        "before restoring, or add --force.",
    },
    "db.restore.saved": {
        "vi": "Đã lưu cơ sở dữ liệu hiện tại vào {path}.",
        "en": "Saved the current database to {path}.",
    },
    "db.restore.done": {
        "vi": "Đã khôi phục {url} từ {path} (phiên bản {revision}).",
        "en": "Restored {url} from {path} (version {revision}).",
    },
    "health.port_busy": {
        "vi": "Không mở được /healthz ở cổng {port} ({reason}); bot vẫn chạy, không có "
        "/healthz. Mỗi tiến trình trên một máy cần một HEALTH_PORT riêng.",
        "en": "Cannot serve /healthz on port {port} ({reason}); the bot runs on without it. "
        "Each process on one machine needs its own HEALTH_PORT.",
    },
    # --- dondoc status -----------------------------------------------------------------------
    "status.database": {
        "vi": "Cơ sở dữ liệu: {url} — kết nối được.",
        "en": "Database: {url} — reachable.",
    },
    "status.unreachable": {
        "vi": "Cơ sở dữ liệu: {url} — không kết nối được: {reason}. Kiểm tra DATABASE_URL và "
        "máy chủ cơ sở dữ liệu.",
        "en": "Database: {url} — unreachable: {reason}. Check DATABASE_URL and the database "
        "server.",
    },
    "status.schema": {
        "vi": "Lược đồ: phiên bản {revision} (mới nhất).",
        "en": "Schema: version {revision} (the newest).",
    },
    "status.instances": {
        "vi": "Tiến trình dondoc run đang chạy: {count}",
        "en": "dondoc run processes alive: {count}",
    },
    "status.instance": {
        "vi": "  {name} — {role} — nhịp tim {age} trước",
        "en": "  {name} — {role} — heartbeat {age} ago",
    },
    "status.no_instances": {
        "vi": "Không có tiến trình dondoc run nào đang chạy (không có nhịp tim trong {age} qua): "
        "không ai nhận tin, không nhắc việc nào được gửi.",
        "en": "No dondoc run process is alive (no heartbeat in the last {age}): nobody takes "
        "messages, no reminder is sent.",
    },
    "status.planner": {
        "vi": "Lập nhắc việc: {when}.",
        "en": "Reminder planner: {when}.",
    },
    "status.planner.schools": {
        "vi": "Lập nhắc việc, lần cuối của từng trường:",
        "en": "Reminder planner, last run per school:",
    },
    "status.planner.school": {"vi": "  {school}: {when}", "en": "  {school}: {when}"},
    "status.planner.ago": {"vi": "lần cuối {age} trước", "en": "last run {age} ago"},
    "status.planner.never": {"vi": "chưa chạy lần nào", "en": "never run"},
    "status.no_school": {
        "vi": "Chưa có trường nào: chạy dondoc plan import.",
        "en": "No school yet: run dondoc plan import.",
    },
    "status.waiting": {
        "vi": "Nhắc việc chờ gửi: {due} đã đến hạn, {later} chưa đến hạn, {sending} đang gửi.",
        "en": "Reminders waiting: {due} due now, {later} due later, {sending} being sent.",
    },
    "status.oldest_due": {
        "vi": "Nhắc việc đến hạn lâu nhất chưa gửi: đến hạn {age} trước.",
        "en": "Oldest unsent reminder: due {age} ago.",
    },
    "status.undelivered": {
        "vi": "Không gửi được trong {days} ngày qua: {count} nhắc việc.",
        "en": "Not delivered over the last {days}-day period: {count} reminders.",
        "en_one": "Not delivered over the last {days}-day period: 1 reminder.",
    },
    "status.undelivered.none": {
        "vi": "Không có nhắc việc nào không gửi được trong {days} ngày qua.",
        "en": "Every reminder of the last {days} days was delivered or is waiting.",
        "en_one": "Every reminder of the last day was delivered or is waiting.",
    },
    "status.cause": {"vi": "  {cause}: {count}", "en": "  {cause}: {count}"},
    "status.cause.who": {"vi": "  {cause}: {count} — {who}", "en": "  {cause}: {count} — {who}"},
    "status.cause.school": {"vi": "    {school}: {who}", "en": "    {school}: {who}"},
    "status.cause.no_chat": {
        "vi": "chưa nhắn tin với bot (gửi khi họ tham gia)",
        "en": "no chat with the bot yet (sent when they join)",
    },
    "status.cause.unreachable": {
        "vi": "đã chặn bot (gửi khi họ nhắn lại)",
        "en": "blocked the bot (sent when they write again)",
    },
    "status.cause.refused": {
        "vi": "kênh nhắn tin từ chối tin",
        "en": "refused by the channel",
    },
    "status.cause.expired": {
        "vi": "hết hạn trước khi gửi được",
        "en": "expired before it could be sent",
    },
    "status.person": {"vi": "{name} ({count})", "en": "{name} ({count})"},
    "status.group": {"vi": "nhóm {unit}", "en": "{unit} group"},
    "status.healthy": {"vi": "Tình trạng: ổn.", "en": "Health: OK."},
    "status.unhealthy": {
        "vi": "Tình trạng: có lỗi (mã thoát 1).",
        "en": "Health: failing (exit code 1).",
    },
    "duration.seconds": {
        "vi": "{count} giây",
        "en": "{count} seconds",
        "en_one": "{count} second",
    },
    "duration.minutes": {
        "vi": "{count} phút",
        "en": "{count} minutes",
        "en_one": "{count} minute",
    },
    "duration.hours": {"vi": "{count} giờ", "en": "{count} hours", "en_one": "{count} hour"},
    "duration.days": {"vi": "{count} ngày", "en": "{count} days", "en_one": "{count} day"},
    "run.no_token": {
        "vi": "Chưa có TELEGRAM_BOT_TOKEN hay ZALO_BOT_TOKEN. Tạo bot với @BotFather (Telegram) "
        "hoặc Zalo Bot Creator (Zalo), chép mã vào tệp .env (TELEGRAM_BOT_TOKEN=... hoặc "
        "ZALO_BOT_TOKEN=...), rồi chạy lại. Muốn thử không cần mã: make demo hoặc dondoc console.",
        "en": "Neither TELEGRAM_BOT_TOKEN nor ZALO_BOT_TOKEN is set. Create a bot with @BotFather "
        "(Telegram) or Zalo Bot Creator (Zalo), put its token in .env (TELEGRAM_BOT_TOKEN=... or "
        "ZALO_BOT_TOKEN=...), then run again. To try without a token: make demo or dondoc "
        "console.",
    },
    "run.zalo_bad_token": {
        "vi": "Zalo không nhận ZALO_BOT_TOKEN (sai hoặc đã đổi). Lấy lại mã trong Zalo Bot "
        "Creator, chép vào tệp .env rồi chạy lại.",
        "en": "Zalo does not accept ZALO_BOT_TOKEN (wrong or reset). Get the token again in Zalo "
        "Bot Creator, put it in .env, then run again.",
    },
    "run.zalo_webhook_needs_secret": {
        "vi": "ZALO_WEBHOOK_URL cần đi kèm ZALO_WEBHOOK_SECRET (8–256 ký tự gồm chữ, số, _ và -).",
        "en": "ZALO_WEBHOOK_URL needs ZALO_WEBHOOK_SECRET too (8-256 letters, digits, _ and -).",
    },
    "run.webhook_needs_secret": {
        "vi": "WEBHOOK_URL cần đi kèm WEBHOOK_SECRET (chuỗi bí mật gồm chữ, số, _ và -).",
        "en": "WEBHOOK_URL needs WEBHOOK_SECRET too (a secret of letters, digits, _ and -).",
    },
    "cli.run": {
        "vi": "Chạy bot Telegram (long polling, hoặc webhook khi có WEBHOOK_URL).",
        "en": "Run the Telegram bot (long polling, or a webhook when WEBHOOK_URL is set).",
    },
    "cli.run.role": {
        "vi": "Việc của tiến trình: all (nhận tin và gửi nhắc việc), poll (chỉ nhận tin; chỉ một "
        "tiến trình được nhận tin bằng polling) hoặc sweep (chỉ lập và gửi nhắc việc; chạy được "
        "nhiều tiến trình cùng lúc).",
        "en": "What the process does: all (take updates and send reminders), poll (take updates "
        "only; one process may poll) or sweep (plan and send reminders only; any number may run).",
    },
    "run.other_poller": {
        "vi": "Một chương trình khác, không dùng chung cơ sở dữ liệu này, đang nhận tin của bot "
        "(Telegram trả lời 409 Conflict): tiến trình này thôi nhận tin và tiếp tục gửi nhắc việc. "
        "Các tiến trình dùng chung một cơ sở dữ liệu tự chọn một tiến trình nhận tin.",
        "en": "Another program, not on this database, is taking this bot's updates (Telegram "
        "answered 409 Conflict): this process stops taking updates and keeps sending reminders. "
        "Processes on one database choose among themselves the one that takes updates.",
    },
    "cli.console": {
        "vi": "Trò chuyện với bot ngay trong terminal, không cần Telegram.",
        "en": "Chat with the bot in the terminal, no Telegram needed.",
    },
    "cli.console.as": {
        "vi": "Mã mời hoặc họ tên của người dùng thử.",
        "en": "Invitation code or name of the person to act as.",
    },
    "console.unknown_person": {
        "vi": "Không tìm thấy '{who}'. Hãy dùng mã mời (dondoc invite) hoặc đúng họ tên, ví dụ: {names}.",
        "en": "No one called '{who}'. Use an invitation code (dondoc invite) or an exact name, e.g. {names}.",
    },
    "console.ambiguous_person": {
        "vi": "Có nhiều người tên '{who}'; hãy dùng mã mời của người đó (dondoc invite).",
        "en": "Several people are called '{who}'; use that person's invitation code (dondoc invite).",
    },
    "console.file": {"vi": "📎 Tệp đính kèm: {path}", "en": "📎 Attached file: {path}"},
    "report.files_kept": {
        "vi": "📎 Kênh này không gửi được tệp: tệp Excel và biểu đồ của tuần ({workbook}) đã "
        "lưu trên máy chủ. {You} nhận được tệp trên Telegram khi liên kết thêm Telegram và "
        "chọn nhận báo cáo ở đó (/kenh).",
        "en": "📎 This channel cannot send files: the week's workbook and chart ({workbook}) are "
        "kept on the server. Link Telegram as well and choose it with /kenh to receive them.",
    },
    "choices.prompt": {
        "vi": "{You} trả lời bằng số để chọn:",
        "en": "Answer with a number to choose:",
    },
    "choices.line": {"vi": "{number}. {label}", "en": "{number}. {label}"},
    "console.intro": {
        "vi": "Trò chuyện với dondoc (kênh console). Gõ như trên Telegram; chọn nút bằng số; "
        "gõ /thoat để thoát.",
        "en": "Chatting with dondoc (console channel). Type as on Telegram; pick buttons by number; "
        "type /quit to leave.",
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
        "en_one": "■ {name} ({code}) — 1 task",
    },
    "overview.task_deadline": {
        "vi": "  • {code} {title}\n      hạn {deadline} ({countdown})",
        "en": "  • {code} {title}\n      due {deadline} ({countdown})",
    },
    "overview.task_deadline_proposed": {
        "vi": "  • {code} {title}\n      hạn đề xuất {deadline} ({countdown})",
        "en": "  • {code} {title}\n      proposed deadline {deadline} ({countdown})",
    },
    "overview.task_recurring": {
        "vi": "  • {code} {title}\n      {rule}; lần tới {next}",
        "en": "  • {code} {title}\n      {rule}; next {next}",
    },
    "overview.task_undated": {
        "vi": "  • {code} {title}\n      {rule}, không có hạn",
        "en": "  • {code} {title}\n      {rule}, no deadline",
    },
    "overview.proposed": {"vi": " (đề xuất)", "en": " (proposed)"},
    "overview.proposed_note": {
        "vi": "Kế hoạch không ghi ngày cho các nhiệm vụ: ngày có ghi (đề xuất) là đề xuất của dữ "
        "liệu mặc định, nhà trường xác nhận hoặc sửa rồi nhập lại tệp kế hoạch.",
        "en": "The plan gives no dates for its tasks: dates marked (proposed) are the default "
        "data's proposals, for the school to confirm or change and import again.",
    },
    "overview.kpis": {"vi": "CHỈ SỐ MỤC TIÊU NĂM {year}", "en": "KPI TARGETS FOR {year}"},
    "overview.kpi": {"vi": "  • {name} [{key}]: {target}", "en": "  • {name} [{key}]: {target}"},
    "overview.demo_db": {
        "vi": "Cơ sở dữ liệu thử (SQLite, tạo mới mỗi lần chạy): {path}",
        "en": "Demo database (SQLite, new on every run): {path}",
    },
    "overview.next_steps": {
        "vi": "Tiếp theo: nhập danh sách cán bộ (dondoc people import TỆP.csv) và in mã mời "
        "(dondoc invite).",
        "en": "Next: import the staff list (dondoc people import FILE.csv) and print invitations "
        "(dondoc invite).",
    },
    "demo.title": {"vi": "dondoc chạy thử — {school}", "en": "dondoc demo — {school}"},
    "demo.plan": {
        "vi": "Kế hoạch gồm {units} tổ/bộ phận, {tasks} nhiệm vụ, {kpis} chỉ số mục tiêu "
        "(danh sách đầy đủ ở đầu tệp nhật ký).",
        "en": "The plan: {units} units, {tasks} tasks, {kpis} KPI targets "
        "(listed in full at the top of the transcript).",
    },
    "demo.week": {
        "vi": "Một tuần mô phỏng {start} – {end} trên đồng hồ ảo, không cần token: dondoc nhắc việc "
        "qua kênh console, thầy cô trả lời theo kịch bản.",
        "en": "A simulated week {start} – {end} on a virtual clock, no token needed: dondoc "
        "reminds over the console channel, staff answer as scripted.",
    },
    "demo.day": {"vi": "══ {weekday} {date} ══", "en": "══ {weekday} {date} ══"},
    "demo.person": {"vi": "{time} 💬 {name}: {text}", "en": "{time} 💬 {name}: {text}"},
    "demo.pressed": {"vi": "(bấm nút «{label}»)", "en": "(presses «{label}»)"},
    "demo.bot": {
        "vi": "{time} 📨 dondoc → {name} ({unit}):",
        "en": "{time} 📨 dondoc → {name} ({unit}):",
    },
    "demo.sent": {
        "vi": "{time} 📨 dondoc → {name} ({unit}): {gist}",
        "en": "{time} 📨 dondoc → {name} ({unit}): {gist}",
    },
    "demo.answer": {"vi": "      ↳ dondoc: {gist}", "en": "      ↳ dondoc: {gist}"},
    "demo.answer_to": {
        "vi": "      ↳ dondoc → {name} ({unit}): {gist}",
        "en": "      ↳ dondoc → {name} ({unit}): {gist}",
    },
    "demo.more": {
        "vi": "{time} 📨 … và {count} tin nhắn khác cho {names}",
        "en": "{time} 📨 … and {count} more messages to {names}",
        "en_one": "{time} 📨 … and 1 more message to {names}",
    },
    "demo.digest": {
        "vi": "══ BÁO CÁO TUẦN gửi Hiệu trưởng {name} lúc {time} {date} (nguyên văn) ══",
        "en": "══ THE WEEKLY DIGEST sent to the principal, {name}, at {time} {date} (in full) ══",
    },
    "demo.summary": {
        "vi": "Cả tuần: dondoc gửi {messages} tin nhắn, thầy cô báo cáo {updates} lần.",
        "en": "The whole week: dondoc sent {messages} messages; staff reported {updates} times.",
    },
    "demo.workbook": {"vi": "Bảng tính Excel: {path}", "en": "Excel workbook: {path}"},
    "demo.chart": {"vi": "Biểu đồ tiến độ: {path}", "en": "Progress chart: {path}"},
    "demo.file": {"vi": "Tệp báo cáo: {path}", "en": "Report file: {path}"},
    "demo.transcript": {
        "vi": "Nhật ký đầy đủ (kế hoạch và mọi tin nhắn nguyên văn): {path}",
        "en": "Full transcript (the plan and every message in full): {path}",
    },
    "countdown.left": {"vi": "còn {days} ngày", "en": "{days} days left", "en_one": "1 day left"},
    "countdown.today": {"vi": "hạn hôm nay", "en": "due today"},
    "countdown.done_late": {
        "vi": "hoàn thành trễ {days} ngày",
        "en": "done {days} days late",
        "en_one": "done 1 day late",
    },
    "countdown.done_on_time": {"vi": "hoàn thành đúng hạn", "en": "done on time"},
    "countdown.never_due": {"vi": "không có hạn", "en": "no deadline"},
    "countdown.overdue": {
        "vi": "quá hạn {days} ngày",
        "en": "{days} days overdue",
        "en_one": "1 day overdue",
    },
    "target.yes": {"vi": "phải đạt", "en": "must be met"},
    "target.no": {"vi": "không yêu cầu", "en": "not required"},
    "direction.<=": {"vi": "không quá {value}", "en": "at most {value}"},
    "direction.>=": {"vi": "ít nhất {value}", "en": "at least {value}"},
    "direction.<": {"vi": "dưới {value}", "en": "below {value}"},
    "direction.>": {"vi": "trên {value}", "en": "above {value}"},
    "direction.=": {"vi": "{value}", "en": "{value}"},
    "direction.between": {"vi": "từ {low} đến {high}", "en": "from {low} to {high}"},
    "recurrence.ongoing": {"vi": "thường xuyên", "en": "ongoing"},
    "recurrence.on_request": {"vi": "khi có yêu cầu", "en": "on request"},
    "recurrence.semester": {"vi": "cuối mỗi học kỳ", "en": "at the end of each semester"},
    "recurrence.school_year": {"vi": "đầu năm học", "en": "at the start of the school year"},
    "recurrence.week": {"vi": "hằng tuần vào {weekday}", "en": "every week on {weekday}"},
    "recurrence.month": {"vi": "ngày {day} hằng tháng", "en": "every month on day {day}"},
    "recurrence.year": {"vi": "hằng năm vào ngày {dates}", "en": "every year on {dates}"},
    "recurrence.years": {"vi": "hằng năm vào các ngày {dates}", "en": "every year on {dates}"},
    "recurrence.week_from": {
        "vi": "hằng tuần vào {weekday}, từ ngày {start}",
        "en": "every week on {weekday}, from {start}",
    },
    "recurrence.weeks": {
        "vi": "{weeks} tuần một lần vào {weekday}",
        "en": "every {weeks} weeks on {weekday}",
    },
    "recurrence.weeks_from": {
        "vi": "{weeks} tuần một lần vào {weekday}, từ ngày {start}",
        "en": "every {weeks} weeks on {weekday}, from {start}",
    },
    "recurrence.month_weekday": {
        "vi": "{weekday} {nth} hằng tháng",
        "en": "the {nth} {weekday} of every month",
    },
    "recurrence.nth.1": {"vi": "đầu tiên", "en": "first"},
    "recurrence.nth.2": {"vi": "thứ 2", "en": "second"},
    "recurrence.nth.3": {"vi": "thứ 3", "en": "third"},
    "recurrence.nth.4": {"vi": "thứ 4", "en": "fourth"},
    "recurrence.nth.-1": {"vi": "cuối cùng", "en": "last"},
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
    "cli.db.backup": {
        "vi": "Sao lưu cơ sở dữ liệu vào TỆP (SQLite: sao lưu trực tuyến, bot vẫn chạy được; "
        "PostgreSQL: in lệnh pg_dump).",
        "en": "Back up the database to FILE (SQLite: an online backup, the bot may keep "
        "running; PostgreSQL: prints the pg_dump command).",
    },
    "cli.db.restore": {
        "vi": "Khôi phục cơ sở dữ liệu từ TỆP sao lưu, sau khi lưu bản hiện tại bên cạnh "
        "(SQLite; PostgreSQL: in lệnh pg_restore).",
        "en": "Restore the database from a backup FILE, after saving the current one beside it "
        "(SQLite; PostgreSQL: prints the pg_restore command).",
    },
    "cli.db.restore.force": {
        "vi": "Khôi phục cả khi còn tiến trình dondoc run đang chạy.",
        "en": "Restore even while dondoc run processes are alive.",
    },
    "cli.status": {
        "vi": "Tình trạng vận hành: cơ sở dữ liệu, lược đồ, tiến trình, hàng đợi nhắc việc, "
        "nhắc việc không gửi được. Mã thoát 1 khi có lỗi.",
        "en": "Operations status: database, schema, processes, the reminder queue, undelivered "
        "reminders. Exit code 1 when failing.",
    },
    "cli.status.format": {"vi": "text hoặc json.", "en": "text or json."},
    "cli.plan": {"vi": "Nhập, xuất kế hoạch.", "en": "Import and export the plan."},
    "cli.plan.import": {
        "vi": "Nhập kế hoạch từ tệp YAML/JSON/Excel; không có TỆP thì nhập kế hoạch mặc định.",
        "en": "Import a plan from YAML/JSON/Excel; without FILE, the default plan.",
    },
    "cli.plan.prune": {
        "vi": "Lưu trữ các nhiệm vụ, tổ/bộ phận không có trong tệp (lịch sử vẫn được giữ).",
        "en": "Archive the tasks and units the file leaves out (their history is kept).",
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
        "vi": "Nhập danh sách từ CSV/XLSX với tiêu đề name,unit,role,phone (thêm xung_ho nếu có).",
        "en": "Import people from CSV/XLSX with the header name,unit,role,phone (and xung_ho).",
    },
    "cli.assign": {
        "vi": "Giao nhiệm vụ cho một hoặc nhiều người (người của tổ phụ trách hoặc ban giám hiệu).",
        "en": "Assign a task to one or more people (of the task's unit or the leadership).",
    },
    "cli.assign.code": {"vi": "Mã nhiệm vụ, ví dụ III.4.2.", "en": "Task code, e.g. III.4.2."},
    "cli.assign.people": {
        "vi": 'Họ tên (đặt trong ngoặc kép, ví dụ "Trần Thị Mai") hoặc số điện thoại.',
        "en": 'Full name (in quotes, e.g. "Trần Thị Mai") or phone number.',
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
    # --- how the bot addresses a person (xưng hô) --------------------------------------------
    "you.thay": {"vi": "thầy", "en": "you"},
    "you.co": {"vi": "cô", "en": "you"},
    "you.unknown": {"vi": "thầy/cô", "en": "you"},
    "you.named": {"vi": "{you} {name}", "en": "{name}"},
    # --- chat: joining -----------------------------------------------------------------------
    "join.stranger": {
        "vi": "Xin chào {you}! Đây là hệ thống đôn đốc công việc của nhà trường. Tài khoản của {you} "
        "chưa được liên kết nên chưa xem được thông tin.\n{You} vui lòng xin <b>mã mời</b> ở văn "
        "phòng hoặc Ban giám hiệu, rồi bấm đường liên kết trong lời mời hoặc gõ mã vào đây (ví dụ: "
        "<code>K7M2XQ4P</code>).",
        "en": "Hello! This is the school's follow-up assistant. Your account is not linked yet, so "
        "there is nothing to show.\nAsk the office or the principal for an <b>invitation code</b>, "
        "then open the link in it or type the code here (e.g. <code>K7M2XQ4P</code>).",
    },
    "join.stranger_short": {
        "vi": "Tài khoản chưa được liên kết; xin {you} gõ mã mời.",
        "en": "Your account is not linked; type your invitation code.",
    },
    "join.welcome": {
        "vi": "Chào {you_name}! Tài khoản đã được liên kết. Từ nay hệ thống sẽ nhắc việc và nhận "
        "báo cáo của {you}.",
        "en": "Welcome, {you_name}! Your account is linked. The bot will now remind you and take your reports.",
    },
    "join.hello": {"vi": "Chào {you_name}!", "en": "Hello, {you_name}!"},
    "join.already": {
        "vi": "Tài khoản này đã liên kết với {name}, không cần mã mời nữa. Xin {you} gõ /viec để "
        "xem việc.",
        "en": "This account is already linked to {name}; no code needed. Type /tasks to see your tasks.",
    },
    "join.unknown": {
        "vi": "Mã mời không đúng. {You} vui lòng kiểm tra lại từng ký tự (mã gồm 8 chữ và số, ví dụ "
        "<code>K7M2XQ4P</code>) hoặc xin mã mới ở văn phòng.",
        "en": "That invitation code is not valid. Check each character (8 letters and digits, e.g. "
        "<code>K7M2XQ4P</code>) or ask the office for a new one.",
    },
    "join.expired": {
        "vi": "Mã mời này đã hết hạn. {You} vui lòng xin mã mới ở văn phòng hoặc Ban giám hiệu.",
        "en": "This invitation code has expired. Ask the office or the principal for a new one.",
    },
    "join.used": {
        "vi": "Mã mời này đã được dùng. Mỗi mã chỉ dùng một lần; nếu không phải {you} đã dùng, xin "
        "{you} báo văn phòng để cấp mã mới.",
        "en": "This invitation code was already used. Each code works once; if it was not you, ask "
        "the office for a new one.",
    },
    "join.taken": {
        "vi": "Tài khoản này đã liên kết với một người khác trong trường. Xin {you} báo văn phòng.",
        "en": "This account is already linked to someone else at the school. Tell the office.",
    },
    "join.throttled": {
        "vi": "Mã mời đã bị nhập sai nhiều lần. {You} vui lòng thử lại sau {minutes} phút.",
        "en": "Too many wrong codes. Try again in {minutes} minutes.",
    },
    "join.another_school": {
        "vi": "{You} hiện theo dõi {count} trường; các lệnh như /viec đang áp dụng cho "
        "<b>{school}</b>. Gõ /truong để xem các trường và chuyển trường; tin nhắn trả lời một "
        "nhắc việc luôn được ghi cho trường của việc đó.",
        "en": "You now follow {count} schools; commands such as /tasks apply to <b>{school}</b>. "
        "Type /school to see your schools and switch; a reply to a reminder always counts for "
        "that task's school.",
        "en_one": "You now follow 1 school; commands such as /tasks apply to <b>{school}</b>. "
        "Type /school to see it; a reply to a reminder always counts for that task's school.",
    },
    "help.common": {
        "vi": "<b>Cách dùng</b>\n"
        "/viec — các việc {you} phụ trách, hạn gần nhất trước; /viec <i>mã</i> — chi tiết\n"
        "/capnhat <i>mã</i> <i>phần trăm</i> [ghi chú] — ví dụ: /capnhat III.4.2 60 đã số hoá khối 6\n"
        "/xong <i>mã</i> [ghi chú] — báo hoàn thành\n"
        "/vuong <i>mã</i> <i>lý do</i> — báo gặp vướng mắc\n"
        "/chiso — xem các chỉ số so với mục tiêu\n"
        "/kenh — nhận nhắc việc qua Telegram hay Zalo; liên kết thêm kênh\n"
        "/ngonngu en — English\n"
        'Trả lời (reply) tin nhắn về một nhiệm vụ bằng "80%", "xong" hoặc "vướng: lý do", '
        'hoặc gõ mã kèm tình trạng, ví dụ "III.1.4 xong".\n'
        "Gửi ảnh, tệp có mã nhiệm vụ ở chú thích để nộp minh chứng.",
        "en": "<b>How to use</b>\n"
        "/tasks — your and your unit's tasks, nearest deadline first; /tasks <i>code</i> — details\n"
        "/update <i>code</i> <i>percent</i> [note] — e.g. /update III.4.2 60 grade 6 scanned\n"
        "/done <i>code</i> [note] — report done\n"
        "/blocked <i>code</i> <i>reason</i> — report a blocker\n"
        "/kpi — KPIs against target\n"
        "/channel — get reminders on Telegram or Zalo; link another channel\n"
        "/language vi — tiếng Việt\n"
        'Reply to a message about a task with "80%", "done" or "blocked: reason", '
        'or write the code and the state, e.g. "III.1.4 done".\n'
        "Send a photo or file with the task code as caption to hand in evidence.",
    },
    "help.head": {
        "vi": "<b>Dành cho tổ trưởng</b>\n"
        "/giao <i>mã</i> [người] — giao việc của tổ cho thành viên\n"
        "/minhchung [<i>mã</i>] — minh chứng của tổ; thư mục minh chứng của một việc",
        "en": "<b>For unit heads</b>\n"
        "/assign <i>code</i> [person] — give a task of your unit to a member\n"
        "/evidence [<i>code</i>] — your unit's evidence; a task's evidence folder",
    },
    "help.leader": {
        "vi": "<b>Dành cho Ban giám hiệu</b>\n"
        "/baocao — báo cáo tổng hợp của trường\n"
        "/baocao thang, /baocao quy — báo cáo định kỳ của tháng, quý (tệp Word)\n"
        "/tomtat — nhận tóm tắt điểm mới hằng ngày, hằng tuần, hoặc tắt\n"
        "/chiso <i>mã</i> <i>giá trị</i> — ghi chỉ số, ví dụ: /chiso dropout 0,4\n"
        "/giao <i>mã</i> [người] — giao bất kỳ việc nào cho một người\n"
        "/minhchung [<i>mã</i>] — minh chứng đã nhận; thư mục minh chứng của một việc",
        "en": "<b>For leaders</b>\n"
        "/report — the school report\n"
        "/report month, /report quarter — the periodic report (a Word file)\n"
        "/brief — your brief of what is new: daily, weekly or off\n"
        "/kpi <i>key</i> <i>value</i> — record a KPI, e.g. /kpi dropout 0.4\n"
        "/assign <i>code</i> [person] — assign any task to someone\n"
        "/evidence [<i>code</i>] — evidence received; a task's evidence folder",
    },
    "help.groups": {
        "vi": "/lienket — (trong nhóm) liên kết nhóm với tổ",
        "en": "/link — (in a group) link the group to your unit",
    },
    "help.schools": {
        "vi": "<b>Làm việc ở nhiều trường</b>\n"
        "/truong — các trường của {you}; /truong <i>số</i> hoặc /truong <i>tên trường</i> — "
        "chuyển trường",
        "en": "<b>Working in several schools</b>\n"
        "/school — your schools; /school <i>number</i> or /school <i>name</i> — switch",
    },
    "hint.text": {
        "vi": "Hệ thống chưa hiểu tin nhắn này. {You} gõ /viec để xem việc, hoặc trả lời (reply) tin "
        "nhắn về một nhiệm vụ để cập nhật; gõ /huongdan để xem hướng dẫn.",
        "en": "Sorry, that message was not understood. Type /tasks to see your tasks, or reply to a message about "
        "a task to update it. Type /help for help.",
    },
    "command.unknown": {
        "vi": "Không có lệnh /{command}. Xin {you} gõ /huongdan để xem các lệnh.",
        "en": "There is no /{command} command. Type /help to see the commands.",
    },
    "language.usage": {
        "vi": "Xin {you} chọn ngôn ngữ: /ngonngu vi (tiếng Việt) hoặc /ngonngu en (English).",
        "en": "Choose a language: /language vi (tiếng Việt) or /language en (English).",
    },
    "language.done": {"vi": "Đã chuyển sang tiếng Việt.", "en": "Switched to English."},
    "error.internal": {
        "vi": "Xin lỗi thầy/cô, hệ thống gặp lỗi khi xử lý tin nhắn; chưa có gì được ghi. "
        "Thầy/cô vui lòng thử lại sau ít phút.",
        "en": "Sorry, something went wrong; nothing was recorded. Please try again in a few minutes.",
    },
    "menu.tasks": {"vi": "Việc cá nhân và của tổ", "en": "My and my unit's tasks"},
    "menu.update": {
        "vi": "Cập nhật tiến độ: mã, phần trăm",
        "en": "Update progress: code, percent",
    },
    "menu.done": {"vi": "Báo hoàn thành: mã", "en": "Report done: code"},
    "menu.blocked": {"vi": "Báo vướng mắc: mã, lý do", "en": "Report a blocker: code, reason"},
    "menu.kpi": {"vi": "Chỉ số so với mục tiêu", "en": "KPIs against target"},
    "menu.link": {"vi": "Liên kết nhóm với tổ", "en": "Link this group to a unit"},
    "menu.assign": {"vi": "Giao việc cho thành viên", "en": "Assign a task"},
    "menu.language": {"vi": "Ngôn ngữ: vi hoặc en", "en": "Language: vi or en"},
    "menu.help": {"vi": "Hướng dẫn", "en": "Help"},
    "truong.menu": {"vi": "Trường đang làm việc", "en": "Your schools, switch"},
    "kenh.menu": {
        "vi": "Kênh nhận nhắc việc (Telegram, Zalo)",
        "en": "Where reminders go (Telegram, Zalo)",
    },
    "channel.telegram": {"vi": "Telegram", "en": "Telegram"},
    "channel.zalo": {"vi": "Zalo", "en": "Zalo"},
    "kenh.none": {
        "vi": "{You} đang dùng bot trên máy của trường (console), chưa liên kết Telegram hay Zalo. "
        "Gõ /kenh lienket để lấy mã, rồi gửi mã đó cho bot của trường trên Telegram hoặc Zalo.",
        "en": "You are using the bot on the school's computer (console), with no Telegram or Zalo "
        "linked. Type /kenh lienket for a code, then send it to the school's bot on Telegram or "
        "Zalo.",
    },
    "kenh.list": {
        "vi": "Nhắc việc và báo cáo tuần gửi đến {you} qua <b>{channel}</b>. Các kênh đã liên kết:",
        "en": "Reminders and the weekly report reach you on <b>{channel}</b>. Linked channels:",
    },
    "kenh.line": {"vi": "• {channel}", "en": "• {channel}"},
    "kenh.how": {
        "vi": "Gõ /kenh zalo hoặc /kenh telegram để chọn kênh nhận; /kenh lienket để lấy mã "
        "liên kết thêm kênh khác.",
        "en": "Type /kenh zalo or /kenh telegram to choose; /kenh lienket for a code to link "
        "another channel.",
    },
    "kenh.button.use": {"vi": "📩 Nhận qua {channel}", "en": "📩 Receive on {channel}"},
    "kenh.button.link": {"vi": "🔗 Liên kết thêm kênh", "en": "🔗 Link another channel"},
    "kenh.chosen": {
        "vi": "Từ nay nhắc việc và báo cáo tuần gửi đến {you} qua <b>{channel}</b>.",
        "en": "From now on reminders and the weekly report reach you on <b>{channel}</b>.",
    },
    "kenh.not_linked": {
        "vi": "{You} chưa liên kết {channel}. Gõ /kenh lienket để lấy mã, rồi gửi mã đó cho bot "
        "của trường trên {channel}.",
        "en": "You have not linked {channel}. Type /kenh lienket for a code, then send it to the "
        "school's bot on {channel}.",
    },
    "kenh.code": {
        "vi": "Mã liên kết của {you}: <code>{code}</code> (dùng một lần, trong 24 giờ). Mở bot "
        "của trường trên kênh kia (Zalo hoặc Telegram) và gửi mã này.",
        "en": "Your linking code: <code>{code}</code> (single use, for 24 hours). Open the "
        "school's bot on the other channel (Zalo or Telegram) and send this code.",
    },
    "kenh.unknown": {
        "vi": "Không có kênh “{choice}”. Gõ /kenh zalo, /kenh telegram hoặc /kenh lienket.",
        "en": "There is no channel “{choice}”. Type /kenh zalo, /kenh telegram or /kenh lienket.",
    },
    "truong.one": {
        "vi": "{You} thuộc một trường: <b>{school}</b>. Lệnh /truong dùng để chuyển trường khi "
        "{you} làm việc ở nhiều trường.",
        "en": "You belong to one school: <b>{school}</b>. /school switches between schools for "
        "people working in several.",
    },
    "truong.list": {
        "vi": "{You} đang theo dõi {count} trường:",
        "en": "You follow {count} schools:",
        "en_one": "You follow 1 school:",
    },
    "truong.line": {"vi": "{number}. {school}", "en": "{number}. {school}"},
    "truong.line_current": {
        "vi": "{number}. <b>{school}</b> — đang làm việc",
        "en": "{number}. <b>{school}</b> — current",
    },
    "truong.how": {
        "vi": "Để chuyển trường, {you} gõ /truong <i>số</i> hoặc một phần tên trường, ví dụ: "
        "/truong 2.",
        "en": "To switch, type /school <i>number</i> or part of the school's name, e.g. /school 2.",
    },
    "truong.unknown": {
        "vi": "Không có trường nào của {you} khớp với “{choice}”.",
        "en": "None of your schools matches “{choice}”.",
    },
    "truong.ambiguous": {
        "vi": "Có nhiều trường khớp với “{choice}”; xin {you} gõ số thứ tự.",
        "en": "Several of your schools match “{choice}”; type its number.",
    },
    "truong.switched": {
        "vi": "Đã chuyển sang <b>{school}</b>. Từ nay các lệnh như /viec, /capnhat áp dụng cho "
        "trường này; tin nhắn trả lời một nhắc việc vẫn được ghi cho trường của việc đó.",
        "en": "Switched to <b>{school}</b>. Commands such as /tasks and /update now apply to this "
        "school; a reply to a reminder still counts for that task's school.",
    },
    # --- chat: tasks -------------------------------------------------------------------------
    "task.title": {"vi": "<b>{code}</b> — {title}", "en": "<b>{code}</b> — {title}"},
    "task.unit": {"vi": "Tổ/bộ phận: {unit}", "en": "Unit: {unit}"},
    "task.lead_unit": {"vi": "Chủ trì: {unit}", "en": "Lead unit: {unit}"},
    "task.support": {"vi": "Phối hợp: {units}", "en": "Coordinating: {units}"},
    "task.role_holders": {"vi": "{role} ({names})", "en": "{role} ({names})"},
    "task.shares": {
        "vi": "Giao cho {count} đơn vị, mỗi đơn vị báo cáo riêng phần việc — {done}/{count} đơn vị "
        "hoàn thành:",
        "en": "Given to {count} units, each reporting its own part — {done}/{count} units done:",
        "en_one": "Given to 1 unit, reporting its own part — {done}/1 done:",
    },
    "task.share_line": {"vi": "• {unit}: {state}", "en": "• {unit}: {state}"},
    "task.share_title": {"vi": "{title} ({unit})", "en": "{title} ({unit})"},
    "task.assignee": {"vi": " · Phụ trách: {name}", "en": " · Assignee: {name}"},
    "task.deadline": {"vi": "Hạn: {deadline} ({countdown})", "en": "Due: {deadline} ({countdown})"},
    "task.deadline_proposed": {
        "vi": "Hạn đề xuất: {deadline} ({countdown})",
        "en": "Proposed deadline: {deadline} ({countdown})",
    },
    "task.undated": {
        "vi": "Thực hiện: {rule}, không có hạn; tổ trưởng báo cáo trong buổi hỏi thăm hằng tuần",
        "en": "Done: {rule}, no deadline; the unit head reports at the weekly check-in",
    },
    "task.recurring": {
        "vi": "Lặp lại: {rule}; lần tới {next} ({countdown})",
        "en": "Repeats: {rule}; next {next} ({countdown})",
    },
    "task.recurring_proposed": {
        "vi": "Lặp lại (đề xuất): {rule}; lần tới {next} ({countdown})",
        "en": "Repeats (proposed): {rule}; next {next} ({countdown})",
    },
    "task.progress": {
        "vi": "Tiến độ: {progress}% — {status}",
        "en": "Progress: {progress}% — {status}",
    },
    "task.how_to_answer": {
        "vi": "<i>Trả lời tin nhắn này hoặc gõ ngay để cập nhật, ví dụ: 80% · xong · vướng: thiếu "
        "máy chiếu.</i>",
        "en": "<i>Reply to this message to update it, e.g. 80% · done · blocked: no projector.</i>",
    },
    "task.history": {"vi": "<b>Cập nhật gần đây</b>", "en": "<b>Recent updates</b>"},
    "task.line": {
        "vi": "• <b>{code}</b> {title} — {progress}% — {countdown}",
        "en": "• <b>{code}</b> {title} — {progress}% — {countdown}",
    },
    "task.not_found": {
        "vi": "Không có nhiệm vụ mã <b>{code}</b>. Xin {you} gõ /viec để xem mã các việc.",
        "en": "There is no task <b>{code}</b>. Type /tasks to see your task codes.",
    },
    "task.archived": {
        "vi": "Nhiệm vụ <b>{code}</b> {title} đã được lưu trữ ngày {date} (không còn trong kế "
        "hoạch); không cần báo cáo thêm.",
        "en": "Task <b>{code}</b> {title} was archived on {date} (no longer in the plan); no "
        "more reports are needed.",
    },
    "task.did_you_mean": {
        "vi": "Không có nhiệm vụ mã <b>{code}</b>. Có phải {you} muốn nói một trong các việc dưới đây?",
        "en": "There is no task <b>{code}</b>. Did you mean one of the tasks below?",
    },
    "tasks.header": {
        "vi": "<b>Việc đang mở ({count})</b>, hạn gần nhất trước:",
        "en": "<b>Open tasks ({count})</b>, nearest deadline first:",
    },
    "tasks.more": {"vi": "… và {count} việc khác.", "en": "… and {count} more."},
    "tasks.footer": {
        "vi": "Gõ /viec <i>mã</i> để xem chi tiết và cập nhật.",
        "en": "Type /tasks <i>code</i> for details and to update.",
    },
    "tasks.none": {
        "vi": "Không có việc nào đang mở. Cảm ơn {you}!",
        "en": "No open tasks. Thank you!",
    },
    "status.todo": {"vi": "chưa bắt đầu", "en": "not started"},
    "status.in_progress": {"vi": "đang thực hiện", "en": "in progress"},
    "status.blocked": {"vi": "gặp vướng mắc", "en": "blocked"},
    "status.done": {"vi": "hoàn thành", "en": "done"},
    "deny.not_your_unit": {
        "vi": "Nhiệm vụ {code} không thuộc tổ/bộ phận của {you} nên không cập nhật được.",
        "en": "Task {code} is not your unit's, so you cannot update it.",
    },
    "deny.not_your_unit_view": {
        "vi": "Nhiệm vụ {code} không thuộc tổ/bộ phận của {you}.",
        "en": "Task {code} does not belong to your unit.",
    },
    "deny.archived": {
        "vi": "Nhiệm vụ {code} đã được lưu trữ (không còn trong kế hoạch); không cần báo cáo thêm.",
        "en": "Task {code} was archived (it is no longer in the plan); no more reports are needed.",
    },
    "deny.supporting": {
        "vi": "Nhiệm vụ {code} do {unit} chủ trì và báo cáo tiến độ; tổ/bộ phận của {you} phối "
        "hợp nên xem được nhưng không cập nhật được. Xin {you} trao đổi với {unit}.",
        "en": "Task {code} is led by {unit}, which reports its progress; your unit coordinates, "
        "so you can see it but not update it. Please talk to {unit}.",
    },
    "deny.not_assigned": {
        "vi": "Nhiệm vụ {code} chưa được giao cho {you}; chỉ người được giao, tổ trưởng hoặc Ban "
        "giám hiệu cập nhật được. Xin {you} báo tổ trưởng.",
        "en": "Task {code} is not assigned to you; only the assignee, the unit head or the "
        "principal can update it. Tell your unit head.",
    },
    "deny.kpi": {
        "vi": "Chỉ hiệu trưởng và phó hiệu trưởng ghi được chỉ số. {You} vẫn xem được bằng /chiso.",
        "en": "Only the principal and vice principals record KPIs. You can still view them with /kpi.",
    },
    # --- chat: progress ----------------------------------------------------------------------
    "usage.update": {
        "vi": "Cách dùng: /capnhat <i>mã</i> <i>phần trăm từ 0 đến 100</i> [ghi chú]\n"
        "Ví dụ: /capnhat III.4.2 60 đã số hoá khối 6",
        "en": "Usage: /update <i>code</i> <i>percent from 0 to 100</i> [note]\n"
        "Example: /update III.4.2 60 grade 6 scanned",
    },
    "usage.done": {
        "vi": "Cách dùng: /xong <i>mã</i> [ghi chú] — ví dụ: /xong III.1.11 đã gửi báo cáo tháng",
        "en": "Usage: /done <i>code</i> [note] — e.g. /done III.1.11 monthly report sent",
    },
    "usage.blocked": {
        "vi": "Cách dùng: /vuong <i>mã</i> <i>lý do</i> — ví dụ: /vuong III.4.2 thiếu máy quét",
        "en": "Usage: /blocked <i>code</i> <i>reason</i> — e.g. /blocked III.4.2 no scanner",
    },
    "update.recorded": {
        "vi": "Đã ghi cho <b>{code}</b> — {title}:",
        "en": "Recorded for <b>{code}</b> — {title}:",
    },
    "update.state": {
        "vi": "Tiến độ {progress}% — {status}",
        "en": "Progress {progress}% — {status}",
    },
    "update.evidence": {
        "vi": "Minh chứng: {count} tệp",
        "en": "Evidence: {count} files",
        "en_one": "Evidence: 1 file",
    },
    "update.note_recorded": {"vi": "Ghi chú: {note}", "en": "Note: {note}"},
    "update.line": {"vi": "{when} · {who}: {what}", "en": "{when} · {who}: {what}"},
    "update.percent": {"vi": "{percent}% ({status})", "en": "{percent}% ({status})"},
    "update.note": {"vi": " — {note}", "en": " — {note}"},
    "update.next_occurrence": {
        "vi": "Chuyển sang kỳ mới, hạn {date}.",
        "en": "Moved on to the next occurrence, due {date}.",
    },
    "blocked.ask": {
        "vi": "Nhiệm vụ <b>{code}</b> — {title} gặp vướng mắc gì ạ? {You} vui lòng trả lời tin nhắn "
        "này bằng lý do.",
        "en": "What is blocking <b>{code}</b> — {title}? Reply to this message with the reason.",
    },
    "reply.unclear": {
        "vi": 'Hệ thống chưa rõ ý "{text}" cho <b>{code}</b>. {You} vui lòng chọn một mục dưới đây, '
        'hoặc trả lời lại bằng số phần trăm (ví dụ 80%), "xong" hay "vướng: lý do".',
        "en": 'It is not clear what "{text}" means for <b>{code}</b>. Pick one below, or reply again '
        'with a percentage (e.g. 80%), "done" or "blocked: reason".',
    },
    "progress.choose": {
        "vi": "Chọn mức tiến độ cho <b>{code}</b>:",
        "en": "Choose the progress of <b>{code}</b>:",
    },
    "button.done": {"vi": "✅ Hoàn thành", "en": "✅ Done"},
    "button.progress": {"vi": "📈 Cập nhật tiến độ", "en": "📈 Update progress"},
    "button.snooze": {"vi": "⏰ Nhắc lại sau", "en": "⏰ Remind me later"},
    "button.blocked": {"vi": "⚠️ Gặp vướng mắc", "en": "⚠️ Blocked"},
    "button.undo": {"vi": "↩️ Hoàn tác", "en": "↩️ Undo"},
    "button.snooze_hour": {"vi": "1 giờ", "en": "1 hour"},
    "button.snooze_tomorrow": {"vi": "Ngày mai", "en": "Tomorrow"},
    "button.snooze_3days": {"vi": "3 ngày", "en": "3 days"},
    "button.outdated": {
        "vi": "Nút này đã cũ. Gõ /viec để xem việc hiện tại.",
        "en": "This button is outdated. Type /tasks to see current tasks.",
    },
    "button.already_done": {
        "vi": "Nhiệm vụ {code} đã hoàn thành; không cần cập nhật thêm.",
        "en": "Task {code} is already done; nothing more to update.",
    },
    "snooze.choose": {
        "vi": "Nhắc lại <b>{code}</b> sau bao lâu?",
        "en": "Remind you about <b>{code}</b> when?",
    },
    "snooze.done": {"vi": "Sẽ nhắc lại lúc {when}.", "en": "Will remind you at {when}."},
    "snooze.done_long": {
        "vi": "Đã ghi nhận, hệ thống sẽ nhắc lại <b>{code}</b> lúc {when}.",
        "en": "OK, you will be reminded about <b>{code}</b> at {when}.",
    },
    "undo.done_short": {"vi": "Đã hoàn tác.", "en": "Undone."},
    "undo.done": {
        "vi": "Đã hoàn tác. <b>{code}</b> trở lại: {progress}% — {status}.",
        "en": "Undone. <b>{code}</b> is back to {progress}% — {status}.",
    },
    "undo.already": {
        "vi": "Cập nhật này của {code} đã được hoàn tác rồi.",
        "en": "This update of {code} was already undone.",
    },
    "undo.not_yours": {
        "vi": "Chỉ người đã gửi cập nhật này mới hoàn tác được.",
        "en": "Only the person who sent this update can undo it.",
    },
    "undo.newer_exists": {
        "vi": "{code} đã có cập nhật mới hơn nên không hoàn tác được; xin {you} gửi cập nhật đúng.",
        "en": "{code} has a newer update, so this one cannot be undone; send the right update instead.",
    },
    "evidence.which_task": {
        "vi": "Ảnh/tệp này là minh chứng cho nhiệm vụ nào ạ? {You} vui lòng gửi lại bằng cách trả lời "
        "(reply) tin nhắn về nhiệm vụ, hoặc ghi mã nhiệm vụ ở chú thích, ví dụ: "
        "<code>III.4.2 biên bản họp</code>.",
        "en": "Which task is this photo/file evidence for? Send it again as a reply to the task's "
        "message, or put the task code in the caption, e.g. <code>III.4.2 meeting minutes</code>.",
    },
    # --- chat: several tasks in one message, asking which task, assigning -----------------
    "task.line_numbered": {
        "vi": "{number}. <b>{code}</b> {title} — {progress}% — {countdown}",
        "en": "{number}. <b>{code}</b> {title} — {progress}% — {countdown}",
    },
    "tasks.none_assigned": {
        "vi": "Chưa có việc nào được giao riêng cho {you}. Khi tổ trưởng giao việc, hệ thống sẽ "
        "báo ngay.",
        "en": "No task has been assigned to you yet. You will be told as soon as one is.",
    },
    "update.recorded_several": {
        "vi": "Đã ghi nhận {count} cập nhật:",
        "en": "Recorded {count} updates:",
        "en_one": "Recorded 1 update:",
    },
    "update.recorded_line": {
        "vi": "{number}. <b>{code}</b>: ",
        "en": "{number}. <b>{code}</b>: ",
    },
    "update.out_of_range": {
        "vi": "Tiến độ của <b>{code}</b> tính từ 0 đến 100%, không thể là {percent}%. "
        "Xin {you} gõ lại, ví dụ: <code>{code} 80%</code>.",
        "en": "Progress of <b>{code}</b> goes from 0 to 100%, it cannot be {percent}%. "
        "Please type it again, e.g. <code>{code} 80%</code>.",
    },
    "update.evidence_entry": {"vi": "minh chứng", "en": "evidence"},
    "button.undo_task": {"vi": "↩️ Hoàn tác {code}", "en": "↩️ Undo {code}"},
    "button.note_only": {"vi": "📝 Chỉ ghi chú", "en": "📝 Just a note"},
    "reply.which_task": {
        "vi": '{You} báo "{text}" cho việc nào? Xin chọn một việc dưới đây, hoặc gõ kèm mã, '
        "ví dụ <code>III.1.4 xong</code>.",
        "en": 'Which task is "{text}" about? Pick one below, or type it with the code, '
        "e.g. <code>III.1.4 done</code>.",
    },
    "reply.no_such_line": {
        "vi": "Danh sách gần nhất chỉ có {count} dòng (1–{count}), không có dòng {number}. "
        '{You} báo "{text}" cho việc nào? Xin chọn một việc dưới đây, hoặc gõ kèm mã, '
        "ví dụ <code>III.1.4 xong</code>.",
        "en": "The latest list has only {count} lines (1–{count}), there is no line {number}. "
        'Which task is "{text}" about? Pick one below, or type it with the code, '
        "e.g. <code>III.1.4 done</code>.",
        "en_one": "The latest list has only 1 line, there is no line {number}. "
        'Which task is "{text}" about? Pick one below, or type it with the code, '
        "e.g. <code>III.1.4 done</code>.",
    },
    "update.note_on_done": {
        "vi": "Việc đã hoàn thành từ trước; trạng thái giữ nguyên, lời nhắn được lưu làm ghi chú.",
        "en": "The task was already done; its state stays, the words are kept as a note.",
    },
    "reply.which_done": {
        "vi": "{You} báo hoàn thành việc nào? Xin chọn một việc dưới đây, hoặc gõ "
        "<code>/xong mã</code>.",
        "en": "Which task is done? Pick one below, or type <code>/done code</code>.",
    },
    "reply.which_blocked": {
        "vi": "Việc nào đang gặp vướng mắc? Xin {you} chọn một việc dưới đây, hoặc gõ "
        "<code>/vuong mã lý do</code>.",
        "en": "Which task is blocked? Pick one below, or type <code>/blocked code reason</code>.",
    },
    "evidence.which": {
        "vi": "Ảnh/tệp này là minh chứng cho việc nào? Xin {you} chọn một việc dưới đây.",
        "en": "Which task is this photo/file evidence for? Pick one below.",
    },
    "usage.assign": {
        "vi": "Cách giao việc: /giao <i>mã</i> [họ tên], ví dụ: /giao III.3.4 Phạm Thu Hà — "
        "không ghi tên thì hệ thống đưa danh sách để chọn.",
        "en": "To assign: /assign <i>code</i> [name], e.g. /assign III.3.4 Phạm Thu Hà — "
        "without a name you get the list to choose from.",
    },
    "deny.assign": {
        "vi": "Chỉ tổ trưởng của tổ phụ trách hoặc ban giám hiệu giao được nhiệm vụ {code}.",
        "en": "Only the head of the unit in charge or the school's leaders can assign {code}.",
    },
    "assign.nobody": {
        "vi": 'Không có ai tên "{who}" trong tổ phụ trách {code} hoặc ban giám hiệu.',
        "en": 'Nobody called "{who}" in the unit in charge of {code} or the leadership.',
    },
    "assign.choose": {
        "vi": "Giao <b>{code}</b> — {title} cho ai? Xin {you} chọn một người:",
        "en": "Assign <b>{code}</b> — {title} to whom? Pick one:",
    },
    "assign.current": {"vi": "Đang giao cho: {names}", "en": "Assigned to: {names}"},
    "assign.everyone": {
        "vi": "Mọi thành viên của tổ đều đã được giao việc này.",
        "en": "Everyone in the unit already has this task.",
    },
    "assign.done": {
        "vi": "Đã giao <b>{code}</b> — {title} cho {name}; hệ thống sẽ báo cho người được giao.",
        "en": "Assigned <b>{code}</b> — {title} to {name}; they will be told.",
    },
    "assign.already": {
        "vi": "{name} đã được giao <b>{code}</b> từ trước.",
        "en": "{name} already has <b>{code}</b>.",
    },
    "assigned.one": {
        "vi": "📋 <b>{You} được giao nhiệm vụ</b>",
        "en": "📋 <b>A task was assigned to you</b>",
    },
    "assigned.several": {
        "vi": "📋 <b>{You} được giao {count} nhiệm vụ</b>:",
        "en": "📋 <b>{count} tasks were assigned to you</b>:",
        "en_one": "📋 <b>1 task was assigned to you</b>:",
    },
    "checkin.reported": {"vi": "• <b>{code}</b>: {what}", "en": "• <b>{code}</b>: {what}"},
    # --- reminders ---------------------------------------------------------------------------
    "reminder.before_7d": {"vi": "⏰ <b>Nhắc việc sắp đến hạn</b>", "en": "⏰ <b>Coming up</b>"},
    "reminder.before_1d": {"vi": "⏰ <b>Ngày mai đến hạn</b>", "en": "⏰ <b>Due tomorrow</b>"},
    "reminder.due_day": {"vi": "📌 <b>Hôm nay đến hạn</b>", "en": "📌 <b>Due today</b>"},
    "reminder.overdue": {"vi": "⚠️ <b>Việc đã quá hạn</b>", "en": "⚠️ <b>Overdue</b>"},
    "reminder.several": {
        "vi": "⏰ <b>Nhắc việc</b>: {count} việc cần {you} chú ý",
        "en": "⏰ <b>Reminder</b>: {count} tasks need your attention",
        "en_one": "⏰ <b>Reminder</b>: 1 task needs your attention",
    },
    "reminder.missed": {
        "vi": "<i>Gộp {count} lời nhắc bị lỡ khi bot tạm dừng:</i>",
        "en": "<i>{count} reminders missed while the bot was down, in one:</i>",
        "en_one": "<i>1 reminder missed while the bot was down:</i>",
    },
    "reminder.missed_one": {
        "vi": "<i>(lời nhắc này bị lỡ khi bot tạm dừng)</i>",
        "en": "<i>(this reminder was missed while the bot was down)</i>",
    },
    "reminder.several_footer": {
        "vi": "Trả lời theo số thứ tự, ví dụ <code>1 xong, 2 50%</code>, hoặc ghi mã: "
        "<code>III.1.4 xong</code>. Nút ✅ khi xong, 📈 cập nhật tiến độ, ⏰ nhắc lại sau.",
        "en": "Answer by number, e.g. <code>1 done, 2 50%</code>, or with the code: "
        "<code>III.1.4 done</code>. Buttons: ✅ done, 📈 progress, ⏰ remind me later.",
    },
    # --- a leader's brief: what is new since the previous one (/tomtat) ----------------------
    "brief.header": {
        "vi": "📋 <b>Tóm tắt cho {you}</b> — điểm mới từ {since}:",
        "en": "📋 <b>Your brief</b> — what is new since {since}:",
    },
    "brief.blocked_note": {
        "vi": "{number}. ⛔ <b>{code}</b> {title} — {unit}: vướng “{note}” ({who})",
        "en": "{number}. ⛔ <b>{code}</b> {title} — {unit}: blocked, “{note}” ({who})",
    },
    "brief.blocked": {
        "vi": "{number}. ⛔ <b>{code}</b> {title} — {unit}: báo vướng ({who})",
        "en": "{number}. ⛔ <b>{code}</b> {title} — {unit}: reported blocked ({who})",
    },
    "brief.overdue": {
        "vi": "{number}. ⚠️ <b>{code}</b> {title} — {unit} — {when}",
        "en": "{number}. ⚠️ <b>{code}</b> {title} — {unit} — {when}",
    },
    "brief.due": {
        "vi": "{number}. 📌 <b>{code}</b> {title} — {unit} — {when}",
        "en": "{number}. 📌 <b>{code}</b> {title} — {unit} — {when}",
    },
    "brief.more": {
        "vi": "… và {count} điểm mới khác — xem /baocao.",
        "en": "… and {count} more new items — see /report.",
        "en_one": "… and 1 more new item — see /report.",
    },
    "brief.silent": {
        "vi": "🔇 Chưa báo cáo {days} ngày nay: {units}.",
        "en": "🔇 No report for {days} days: {units}.",
        "en_one": "🔇 No report for 1 day: {units}.",
    },
    "brief.arrived_overdue": {
        "vi": "Kế hoạch mới nhập có {count} việc đã quá hạn từ trước — xem /baocao.",
        "en": "The newly imported plan has {count} tasks overdue already — see /report.",
        "en_one": "The newly imported plan has 1 task overdue already — see /report.",
    },
    "brief.other_overdue": {
        "vi": "Còn {count} việc quá hạn khác — xem /baocao.",
        "en": "{count} other overdue tasks — see /report.",
        "en_one": "1 other overdue task — see /report.",
    },
    "brief.answer": {
        "vi": "Trả lời theo số, ví dụ <code>1 xong</code> hoặc <code>2 50%</code>.",
        "en": "Answer by number, e.g. <code>1 done</code> or <code>2 50%</code>.",
    },
    "brief.footer": {
        "vi": "Đổi lịch nhận tóm tắt: /tomtat.",
        "en": "How often it comes: /brief.",
    },
    "tomtat.menu": {
        "vi": "Tóm tắt điểm mới (ban giám hiệu)",
        "en": "Brief of what is new (leaders)",
    },
    "tomtat.current": {
        "vi": "📋 <b>Bản tóm tắt</b> — {you} đang chọn: <b>{choice}</b>.\n"
        "Bản tóm tắt chỉ gửi khi có điểm mới: việc mới quá hạn, vướng mắc mới, tổ/bộ phận "
        "14 ngày chưa báo cáo, việc {you} trực tiếp theo dõi sắp đến hạn.\n"
        "Xin {you} chọn bên dưới, hoặc gõ <code>/tomtat hang ngay</code>, "
        "<code>/tomtat hang tuan</code>, <code>/tomtat tat</code>.",
        "en": "📋 <b>Brief</b> — your choice: <b>{choice}</b>.\n"
        "A brief comes only when something is new: tasks newly overdue, new blockers, units "
        "silent for 14 days, your own tasks coming due.\n"
        "Choose below, or type <code>/brief daily</code>, <code>/brief weekly</code>, "
        "<code>/brief off</code>.",
    },
    "tomtat.choice.daily": {
        "vi": "hằng ngày (sáng mỗi ngày làm việc)",
        "en": "daily (each working morning)",
    },
    "tomtat.choice.weekly": {
        "vi": "hằng tuần (sáng ngày làm việc đầu tuần)",
        "en": "weekly (the first working morning of the week)",
    },
    "tomtat.choice.off": {"vi": "tắt", "en": "off"},
    "tomtat.button.daily": {"vi": "Hằng ngày", "en": "Daily"},
    "tomtat.button.weekly": {"vi": "Hằng tuần", "en": "Weekly"},
    "tomtat.button.off": {"vi": "Tắt", "en": "Off"},
    "tomtat.saved": {"vi": "Đã ghi: {choice}", "en": "Saved: {choice}"},
    "tomtat.set.daily": {
        "vi": "Đã ghi: {you} nhận bản tóm tắt hằng ngày, vào sáng mỗi ngày làm việc khi có "
        "điểm mới.",
        "en": "Switched to a daily brief: each working morning when something is new.",
    },
    "tomtat.set.weekly": {
        "vi": "Đã ghi: {you} nhận bản tóm tắt hằng tuần, vào sáng ngày làm việc đầu tuần, "
        "gộp các điểm mới của cả tuần.",
        "en": "Switched to a weekly brief: the first working morning of the week, covering the "
        "week.",
    },
    "tomtat.set.off": {
        "vi": "Đã ghi: tắt bản tóm tắt. Báo cáo tuần vẫn gửi {you} như thường lệ; gõ "
        "<code>/tomtat hang ngay</code> để bật lại.",
        "en": "Switched the brief off. The weekly report still comes; type "
        "<code>/brief daily</code> to turn it back on.",
    },
    "tomtat.usage": {
        "vi": "Chưa rõ lựa chọn “{value}”. Xin {you} gõ <code>/tomtat hang ngay</code>, "
        "<code>/tomtat hang tuan</code> hoặc <code>/tomtat tat</code> (có dấu hay không dấu "
        "đều được); gõ /tomtat để xem lựa chọn hiện tại.",
        "en": "“{value}” is not a choice. Type <code>/brief daily</code>, "
        "<code>/brief weekly</code> or <code>/brief off</code>; /brief shows your current choice.",
    },
    "tomtat.deny": {
        "vi": "Bản tóm tắt dành cho Ban giám hiệu. {You} vẫn nhận nhắc việc như thường; gõ /viec "
        "để xem các việc {you} phụ trách.",
        "en": "The brief is for the school's leaders. Your own reminders come as usual; type "
        "/tasks to see your tasks.",
    },
    "tomtat.deny_short": {"vi": "Chỉ dành cho Ban giám hiệu.", "en": "For leaders only."},
    "checkin.header": {
        "vi": "📝 Tuần này <b>{unit}</b> còn {count} việc đang mở chưa có báo cáo tiến độ.",
        "en": "📝 <b>{unit}</b>: {count} open tasks have no progress report this week.",
        "en_one": "📝 <b>{unit}</b>: 1 open task has no progress report this week.",
    },
    "checkin.footer": {
        "vi": "Xin {you} trả lời tin này theo số thứ tự, ví dụ <code>1 80%, 2 xong</code>; "
        'một dòng "80%" hay "xong" là đủ.',
        "en": "Answer this message by number, e.g. <code>1 80%, 2 done</code>; "
        'a line such as "80%" or "done" is enough.',
    },
    "preview.none": {
        "vi": "Không có nhắc việc nào đến hạn gửi vào lúc đó.",
        "en": "No reminder is due at that moment.",
    },
    "preview.member": {"vi": "── Gửi {name} ({channels}) ──", "en": "── To {name} ({channels}) ──"},
    "preview.kept_answer": {
        "vi": "── Câu trả lời chờ gửi lại tới chat {chat} ──",
        "en": "── An answer waiting to be sent again to chat {chat} ──",
    },
    "preview.group": {"vi": "── Gửi nhóm {title} ──", "en": "── To group {title} ──"},
    "preview.not_linked": {"vi": "chưa liên kết", "en": "not linked"},
    "preview.header": {
        "vi": "Nhắc việc sẽ gửi lúc {at} (chạy thử: không gửi, không ghi gì):",
        "en": "Reminders due at {at} (dry run: nothing sent or recorded):",
    },
    "cli.reminders": {
        "vi": "Xem trước các nhắc việc sẽ gửi vào một thời điểm (chạy thử, không ghi gì).",
        "en": "Preview the reminders due at a moment (dry run, nothing recorded).",
    },
    "cli.reminders.at": {
        "vi": "Thời điểm, ví dụ 2026-12-01T08:00 (giờ của trường); mặc định là bây giờ.",
        "en": "The moment, e.g. 2026-12-01T08:00 (school time); default now.",
    },
    "cli.digest": {
        "vi": "In báo cáo tuần của trường và ghi tệp Excel, biểu đồ tiến độ.",
        "en": "Print the school's weekly digest and write its workbook and chart.",
    },
    "cli.digest.week": {
        "vi": "Tuần ISO, ví dụ 2026-W49; mặc định là từ báo cáo trước đến bây giờ.",
        "en": "ISO week, e.g. 2026-W49; default: from the last digest until now.",
    },
    "cli.digest.out": {
        "vi": "Thư mục ghi tệp Excel và biểu đồ (mặc định REPORTS_DIR/<trường>/<tuần>).",
        "en": "Folder for the workbook and chart (default REPORTS_DIR/<school>/<week>).",
    },
    "cli.bad_week": {
        "vi": "Tuần '{value}' không có; hãy ghi dạng 2026-W49 (năm 2026 có 53 tuần, năm 2027 "
        "có 52 tuần).",
        "en": "There is no week '{value}'; write it as 2026-W49 (2026 has 53 weeks, 2027 has 52).",
    },
    "cli.future_week": {
        "vi": "Tuần {week} ({dates}) chưa bắt đầu nên chưa có báo cáo.",
        "en": "Week {week} ({dates}) has not begun, so there is no report yet.",
    },
    "digest.files": {"vi": "Đã ghi tệp: {files}", "en": "Files written: {files}"},
    "cli.bad_moment": {
        "vi": "Thời điểm '{value}' không hợp lệ; hãy ghi dạng 2026-12-01T08:00.",
        "en": "'{value}' is not a valid moment; write it as 2026-12-01T08:00.",
    },
    # --- chat: KPIs --------------------------------------------------------------------------
    "kpi.header": {"vi": "<b>Chỉ số so với mục tiêu</b>", "en": "<b>KPIs against target</b>"},
    "kpi.line": {
        "vi": "• {name} [<code>{key}</code>] — mục tiêu {year}: {target}; mới nhất {value} ({date}) — <b>{status}</b>",
        "en": "• {name} [<code>{key}</code>] — {year} target: {target}; latest {value} ({date}) — <b>{status}</b>",
    },
    "kpi.line_no_data": {
        "vi": "• {name} [<code>{key}</code>] — mục tiêu {year}: {target}; <i>chưa có số liệu</i>",
        "en": "• {name} [<code>{key}</code>] — {year} target: {target}; <i>no data yet</i>",
    },
    "kpi.footer": {
        "vi": "Ghi số liệu: /chiso <i>mã</i> <i>giá trị</i>, ví dụ /chiso dropout 0,4 hoặc /chiso dropout 3/620",
        "en": "Record: /kpi <i>key</i> <i>value</i>, e.g. /kpi dropout 0.4 or /kpi dropout 3/620",
    },
    "kpi.none": {"vi": "Trường chưa có chỉ số nào.", "en": "The school has no KPIs yet."},
    "kpi.unknown": {
        "vi": "Không có chỉ số <b>{key}</b>. Các mã chỉ số: {keys}.",
        "en": "There is no KPI <b>{key}</b>. KPI keys: {keys}.",
    },
    "kpi.bad_value": {
        "vi": 'Giá trị "{value}" không hợp lệ. {You} vui lòng ghi một số (dấu phẩy thập phân được), '
        "ví dụ /chiso {key_name} 0,4 — hoặc số đếm, ví dụ /chiso {key_name} 3/620.",
        "en": '"{value}" is not a valid value. Write a number, e.g. /kpi {key_name} 0.4 — or a '
        "count, e.g. /kpi {key_name} 3/620.",
    },
    "kpi.bad_yes_no": {
        "vi": "Chỉ số {key_name} chỉ nhận có hoặc không, ví dụ: /chiso {key_name} có ({you} đã gõ "
        '"{value}").',
        "en": 'KPI {key_name} takes yes or no, e.g. /kpi {key_name} yes (you typed "{value}").',
    },
    "kpi.recorded": {
        "vi": "Đã ghi {name}: <b>{value}</b>",
        "en": "Recorded {name}: <b>{value}</b>",
    },
    "kpi.target": {
        "vi": "Mục tiêu {year}: {target} — <b>{status}</b>",
        "en": "{year} target: {target} — <b>{status}</b>",
    },
    "kpi.detail": {
        "vi": "<b>{name}</b> [<code>{key}</code>]",
        "en": "<b>{name}</b> [<code>{key}</code>]",
    },
    "kpi.history_line": {"vi": "• {date}: {value}", "en": "• {date}: {value}"},
    "kpi.yes": {"vi": "có", "en": "yes"},
    "kpi.no": {"vi": "không", "en": "no"},
    "kpi.status.met": {"vi": "đạt", "en": "met"},
    "kpi.status.not_met": {"vi": "chưa đạt", "en": "not met"},
    "kpi.status.no_data": {"vi": "chưa có số liệu", "en": "no data"},
    "kpi.forecast.met": {
        "vi": "Dự báo đến {date}: <b>{value}</b> — đạt mục tiêu {target}",
        "en": "Forecast for {date}: <b>{value}</b> — on track for the target ({target})",
    },
    "kpi.forecast.at_risk": {
        "vi": "Dự báo đến {date}: <b>{value}</b> — có nguy cơ không đạt mục tiêu {target}",
        "en": "Forecast for {date}: <b>{value}</b> — at risk of missing the target ({target})",
    },
    # --- KPI warnings (to the principal) -----------------------------------------------------
    "kpi_risk.one": {
        "vi": "⚠️ <b>Chỉ số có nguy cơ không đạt mục tiêu</b>",
        "en": "⚠️ <b>A KPI is at risk of missing its target</b>",
    },
    "kpi_risk.several": {
        "vi": "⚠️ <b>{count} chỉ số có nguy cơ không đạt mục tiêu</b>",
        "en": "⚠️ <b>{count} KPIs are at risk of missing their target</b>",
        "en_one": "⚠️ <b>1 KPI is at risk of missing its target</b>",
    },
    "kpi_risk.line": {
        "vi": "• <b>{name}</b> [<code>{key}</code>]: mới nhất {value} ({date}); dự báo đến "
        "{target_date}: <b>{projected}</b> — có nguy cơ không đạt mục tiêu {target}.",
        "en": "• <b>{name}</b> [<code>{key}</code>]: latest {value} ({date}); forecast for "
        "{target_date}: <b>{projected}</b> — at risk of missing the target ({target}).",
    },
    "kpi_risk.footer": {
        "vi": "Xin {you} xem các lần ghi bằng /chiso <i>mã</i> để có biện pháp kịp thời.",
        "en": "Type /kpi <i>key</i> to see the values recorded so far.",
    },
    # --- chat: groups ------------------------------------------------------------------------
    "group.only_in_group": {
        "vi": "Lệnh /lienket dùng trong nhóm: xin {you} thêm bot vào nhóm của tổ rồi gõ /lienket ở đó.",
        "en": "Use /link inside a group: add the bot to your unit's group and type /link there.",
    },
    "group.not_head": {
        "vi": "Chỉ tổ trưởng/trưởng bộ phận hoặc ban giám hiệu liên kết được nhóm với tổ.",
        "en": "Only a unit head or the principal can link a group to a unit.",
    },
    "group.choose_unit": {
        "vi": "{You} phụ trách nhiều tổ/bộ phận; xin gõ /lienket <i>mã tổ</i>, một trong: {codes}.",
        "en": "You head several units; type /link <i>unit code</i>, one of: {codes}.",
    },
    "group.unknown_unit": {
        "vi": "Không có tổ/bộ phận {code} mà {you} phụ trách; xin chọn một trong: {codes}.",
        "en": "You do not head a unit {code}; choose one of: {codes}.",
    },
    "group.other_school": {
        "vi": "Nhóm này đã được liên kết với một tổ của trường khác; xin {you} dùng một nhóm riêng "
        "cho tổ.",
        "en": "This group is already linked to a unit of another school; use a group of your own.",
    },
    "group.linked": {
        "vi": "Đã liên kết nhóm này với <b>{unit}</b>. Các lệnh dùng được ngay trong nhóm; câu trả lời "
        "được ghi cho người gửi.",
        "en": "This group is now linked to <b>{unit}</b>. Commands work here; replies are recorded "
        "for whoever sends them.",
    },
    # --- the education office: what its people can do, the weekly roll-up of its schools ----
    "office.help": {
        "vi": "<b>Dành cho Phòng GD&ĐT</b>\n"
        "{You} theo dõi các trường đã đưa {you} vào danh sách nhân sự của trường; {you} không "
        "có nhiệm vụ ở trường nào nên không nhận nhắc việc.\n"
        "/baocao — bản tổng hợp các trường ngay bây giờ (mỗi tuần bot cũng tự gửi vào giờ gửi "
        "báo cáo tuần), kèm tệp Excel\n"
        "/kenh — nhận bản tổng hợp qua Telegram hay Zalo; liên kết thêm kênh\n"
        "/ngonngu en — English",
        "en": "<b>For the education office</b>\n"
        "You follow the schools that list you in their people file; you have no task in any "
        "school, so you get no reminders.\n"
        "/report — the roll-up of your schools now (the bot also sends it every week at the "
        "digest time), with a workbook\n"
        "/channel — get the roll-up on Telegram or Zalo; link another channel\n"
        "/language vi — tiếng Việt",
    },
    "office.only": {
        "vi": "{You} là người của Phòng GD&ĐT nên không có nhiệm vụ ở trường nào để xem hay cập "
        "nhật. Mỗi tuần bot gửi {you} bản tổng hợp các trường; {you} gõ /baocao để xem ngay, "
        "hoặc /huongdan để xem các lệnh dành cho {you}.",
        "en": "As a person of the education office you have no task in any school to see or "
        "update. The bot sends you the roll-up of your schools every week; type /report to "
        "see it now, or /help for what you can do.",
    },
    "rollup.private_only": {
        "vi": "Bản tổng hợp có số liệu của các trường nên chỉ gửi trong tin nhắn riêng. {You} "
        "vui lòng nhắn riêng /baocao cho bot.",
        "en": "The roll-up covers your schools' figures, so it is only sent in a private chat. "
        "Send /report to the bot directly.",
    },
    "rollup.file.workbook": {
        "vi": "tong-hop-cac-truong-{week}.xlsx",
        "en": "schools-roll-up-{week}.xlsx",
    },
    "rollup.file_kept": {
        "vi": "📎 Kênh này không gửi được tệp: tệp Excel tổng hợp các trường ({workbook}) đã lưu "
        "trên máy chủ. {You} nhận được tệp trên Telegram khi liên kết thêm Telegram và chọn "
        "nhận ở đó (/kenh).",
        "en": "📎 This channel cannot send files: the roll-up workbook ({workbook}) is kept on "
        "the server. Link Telegram as well and choose it with /channel to receive it.",
    },
    "rollup.title": {
        "vi": "🏫 <b>Tổng hợp tuần {dates}</b> — {count} trường",
        "en": "🏫 <b>Week {dates}</b> — roll-up of {count} schools",
        "en_one": "🏫 <b>Week {dates}</b> — roll-up of 1 school",
    },
    "rollup.as_of": {
        "vi": "Số liệu đến {end}. Trường cần quan tâm trước: {count}/{schools}.",
        "en": "Figures as of {end}. Schools needing attention first: {count} of {schools}.",
    },
    "rollup.no_school": {
        "vi": "Chưa có trường nào đưa {you} vào danh sách nhân sự với vai trò Phòng GD&ĐT.",
        "en": "No school lists you in its people file as the education office yet.",
    },
    "rollup.line": {
        "vi": "{number}. <b>{school}</b>: tiến độ {progress} · xong {done}/{tasks} việc · "
        "{overdue} việc quá hạn",
        "en": "{number}. <b>{school}</b>: progress {progress} · done {done}/{tasks} · "
        "overdue: {overdue}",
    },
    "rollup.line.long_overdue": {
        "vi": "⏳ {count} việc quá hạn hơn {days} ngày",
        "en": "⏳ {count} tasks past the {days}-day limit",
        "en_one": "⏳ 1 task past the {days}-day limit",
    },
    "rollup.line.silent": {
        "vi": "🔕 {count} tổ/bộ phận lâu không báo cáo",
        "en": "🔕 {count} units silent for two weeks",
        "en_one": "🔕 1 unit silent for two weeks",
    },
    "rollup.line.kpis": {
        "vi": "📉 {count} chỉ số có nguy cơ không đạt",
        "en": "📉 {count} KPIs at risk",
        "en_one": "📉 1 KPI at risk",
    },
    "rollup.line.fine": {"vi": "✅ không có điểm cần lưu ý", "en": "✅ nothing to flag"},
    "rollup.order": {
        "vi": "<i>Thứ tự: trường có nhiều điểm cần lưu ý (chỉ số có nguy cơ, tổ quá hạn lâu, tổ "
        "lâu không báo cáo) trước, rồi trường có nhiều việc quá hạn hơn, rồi tiến độ thấp hơn.</i>",
        "en": "<i>Order: schools with the most points to flag (KPIs at risk, units long overdue, "
        "silent units) first, then the most overdue tasks, then the lowest progress.</i>",
    },
    "rollup.attached": {
        "vi": "📎 Tệp Excel kèm theo: mỗi trường một dòng, và danh sách việc quá hạn của từng trường.",
        "en": "📎 The attached workbook: a row per school, and each school's overdue tasks.",
    },
    "rollup.kept": {
        "vi": "Tệp Excel có mỗi trường một dòng và danh sách việc quá hạn của từng trường.",
        "en": "The workbook has a row per school and each school's overdue tasks.",
    },
    "rollup.files": {"vi": "Tệp Excel tổng hợp: {path}", "en": "Roll-up workbook: {path}"},
    "cli.digest.all_schools": {
        "vi": "Tổng hợp mọi trường của hệ thống (như bản gửi Phòng GD&ĐT): in ra và ghi tệp Excel.",
        "en": "Roll up every school of the deployment (as the education office gets it): print "
        "it and write the workbook.",
    },
    "cli.digest.all_and_school": {
        "vi": "Dùng --all-schools hoặc --school, không dùng cả hai.",
        "en": "Use --all-schools or --school, not both.",
    },
    "xlsx.rollup.sheet.schools": {"vi": "Các trường", "en": "Schools"},
    "xlsx.rollup.sheet.overdue": {"vi": "Quá hạn {code}", "en": "Overdue {code}"},
    "xlsx.rollup.schools.rank": {"vi": "Thứ tự", "en": "Rank"},
    "xlsx.rollup.schools.code": {"vi": "Mã trường", "en": "School code"},
    "xlsx.rollup.schools.name": {"vi": "Trường", "en": "School"},
    "xlsx.rollup.schools.progress": {"vi": "Tiến độ (%)", "en": "Progress (%)"},
    "xlsx.rollup.schools.done": {"vi": "Đã xong", "en": "Done"},
    "xlsx.rollup.schools.tasks": {"vi": "Số việc", "en": "Tasks"},
    "xlsx.rollup.schools.overdue": {"vi": "Quá hạn", "en": "Overdue"},
    "xlsx.rollup.schools.long_overdue": {"vi": "Quá hạn lâu", "en": "Long overdue"},
    "xlsx.rollup.schools.silent": {"vi": "Tổ lâu không báo cáo", "en": "Silent units"},
    "xlsx.rollup.schools.silent_units": {"vi": "Tên các tổ", "en": "Which units"},
    "xlsx.rollup.schools.kpis": {"vi": "Chỉ số có nguy cơ", "en": "KPIs at risk"},
    "xlsx.rollup.schools.kpi_names": {"vi": "Tên các chỉ số", "en": "Which KPIs"},
    "xlsx.rollup.schools.updates": {"vi": "Lượt báo cáo", "en": "Reports"},
    "xlsx.rollup.schools.as_of": {"vi": "Số liệu đến", "en": "As of"},
    "xlsx.rollup.overdue.code": {"vi": "Mã", "en": "Code"},
    "xlsx.rollup.overdue.title": {"vi": "Nhiệm vụ", "en": "Task"},
    "xlsx.rollup.overdue.unit": {"vi": "Tổ/bộ phận", "en": "Unit"},
    "xlsx.rollup.overdue.assignee": {"vi": "Người thực hiện", "en": "Assigned to"},
    "xlsx.rollup.overdue.due": {"vi": "Hạn", "en": "Due"},
    "xlsx.rollup.overdue.days": {"vi": "Số ngày quá hạn", "en": "Days overdue"},
    "xlsx.rollup.overdue.progress": {"vi": "Tiến độ (%)", "en": "Progress (%)"},
    "xlsx.rollup.overdue.last_report": {"vi": "Báo cáo gần nhất", "en": "Last report"},
    # --- the weekly digest and /baocao: the chat message, the workbook, the chart ---------
    # --- the command -------------------------------------------------------------------------
    "menu.report": {"vi": "Báo cáo tổng hợp (ban giám hiệu)", "en": "School report (leaders)"},
    "report.deny": {
        "vi": "Chỉ hiệu trưởng và phó hiệu trưởng xem được báo cáo tổng hợp, vì báo cáo có số "
        "liệu của mọi tổ/bộ phận. Xin {you} gõ /viec để xem việc cá nhân và của tổ.",
        "en": "Only the principal and vice principals can see the school report, because it "
        "covers every unit's data. Type /tasks to see your and your unit's tasks.",
    },
    "report.private_only": {
        "vi": "Báo cáo tổng hợp có số liệu của mọi tổ/bộ phận nên chỉ gửi trong tin nhắn riêng. "
        "{You} vui lòng nhắn riêng /baocao cho bot.",
        "en": "The school report covers every unit's data, so it is only sent in a private "
        "chat. Send /report to the bot directly.",
    },
    "report.file.workbook": {"vi": "bao-cao-tuan-{week}.xlsx", "en": "weekly-report-{week}.xlsx"},
    "report.file.chart": {"vi": "tien-do-{week}.png", "en": "progress-{week}.png"},
    # --- the official periodic report (.docx, Decree 30/2020/NĐ-CP): /baocao thang|quy ------
    "report.file.official": {"vi": "bao-cao-{period}.docx", "en": "report-{period}.docx"},
    "official.bad_args": {
        "vi": "Báo cáo định kỳ: gõ /baocao thang (tháng này) hoặc /baocao quy (quý này); "
        "/baocao thang 11 hoặc /baocao quy 3 cho một tháng, quý đã qua. Gõ /baocao để xem "
        "báo cáo tuần.",
        "en": "Periodic report: type /report month (this month) or /report quarter (this "
        "quarter); /report month 11 or /report quarter 3 for a past month or quarter. Type "
        "/report for the weekly digest.",
    },
    "official.period.month": {"vi": "tháng {month} năm {year}", "en": "{month}/{year}"},
    "official.period.quarter": {"vi": "quý {roman} năm {year}", "en": "Q{roman} {year}"},
    "official.motto.nation": {
        "vi": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "en": "SOCIALIST REPUBLIC OF VIETNAM",
    },
    "official.motto.words": {
        "vi": "Độc lập - Tự do - Hạnh phúc",
        "en": "Independence - Freedom - Happiness",
    },
    "official.number": {"vi": "Số:       /BC-{issuer}", "en": "No.:       /BC-{issuer}"},
    "official.place_date": {
        "vi": "{place}, ngày {day} tháng {month} năm {year}",
        "en": "{place}, {day}/{month}/{year}",
    },
    "official.place_unknown": {"vi": "……………", "en": "……………"},
    "official.type": {"vi": "BÁO CÁO", "en": "REPORT"},
    "official.subject": {
        "vi": "Kết quả thực hiện {plan}, {period}",
        "en": "Results of implementing {plan}, {period}",
    },
    "official.subject.no_plan": {"vi": "kế hoạch của nhà trường", "en": "the school's plan"},
    "official.so_far": {
        "vi": "(số liệu tính đến {time} ngày {date})",
        "en": "(figures up to {time} on {date})",
    },
    "official.intro": {
        "vi": "Thực hiện {plan}, {school} báo cáo kết quả thực hiện {period} như sau:",
        "en": "In implementing {plan}, {school} reports its results for {period} as follows:",
    },
    "official.h.general": {"vi": "KHÁI QUÁT CHUNG", "en": "OVERVIEW"},
    "official.h.results": {"vi": "KẾT QUẢ THỰC HIỆN NHIỆM VỤ", "en": "RESULTS BY TASK"},
    "official.h.kpis": {"vi": "KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU", "en": "INDICATORS AND TARGETS"},
    "official.h.notes": {"vi": "Ý KIẾN CỦA CÁC TỔ, BỘ PHẬN", "en": "WHAT THE UNITS REPORTED"},
    "official.h.next": {"vi": "PHƯƠNG HƯỚNG, NHIỆM VỤ KỲ TỚI", "en": "NEXT STEPS"},
    "official.general.tasks": {
        "vi": "Kế hoạch được triển khai đến {units} tổ, bộ phận. Trong kỳ có {followed} nhiệm vụ "
        "được theo dõi theo thời hạn (việc định kỳ tính mỗi lần đến hạn trong kỳ một lượt) và "
        "{ongoing} nhiệm vụ thường xuyên, khi có yêu cầu (không có thời hạn).",
        "en": "The plan involves units: {units}. Tasks followed by deadline in the period (a "
        "recurring task once per occurrence due in it): {followed}; ongoing or on-request tasks "
        "(no deadline): {ongoing}.",
    },
    "official.general.activity": {
        "vi": "Trong kỳ, các tổ, bộ phận đã gửi {updates} lượt báo cáo tiến độ; {done} nhiệm vụ "
        "(lượt) hoàn thành trong kỳ; tỷ lệ hoàn thành chung {rate}.",
        "en": "Progress reports sent by the units in the period: {updates}; tasks (occurrences) "
        "done in the period: {done}; overall completion rate {rate}.",
    },
    "official.table.number": {"vi": "TT", "en": "No."},
    "official.table.category": {"vi": "Nội dung", "en": "Category"},
    "official.table.count": {"vi": "Số nhiệm vụ", "en": "Tasks"},
    "official.table.share": {"vi": "Tỷ lệ", "en": "Share"},
    "official.table.total": {"vi": "Tổng số theo dõi theo thời hạn", "en": "Followed by deadline"},
    "official.cat.on_time": {"vi": "Đã hoàn thành đúng hạn", "en": "Done on time"},
    "official.cat.late": {"vi": "Đã hoàn thành nhưng quá hạn", "en": "Done late"},
    "official.cat.in_time": {
        "vi": "Chưa hoàn thành, còn trong hạn",
        "en": "Not done, within the deadline",
    },
    "official.cat.overdue": {"vi": "Chưa hoàn thành, đã quá hạn", "en": "Not done, overdue"},
    "official.cat.ongoing": {
        "vi": "Nhiệm vụ thường xuyên, khi có yêu cầu (không có thời hạn, không tính vào các "
        "nhóm trên)",
        "en": "Ongoing and on-request tasks (no deadline, not in the groups above)",
    },
    "official.cat.heading": {
        "vi": "{number}. {name}: {count} nhiệm vụ",
        "en": "{number}. {name}: {count}",
    },
    "official.entry.on_time": {
        "vi": "- {code}: {title} ({unit}; hạn {due}; hoàn thành ngày {done}).",
        "en": "- {code}: {title} ({unit}; due {due}; done on {done}).",
    },
    "official.entry.late": {
        "vi": "- {code}: {title} ({unit}; hạn {due}; hoàn thành ngày {done}, trễ {days} ngày).",
        "en": "- {code}: {title} ({unit}; due {due}; done on {done}, {days} days late).",
        "en_one": "- {code}: {title} ({unit}; due {due}; done on {done}, 1 day late).",
    },
    "official.entry.in_time": {
        "vi": "- {code}: {title} ({unit}; hạn {due}; đã thực hiện {progress}%).",
        "en": "- {code}: {title} ({unit}; due {due}; {progress}% done).",
    },
    "official.entry.overdue": {
        "vi": "- {code}: {title} ({unit}; hạn {due}, quá hạn {days} ngày; đã thực hiện "
        "{progress}%).",
        "en": "- {code}: {title} ({unit}; due {due}, {days} days overdue; {progress}% done).",
        "en_one": "- {code}: {title} ({unit}; due {due}, 1 day overdue; {progress}% done).",
    },
    "official.entry.ongoing": {
        "vi": "- {code}: {title} ({unit}; {rule}; đã thực hiện {progress}%).",
        "en": "- {code}: {title} ({unit}; {rule}; {progress}% done).",
    },
    "official.entry.recurring": {"vi": "{title} ({rule})", "en": "{title} ({rule})"},
    "official.entry.proposed": {"vi": "{date} (hạn đề xuất)", "en": "{date} (proposed)"},
    "official.none": {"vi": "Không có.", "en": "None."},
    "official.kpi.name": {"vi": "Chỉ tiêu", "en": "Indicator"},
    "official.kpi.target": {"vi": "Mục tiêu", "en": "Target"},
    "official.kpi.value": {"vi": "Kết quả đến {date}", "en": "Value as of {date}"},
    "official.kpi.outlook": {"vi": "Đánh giá", "en": "Assessment"},
    "official.kpi.target_year": {"vi": "{target} (năm {year})", "en": "{target} ({year})"},
    "official.kpi.recorded": {"vi": "{value} (ngày {date})", "en": "{value} (on {date})"},
    "official.kpi.no_value": {"vi": "chưa có số liệu", "en": "no data"},
    "official.kpi.none": {
        "vi": "Kế hoạch chưa có chỉ tiêu đo được.",
        "en": "The plan has no measurable indicators yet.",
    },
    "official.note.source": {
        "vi": "- {unit}, nhiệm vụ {code} ({who}, ngày {date}): ",
        "en": "- {unit}, task {code} ({who}, {date}): ",
    },
    "official.note.quote": {"vi": "“{note}”", "en": "“{note}”"},
    "official.note.none": {
        "vi": "Trong kỳ, các tổ, bộ phận không gửi ý kiến kèm báo cáo tiến độ.",
        "en": "The units sent no notes with their progress reports in the period.",
    },
    "official.next.overdue": {
        "vi": "- Tập trung hoàn thành ngay {count} nhiệm vụ đã quá hạn: {codes}.",
        "en": "- Finish the {count} overdue tasks first: {codes}.",
        "en_one": "- Finish the overdue task first: {codes}.",
    },
    "official.next.due": {
        "vi": "- Hoàn thành đúng hạn {count} nhiệm vụ đến hạn đến hết ngày {date}: {codes}.",
        "en": "- Complete on time the {count} tasks due by {date}: {codes}.",
        "en_one": "- Complete on time the task due by {date}: {codes}.",
    },
    "official.next.kpis": {
        "vi": "- Có giải pháp cho {count} chỉ tiêu chưa đạt hoặc có nguy cơ không đạt: {names}.",
        "en": "- Act on the {count} indicators not met or at risk: {names}.",
        "en_one": "- Act on the indicator not met or at risk: {names}.",
    },
    "official.next.ongoing": {
        "vi": "- Duy trì các nhiệm vụ thường xuyên; các tổ, bộ phận báo cáo tiến độ kịp thời, "
        "gửi kèm minh chứng.",
        "en": "- Keep up the ongoing tasks; units report progress in time, with evidence.",
    },
    "official.closing": {
        "vi": "Trên đây là báo cáo kết quả thực hiện kế hoạch {period} của {school}./.",
        "en": "This is the report of {school} on implementing the plan, {period}./.",
    },
    "official.recipients": {"vi": "Nơi nhận:", "en": "Recipients:"},
    "official.recipient.parent": {"vi": "- {parent} (b/c);", "en": "- {parent} (for report);"},
    "official.recipient.leaders": {"vi": "- Ban giám hiệu;", "en": "- The school's leaders;"},
    "official.recipient.units": {"vi": "- Các tổ, bộ phận;", "en": "- The units;"},
    "official.recipient.archive": {"vi": "- Lưu: VT.", "en": "- Archive: VT."},
    "official.signer": {"vi": "HIỆU TRƯỞNG", "en": "PRINCIPAL"},
    "official.summary.title": {
        "vi": "📄 <b>Báo cáo {period}</b> — {school}",
        "en": "📄 <b>Report, {period}</b> — {school}",
    },
    "official.summary.as_of": {
        "vi": "Số liệu đến {time} ngày {date}; {followed} nhiệm vụ (lượt) theo dõi theo thời hạn:",
        "en": "Figures up to {time} on {date}; tasks followed by deadline: {followed}:",
    },
    "official.summary.line": {"vi": "• {name}: <b>{number}</b>", "en": "• {name}: <b>{number}</b>"},
    "official.summary.ongoing": {
        "vi": "Thường xuyên, khi có yêu cầu (không có hạn): {number}",
        "en": "Ongoing or on request (no deadline): {number}",
    },
    "official.summary.kpis": {
        "vi": "Chỉ tiêu: đạt {met} · có nguy cơ {at_risk} · chưa đạt {not_met} · chưa có số "
        "liệu {no_data}",
        "en": "Indicators: met {met} · at risk {at_risk} · not met {not_met} · no data {no_data}",
    },
    "official.summary.attached": {
        "vi": "📎 Báo cáo đầy đủ theo thể thức văn bản hành chính: tệp Word đính kèm.",
        "en": "📎 The full report, in the administrative document layout: the Word file attached.",
    },
    "official.summary.kept": {
        "vi": "📎 Kênh này không gửi được tệp: báo cáo đầy đủ ({file}) đã lưu trên máy chủ. "
        "{You} nhận được tệp trên Telegram khi liên kết thêm Telegram và chọn nhận báo cáo ở đó "
        "(/kenh).",
        "en": "📎 This channel cannot send files: the full report ({file}) is kept on the server. "
        "Link Telegram as well and choose it with /kenh to receive it.",
    },
    "cli.report": {
        "vi": "Ghi báo cáo định kỳ (tháng, quý) theo thể thức văn bản hành chính, tệp .docx.",
        "en": "Write the periodic report (month, quarter) as an administrative document, .docx.",
    },
    "cli.report.period": {
        "vi": "Kỳ báo cáo: tháng dạng 2026-12 hoặc quý dạng 2026-Q4; mặc định là tháng này.",
        "en": "The period: a month as 2026-12 or a quarter as 2026-Q4; default this month.",
    },
    "cli.report.out": {
        "vi": "Thư mục ghi tệp (mặc định REPORTS_DIR/<trường>/<kỳ>).",
        "en": "Folder for the file (default REPORTS_DIR/<school>/<period>).",
    },
    "cli.report.parent": {
        "vi": 'Cơ quan chủ quản ghi trên đầu văn bản, ví dụ "UBND XÃ TÂN AN HỘI".',
        "en": 'The parent body at the top of the document, e.g. "UBND XÃ TÂN AN HỘI".',
    },
    "cli.report.place": {
        "vi": 'Địa danh ghi trước ngày tháng, ví dụ "Tân An Hội".',
        "en": 'The place written before the date, e.g. "Tân An Hội".',
    },
    "cli.report.signer": {
        "vi": "Họ tên người ký (mặc định: hiệu trưởng trong danh sách nhân sự).",
        "en": "The signer's name (default: the principal in the people file).",
    },
    "cli.bad_period": {
        "vi": "Kỳ báo cáo '{value}' không đúng; hãy ghi tháng dạng 2026-12 hoặc quý dạng 2026-Q4.",
        "en": "'{value}' is not a period; write a month as 2026-12 or a quarter as 2026-Q4.",
    },
    "cli.future_period": {
        "vi": "Kỳ {period} chưa bắt đầu nên chưa có báo cáo.",
        "en": "The period {period} has not begun, so there is no report yet.",
    },
    # --- the message -------------------------------------------------------------------------
    "digest.title": {
        "vi": "📊 <b>Tuần {dates}</b> — {school}",
        "en": "📊 <b>Week {dates}</b> — {school}",
    },
    "digest.as_of": {
        "vi": "Từ {start} đến {end}: tiến độ chung {progress} · xong {done}/{tasks} việc · "
        "{overdue} việc quá hạn · {updates} lượt báo cáo",
        "en": "Figures from {start} to {end}: overall progress {progress} · tasks done: "
        "{done}/{tasks} · overdue: {overdue} · reports: {updates}",
    },
    "digest.decide.header": {
        "vi": "<b>Cần {you} quyết ({count})</b>",
        "en": "<b>For your decision ({count})</b>",
    },
    "digest.decide.none": {
        "vi": "<b>Cần {you} quyết</b>: tuần này không có việc nào.",
        "en": "<b>For your decision</b>: nothing this week.",
    },
    "digest.decide.blocker": {
        "vi": "• 🚧 <b>{code}</b> gặp vướng mắc từ {since} ({who}): <i>{note}</i>",
        "en": "• 🚧 <b>{code}</b> blocked since {since} ({who}): <i>{note}</i>",
    },
    "digest.decide.blocker_no_note": {
        "vi": "• 🚧 <b>{code}</b> gặp vướng mắc từ {since} ({who}), chưa rõ lý do",
        "en": "• 🚧 <b>{code}</b> blocked since {since} ({who}), no reason given",
    },
    "digest.decide.kpi": {
        "vi": "• 📉 {name}: {value} ({date}), dự báo {projected} vào {target_date} — "
        "có nguy cơ không đạt mục tiêu {target}",
        "en": "• 📉 {name}: {value} ({date}), projected {projected} by {target_date} — "
        "at risk of missing the target of {target}",
    },
    "digest.decide.kpi_yes_no": {
        "vi": "• 📉 {name}: chưa đạt ({date}), hạn {target_date} — có nguy cơ không đạt mục "
        "tiêu {target}",
        "en": "• 📉 {name}: not achieved ({date}), due {target_date} — at risk of missing the "
        "target of {target}",
    },
    "digest.decide.silent": {
        "vi": "• 🔕 {unit} ({heads}) chưa báo cáo từ {since}",
        "en": "• 🔕 {unit} ({heads}) has not reported since {since}",
    },
    "digest.decide.silent_never": {
        "vi": "• 🔕 {unit} ({heads}) chưa báo cáo lần nào từ khi nhận việc ({since})",
        "en": "• 🔕 {unit} ({heads}) has never reported since getting its tasks ({since})",
    },
    "digest.decide.overdue": {
        "vi": "• ⏳ {unit} ({heads}): {count} việc quá hạn hơn {days} ngày, lâu nhất "
        "<b>{code}</b> từ {since}",
        "en": "• ⏳ {unit} ({heads}): {count} tasks overdue past the {days}-day limit, the "
        "oldest <b>{code}</b> since {since}",
        "en_one": "• ⏳ {unit} ({heads}): 1 task overdue past the {days}-day limit, "
        "<b>{code}</b> since {since}",
    },
    "digest.nobody": {"vi": "chưa có tổ trưởng", "en": "no head yet"},
    "digest.unknown_sender": {"vi": "không rõ người báo", "en": "sender unknown"},
    "digest.units.header": {
        "vi": "<b>Tổ/bộ phận</b> (xong/tổng số việc · quá hạn · báo cáo gần nhất)",
        "en": "<b>Units</b> (done/all tasks · overdue · last report)",
    },
    "digest.unit.line": {
        "vi": "• {name}: {done}/{tasks} · {overdue} · {last}",
        "en": "• {name}: {done}/{tasks} · {overdue} · {last}",
    },
    "digest.unit.never": {"vi": "chưa có", "en": "none yet"},
    "digest.units.none": {
        "vi": "Kế hoạch chưa có nhiệm vụ nào.",
        "en": "The plan has no tasks yet.",
    },
    "digest.urgent.header": {
        "vi": "<b>Cần đôn đốc trước</b> ({shown} trong {count} việc quá hạn hoặc sắp đến hạn)",
        "en": "<b>To follow up first</b> ({shown} of {count} tasks overdue or due soon)",
        "en_one": "<b>To follow up first</b> ({shown} of 1 task overdue or due soon)",
    },
    "digest.urgent.none": {
        "vi": "Không có việc quá hạn hay đến hạn trong {days} ngày tới.",
        "en": "Nothing is overdue or due in the next {days} days.",
        "en_one": "Nothing is overdue or due by tomorrow.",
    },
    "digest.urgent.unit": {"vi": "<i>{unit}</i>", "en": "<i>{unit}</i>"},
    "digest.proposed": {"vi": " (hạn đề xuất)", "en": " (proposed date)"},
    "digest.urgent.line": {
        "vi": "• <b>{code}</b> {title} — {countdown}, {progress}%",
        "en": "• <b>{code}</b> {title} — {countdown}, {progress}%",
    },
    "digest.kpis": {
        "vi": "Chỉ số: {met} đạt · {at_risk} có nguy cơ không đạt · {not_met} chưa đạt; "
        "{no_data} chỉ số chưa có số liệu — xem tệp Excel.",
        "en": "KPIs: {met} met · {at_risk} at risk · {not_met} not met; {no_data} without "
        "data — see the Excel file.",
    },
    "digest.kpi.status.met": {"vi": "đạt", "en": "met"},
    "digest.kpi.status.not_met": {"vi": "chưa đạt", "en": "not met"},
    "digest.kpi.status.at_risk": {"vi": "có nguy cơ không đạt", "en": "at risk"},
    "digest.kpi.status.no_data": {"vi": "chưa có số liệu", "en": "no data"},
    "digest.kpis.none": {"vi": "Trường chưa có chỉ số nào.", "en": "The school has no KPIs yet."},
    "digest.unreached.header": {
        "vi": "📭 <b>Chưa nhắc được</b> trong kỳ này:",
        "en": "📭 <b>Not reached</b> in this period:",
    },
    "digest.unreached.no_chat": {
        "vi": "• {count} người chưa kết nối với bot: {names}. Lời nhắc sẽ tới khi họ kết nối "
        "(văn phòng gửi lại mã mời: dondoc invite).",
        "en": "• {count} people have no chat with the bot yet: {names}. Their reminders go out "
        "once they join (the office can send their invitations again: dondoc invite).",
        "en_one": "• 1 person has no chat with the bot yet: {names}. Their reminders go out once "
        "they join (the office can send the invitation again: dondoc invite).",
    },
    "digest.unreached.blocked": {
        "vi": "• {count} người đã chặn bot: {names}. Lời nhắc sẽ tới khi họ nhắn lại cho bot.",
        "en": "• {count} people blocked the bot: {names}. Their reminders go out once they "
        "write to it again.",
        "en_one": "• 1 person blocked the bot: {names}. Their reminders go out once they write "
        "to it again.",
    },
    "digest.unreached.expired": {
        "vi": "• {count} lời nhắc không gửi được trước khi hết hạn (mất kết nối kéo dài).",
        "en": "• {count} reminders could not be sent before they were out of date (a long outage).",
        "en_one": "• 1 reminder could not be sent before it was out of date (a long outage).",
    },
    "digest.unreached.refused": {
        "vi": "• {count} tin nhắn bị Telegram từ chối (chi tiết: dondoc status).",
        "en": "• {count} messages were refused by Telegram (details: dondoc status).",
        "en_one": "• 1 message was refused by Telegram (details: dondoc status).",
    },
    "digest.and_others": {
        "vi": "{names} và {count} người khác",
        "en": "{names} and {count} others",
        "en_one": "{names} and 1 other",
    },
    "digest.attached": {
        "vi": "<i>📎 Kèm bảng tính Excel (đủ mọi việc, báo cáo, chỉ số) và biểu đồ tiến độ.</i>",
        "en": "<i>📎 Attached: an Excel workbook (every task, report and KPI) and a progress "
        "chart.</i>",
    },
    # --- the chart ---------------------------------------------------------------------------
    "digest.chart.title": {
        "vi": "Tiến độ theo tổ/bộ phận — tuần {week}",
        "en": "Progress by unit — week {week}",
    },
    "digest.chart.axis": {"vi": "Tiến độ trung bình (%)", "en": "Average progress (%)"},
    "digest.chart.empty": {"vi": "Chưa có nhiệm vụ nào", "en": "No tasks yet"},
    # --- the workbook ------------------------------------------------------------------------
    "xlsx.digest.sheet.tasks": {"vi": "Nhiệm vụ", "en": "Tasks"},
    "xlsx.digest.sheet.units": {"vi": "Tổ, bộ phận", "en": "Units"},
    "xlsx.digest.sheet.updates": {"vi": "Báo cáo trong kỳ", "en": "Reports in the period"},
    "xlsx.digest.sheet.kpis": {"vi": "Chỉ số", "en": "KPIs"},
    "xlsx.digest.tasks.code": {"vi": "Mã", "en": "Code"},
    "xlsx.digest.tasks.title": {"vi": "Nhiệm vụ", "en": "Task"},
    "xlsx.digest.tasks.unit": {"vi": "Tổ/bộ phận", "en": "Unit"},
    "xlsx.digest.tasks.assignee": {"vi": "Người thực hiện", "en": "Assigned to"},
    "xlsx.digest.tasks.due": {"vi": "Hạn", "en": "Due"},
    "xlsx.digest.tasks.status": {"vi": "Trạng thái", "en": "Status"},
    "xlsx.digest.tasks.timing": {"vi": "So với hạn", "en": "Against the deadline"},
    "xlsx.digest.tasks.progress": {"vi": "Tiến độ (%)", "en": "Progress (%)"},
    "xlsx.digest.tasks.last_report": {"vi": "Báo cáo gần nhất", "en": "Last report"},
    "xlsx.digest.units.name": {"vi": "Tổ/bộ phận", "en": "Unit"},
    "xlsx.digest.units.heads": {"vi": "Tổ trưởng/phụ trách", "en": "Head"},
    "xlsx.digest.units.tasks": {"vi": "Số việc", "en": "Tasks"},
    "xlsx.digest.units.done": {"vi": "Đã xong", "en": "Done"},
    "xlsx.digest.units.overdue": {"vi": "Quá hạn", "en": "Overdue"},
    "xlsx.digest.units.progress": {"vi": "Tiến độ TB (%)", "en": "Average progress (%)"},
    "xlsx.digest.units.last_report": {"vi": "Báo cáo gần nhất", "en": "Last report"},
    "xlsx.digest.updates.time": {"vi": "Thời gian", "en": "Time"},
    "xlsx.digest.updates.code": {"vi": "Mã", "en": "Code"},
    "xlsx.digest.updates.title": {"vi": "Nhiệm vụ", "en": "Task"},
    "xlsx.digest.updates.who": {"vi": "Người báo cáo", "en": "Reported by"},
    "xlsx.digest.updates.progress": {"vi": "Tiến độ (%)", "en": "Progress (%)"},
    "xlsx.digest.updates.status": {"vi": "Trạng thái", "en": "Status"},
    "xlsx.digest.updates.note": {"vi": "Ghi chú", "en": "Note"},
    "xlsx.digest.kpis.key": {"vi": "Mã", "en": "Key"},
    "xlsx.digest.kpis.name": {"vi": "Chỉ số", "en": "Indicator"},
    "xlsx.digest.kpis.target": {"vi": "Mục tiêu", "en": "Target"},
    "xlsx.digest.kpis.year": {"vi": "Năm", "en": "Year"},
    "xlsx.digest.kpis.value": {"vi": "Giá trị mới nhất", "en": "Latest value"},
    "xlsx.digest.kpis.date": {"vi": "Ngày ghi", "en": "Recorded on"},
    "xlsx.digest.kpis.projected": {"vi": "Dự báo đến hạn", "en": "Projected at the deadline"},
    "xlsx.digest.kpis.status": {"vi": "Đánh giá", "en": "Assessment"},
    # --- the evidence folder: dondoc evidence export, /minhchung -----------------------------
    "cli.evidence": {"vi": "Thư mục minh chứng.", "en": "The evidence folder."},
    "cli.evidence.export": {
        "vi": "Xuất mọi ảnh, tệp minh chứng đã nhận ra một tệp nén (.zip), xếp theo mục, mã "
        "nhiệm vụ và tổ/bộ phận, kèm danh mục Excel (ai gửi tệp nào, lúc nào, cho việc nào).",
        "en": "Export every photo and file received as evidence into a zip, by section, task "
        "code and unit, with an Excel index (who sent which file, when, for which task).",
    },
    "cli.evidence.out": {
        "vi": "Tệp nén sẽ ghi, ví dụ minh-chung.zip.",
        "en": "The zip to write, e.g. evidence.zip.",
    },
    "cli.evidence.task": {
        "vi": "Chỉ minh chứng của nhiệm vụ này, ví dụ III.4.2.",
        "en": "Only this task's evidence, e.g. III.4.2.",
    },
    "evidence.cli.needs_out": {
        "vi": "Cần cho biết tệp nén sẽ ghi, ví dụ: --out minh-chung.zip",
        "en": "Say which zip to write, e.g. --out evidence.zip",
    },
    "evidence.cli.not_zip": {
        "vi": "Tệp ghi ra phải có đuôi .zip, ví dụ --out minh-chung.zip (đang là '{path}').",
        "en": "The file to write must end in .zip, e.g. --out evidence.zip (got '{path}').",
    },
    "evidence.cli.exported": {
        "vi": "Đã ghi {count} tệp minh chứng của {school} vào {path} (danh mục: {index}).",
        "en": "Wrote {count} evidence files of {school} to {path} (index: {index}).",
        "en_one": "Wrote 1 evidence file of {school} to {path} (index: {index}).",
    },
    "evidence.cli.cannot_write": {
        "vi": "Không ghi được {path}: {reason}",
        "en": "Could not write {path}: {reason}",
    },
    "evidence.cli.none": {
        "vi": "Chưa có minh chứng nào; {path} chỉ có danh mục (trống).",
        "en": "No evidence yet; {path} holds only the (empty) index.",
    },
    "evidence.cli.missing": {
        "vi": "⚠️ {count} tệp không còn trên máy chủ, danh mục ghi là thiếu:",
        "en": "⚠️ {count} files are no longer on the server; the index lists them as missing:",
        "en_one": "⚠️ 1 file is no longer on the server; the index lists it as missing:",
    },
    "evidence.cli.missing_line": {
        "vi": "  – {code} · {sender} · {time} · {name}",
        "en": "  – {code} · {sender} · {time} · {name}",
    },
    "menu.evidence": {"vi": "Thư mục minh chứng của một việc", "en": "A task's evidence folder"},
    "evidence.deny": {
        "vi": "Chỉ Ban giám hiệu và tổ trưởng nhận được thư mục minh chứng. {You} vẫn gửi minh "
        "chứng như thường: gửi ảnh hoặc tệp kèm mã việc, ví dụ “III.4.2 biên bản họp”.",
        "en": "Only leaders and unit heads can receive the evidence folder. You can still send "
        "evidence as usual: a photo or file captioned with the task code, e.g. “III.4.2 "
        "meeting minutes”.",
    },
    "evidence.deny_task": {
        "vi": "Minh chứng của {code} chỉ gửi cho Ban giám hiệu và tổ trưởng của tổ/bộ phận phụ "
        "trách việc này. Xin {you} liên hệ tổ trưởng phụ trách.",
        "en": "The evidence of {code} goes only to leaders and the head of the unit in charge "
        "of it. Please ask that unit head.",
    },
    "evidence.private_only": {
        "vi": "Thư mục minh chứng có ảnh, tệp và tên người gửi nên chỉ gửi trong tin nhắn riêng. "
        "{You} vui lòng nhắn riêng /minhchung cho bot.",
        "en": "The evidence folder has photos, files and senders' names, so it is only sent in "
        "a private chat. Send /evidence to the bot directly.",
    },
    "evidence.none_task": {
        "vi": "<b>{code}</b> — {title}: chưa có minh chứng nào. Gửi ảnh hoặc tệp kèm mã {code} "
        "để lưu minh chứng cho việc này.",
        "en": "<b>{code}</b> — {title}: no evidence yet. Send a photo or file captioned {code} "
        "to keep it as this task's evidence.",
    },
    "evidence.header": {
        "vi": "📁 <b>Minh chứng {code}</b> — {title}: {count} tệp",
        "en": "📁 <b>Evidence {code}</b> — {title}: {count} files",
        "en_one": "📁 <b>Evidence {code}</b> — {title}: 1 file",
    },
    "evidence.attached": {
        "vi": "Tệp nén kèm theo xếp theo tổ/bộ phận; danh mục Excel bên trong ghi ai gửi tệp "
        "nào, lúc nào.",
        "en": "The attached zip is sorted by unit; the Excel index inside says who sent which "
        "file, and when.",
    },
    "evidence.line": {
        "vi": "• {time} — {sender} ({channel}): {name}",
        "en": "• {time} — {sender} ({channel}): {name}",
    },
    "evidence.line_note": {
        "vi": "• {time} — {sender} ({channel}): {name} — {note}",
        "en": "• {time} — {sender} ({channel}): {name} — {note}",
    },
    "evidence.more": {
        "vi": "… và {count} tệp khác (xem danh mục).",
        "en": "… and {count} more files (see the index).",
        "en_one": "… and 1 more file (see the index).",
    },
    "evidence.missing": {
        "vi": "⚠️ {count} tệp không còn trên máy chủ; danh mục ghi là thiếu.",
        "en": "⚠️ {count} files are no longer on the server; the index lists them as missing.",
        "en_one": "⚠️ 1 file is no longer on the server; the index lists it as missing.",
    },
    "evidence.kept": {
        "vi": "📎 Kênh này không gửi được tệp: tệp nén {name} (kèm danh mục Excel) đã lưu trên "
        "máy chủ, tại {folder}. {You} nhận được tệp trên Telegram khi liên kết thêm Telegram "
        "và chọn nhận ở đó (/kenh).",
        "en": "📎 This channel cannot send files: the zip {name} (with its Excel index) is kept "
        "on the server, in {folder}. Link Telegram as well and choose it with /kenh to "
        "receive it.",
    },
    "evidence.too_big": {
        "vi": "📎 Tệp nén {name} ({size} MB) lớn hơn mức Telegram cho phép gửi ({limit} MB): "
        "đã lưu trên máy chủ, tại {folder}.",
        "en": "📎 The zip {name} ({size} MB) is larger than Telegram lets a bot send ({limit} "
        "MB): it is kept on the server, in {folder}.",
    },
    "evidence.summary.header": {
        "vi": "📁 <b>Minh chứng đã nhận</b> ({count} việc):",
        "en": "📁 <b>Evidence received</b> ({count} tasks):",
        "en_one": "📁 <b>Evidence received</b> (1 task):",
    },
    "evidence.summary.line": {
        "vi": "• <b>{code}</b> {title}: {count} tệp, mới nhất {date}",
        "en": "• <b>{code}</b> {title}: {count} files, latest {date}",
        "en_one": "• <b>{code}</b> {title}: 1 file, latest {date}",
    },
    "evidence.summary.more": {
        "vi": "… và {count} việc khác.",
        "en": "… and {count} more tasks.",
        "en_one": "… and 1 more task.",
    },
    "evidence.summary.footer": {
        "vi": "Gõ /minhchung <i>mã</i> để nhận thư mục minh chứng của một việc, ví dụ "
        "/minhchung III.4.2.",
        "en": "Type /evidence <i>code</i> for a task's evidence folder, e.g. /evidence III.4.2.",
    },
    "evidence.summary.none": {
        "vi": "Chưa có minh chứng nào. Minh chứng là ảnh hoặc tệp gửi cho bot kèm mã việc, ví "
        "dụ “III.4.2 biên bản họp”.",
        "en": "No evidence yet. Evidence is a photo or file sent to the bot captioned with the "
        "task code, e.g. “III.4.2 meeting minutes”.",
    },
    "evidence.file.zip": {"vi": "minh-chung-{code}.zip", "en": "evidence-{code}.zip"},
    "evidence.file.index": {"vi": "danh-muc-minh-chung.xlsx", "en": "evidence-index.xlsx"},
    "evidence.file.photo": {"vi": "ảnh", "en": "photo"},
    "evidence.file.document": {"vi": "tệp", "en": "file"},
    "evidence.unknown_sender": {"vi": "không rõ người gửi", "en": "unknown sender"},
    "evidence.channel.telegram": {"vi": "Telegram", "en": "Telegram"},
    "evidence.channel.zalo": {"vi": "Zalo", "en": "Zalo"},
    "evidence.channel.console": {"vi": "máy của trường", "en": "school computer"},
    "evidence.state.stored": {"vi": "có trong tệp nén", "en": "in the zip"},
    "evidence.state.missing": {
        "vi": "thiếu: không còn trên máy chủ",
        "en": "missing: no longer on the server",
    },
    "xlsx.evidence.sheet": {"vi": "Danh mục minh chứng", "en": "Evidence index"},
    "xlsx.evidence.number": {"vi": "STT", "en": "No."},
    "xlsx.evidence.path": {"vi": "Tệp trong thư mục nén", "en": "File in the zip"},
    "xlsx.evidence.code": {"vi": "Mã nhiệm vụ", "en": "Task code"},
    "xlsx.evidence.title": {"vi": "Nhiệm vụ", "en": "Task"},
    "xlsx.evidence.unit": {"vi": "Tổ/bộ phận", "en": "Unit"},
    "xlsx.evidence.sender": {"vi": "Người gửi", "en": "Sent by"},
    "xlsx.evidence.channel": {"vi": "Kênh", "en": "Channel"},
    "xlsx.evidence.time": {"vi": "Thời gian gửi", "en": "Sent at"},
    "xlsx.evidence.note": {"vi": "Ghi chú", "en": "Note"},
    "xlsx.evidence.file_name": {"vi": "Tên tệp gốc", "en": "Original file name"},
    "xlsx.evidence.size": {"vi": "Dung lượng (byte)", "en": "Size (bytes)"},
    "xlsx.evidence.state": {"vi": "Tình trạng", "en": "State"},
}
