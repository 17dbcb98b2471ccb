"""Texts of the weekly digest and /baocao (/report): the chat message, the workbook, the chart."""

DIGEST_MESSAGES: dict[str, dict[str, str]] = {
    # --- the command -------------------------------------------------------------------------
    "menu.report": {"vi": "Báo cáo tổng hợp (ban giám hiệu)", "en": "School report (leaders)"},
    "report.deny": {
        "vi": "Chỉ hiệu trưởng và phó hiệu trưởng xem được báo cáo tổng hợp, vì báo cáo có số "
        "liệu của mọi tổ/bộ phận. Gõ /viec để xem việc của bạn và tổ.",
        "en": "Only the principal and vice principals can see the school report, because it "
        "covers every unit's data. Type /tasks to see your and your unit's tasks.",
    },
    "report.private_only": {
        "vi": "Báo cáo tổng hợp có số liệu của mọi tổ/bộ phận nên chỉ gửi trong tin nhắn riêng. "
        "Hãy nhắn /baocao cho bot.",
        "en": "The school report covers every unit's data, so it is only sent in a private "
        "chat. Send /report to the bot directly.",
    },
    "report.file.workbook": {"vi": "bao-cao-tuan-{week}.xlsx", "en": "weekly-report-{week}.xlsx"},
    "report.file.chart": {"vi": "tien-do-{week}.png", "en": "progress-{week}.png"},
    # --- the message -------------------------------------------------------------------------
    "digest.title": {
        "vi": "<b>Báo cáo tuần {week}</b> — {school}",
        "en": "<b>Weekly report {week}</b> — {school}",
    },
    "digest.period": {
        "vi": "Kỳ báo cáo: từ {start} đến {end}",
        "en": "Period: from {start} to {end}",
    },
    "digest.overall.header": {"vi": "<b>Tổng quan</b>", "en": "<b>Overview</b>"},
    "digest.overall": {
        "vi": "Tiến độ chung: <b>{progress}</b> · hoàn thành {done}/{tasks} nhiệm vụ · "
        "quá hạn {overdue} · {updates} lượt cập nhật trong kỳ",
        "en": "Overall progress: <b>{progress}</b> · {done}/{tasks} tasks done · "
        "{overdue} overdue · {updates} updates in the period",
    },
    "digest.units.header": {
        "vi": "<b>Theo tổ/bộ phận</b>",
        "en": "<b>By unit</b>",
    },
    "digest.unit.line": {
        "vi": "• <b>{name}</b> {progress}: {open} đang mở, {done} xong, {overdue} quá hạn; "
        "báo cáo gần nhất: {last}",
        "en": "• <b>{name}</b> {progress}: {open} open, {done} done, {overdue} overdue; "
        "last report: {last}",
    },
    "digest.unit.never": {"vi": "chưa có", "en": "none yet"},
    "digest.units.none": {
        "vi": "Kế hoạch chưa có nhiệm vụ nào.",
        "en": "The plan has no tasks yet.",
    },
    "digest.overdue.header": {
        "vi": "<b>Quá hạn ({count})</b>",
        "en": "<b>Overdue ({count})</b>",
    },
    "digest.overdue.none": {"vi": "Không có việc quá hạn.", "en": "Nothing is overdue."},
    "digest.due_soon.header": {
        "vi": "<b>Đến hạn trong {days} ngày tới ({count})</b>",
        "en": "<b>Due in the next {days} days ({count})</b>",
    },
    "digest.due_soon.none": {
        "vi": "Không có việc đến hạn trong {days} ngày tới.",
        "en": "Nothing is due in the next {days} days.",
    },
    "digest.task.line": {
        "vi": "• <b>{code}</b> {title} — {unit} — hạn {due} ({countdown}) — {progress} %",
        "en": "• <b>{code}</b> {title} — {unit} — due {due} ({countdown}) — {progress} %",
    },
    "digest.tasks.more": {
        "vi": "… và {count} việc khác (xem tệp Excel).",
        "en": "… and {count} more (see the Excel file).",
    },
    "digest.silent.header": {
        "vi": "<b>Chưa báo cáo trong kỳ</b>",
        "en": "<b>No report in the period</b>",
    },
    "digest.silent.units": {"vi": "Tổ/bộ phận: {units}", "en": "Units: {units}"},
    "digest.silent.people": {"vi": "Cá nhân: {people}", "en": "People: {people}"},
    "digest.silent.person": {"vi": "{name} ({detail})", "en": "{name} ({detail})"},
    "digest.silent.tasks": {"vi": "việc {codes}", "en": "tasks {codes}"},
    "digest.silent.heads": {"vi": "phụ trách {units}", "en": "head of {units}"},
    "digest.silent.none": {
        "vi": "Mọi tổ/bộ phận và cá nhân có việc đang mở đều đã báo cáo.",
        "en": "Every unit and person with open tasks has reported.",
    },
    "digest.kpis.header": {
        "vi": "<b>Chỉ số so với mục tiêu</b>: {met} đạt · {at_risk} có nguy cơ · "
        "{not_met} chưa đạt · {no_data} chưa có số liệu",
        "en": "<b>KPIs against target</b>: {met} met · {at_risk} at risk · "
        "{not_met} not met · {no_data} no data",
    },
    "digest.kpi.line": {
        "vi": "• {name}: {value} ({date}) — mục tiêu {year}: {target} — <b>{status}</b>",
        "en": "• {name}: {value} ({date}) — {year} target: {target} — <b>{status}</b>",
    },
    "digest.kpi.line_no_data": {
        "vi": "• {name} — mục tiêu {year}: {target} — <i>{status}</i>",
        "en": "• {name} — {year} target: {target} — <i>{status}</i>",
    },
    "digest.kpi.status.met": {"vi": "đạt", "en": "met"},
    "digest.kpi.status.not_met": {"vi": "chưa đạt", "en": "not met"},
    "digest.kpi.status.at_risk": {"vi": "có nguy cơ", "en": "at risk"},
    "digest.kpi.status.no_data": {"vi": "chưa có số liệu", "en": "no data"},
    "digest.kpis.none": {"vi": "Trường chưa có chỉ số nào.", "en": "The school has no KPIs yet."},
    "digest.notes.header": {"vi": "<b>Ghi chú đáng chú ý</b>", "en": "<b>Notable notes</b>"},
    "digest.note.line": {
        "vi": "• <b>{code}</b> · {who}, {when}: {what} — <i>{note}</i>",
        "en": "• <b>{code}</b> · {who}, {when}: {what} — <i>{note}</i>",
    },
    "digest.note.nobody": {"vi": "không rõ người gửi", "en": "unknown sender"},
    "digest.notes.more": {
        "vi": "… và {count} ghi chú khác (xem tệp Excel).",
        "en": "… and {count} more notes (see the Excel file).",
    },
    "digest.notes.none": {
        "vi": "Không có ghi chú mới trong kỳ.",
        "en": "No new notes in the period.",
    },
    "digest.evidence.header": {
        "vi": "<b>Minh chứng mới ({count})</b>",
        "en": "<b>New evidence ({count})</b>",
    },
    "digest.evidence.line": {
        "vi": "• <b>{code}</b> {title}: {count} tệp",
        "en": "• <b>{code}</b> {title}: {count} file(s)",
    },
    "digest.evidence.none": {
        "vi": "Không có minh chứng mới trong kỳ.",
        "en": "No new evidence in the period.",
    },
    "digest.attached": {
        "vi": "<i>Kèm theo: bảng tính Excel (nhiệm vụ, cập nhật trong kỳ, chỉ số) và biểu đồ "
        "tiến độ theo tổ/bộ phận.</i>",
        "en": "<i>Attached: an Excel workbook (tasks, updates in the period, KPIs) and a chart "
        "of progress by unit.</i>",
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
    "xlsx.digest.sheet.updates": {"vi": "Cập nhật trong tuần", "en": "Updates this week"},
    "xlsx.digest.sheet.kpis": {"vi": "Chỉ số", "en": "KPIs"},
    "xlsx.digest.tasks.code": {"vi": "Mã", "en": "Code"},
    "xlsx.digest.tasks.title": {"vi": "Nhiệm vụ", "en": "Task"},
    "xlsx.digest.tasks.unit": {"vi": "Tổ/bộ phận", "en": "Unit"},
    "xlsx.digest.tasks.due": {"vi": "Hạn", "en": "Due"},
    "xlsx.digest.tasks.status": {"vi": "Trạng thái", "en": "Status"},
    "xlsx.digest.tasks.progress": {"vi": "Tiến độ (%)", "en": "Progress (%)"},
    "xlsx.digest.tasks.last_report": {"vi": "Cập nhật gần nhất", "en": "Last update"},
    "xlsx.digest.updates.time": {"vi": "Thời gian", "en": "Time"},
    "xlsx.digest.updates.code": {"vi": "Mã", "en": "Code"},
    "xlsx.digest.updates.title": {"vi": "Nhiệm vụ", "en": "Task"},
    "xlsx.digest.updates.who": {"vi": "Người cập nhật", "en": "Updated by"},
    "xlsx.digest.updates.progress": {"vi": "Tiến độ (%)", "en": "Progress (%)"},
    "xlsx.digest.updates.status": {"vi": "Trạng thái", "en": "Status"},
    "xlsx.digest.updates.note": {"vi": "Ghi chú", "en": "Note"},
    "xlsx.digest.kpis.key": {"vi": "Mã", "en": "Key"},
    "xlsx.digest.kpis.name": {"vi": "Chỉ số", "en": "Indicator"},
    "xlsx.digest.kpis.target": {"vi": "Mục tiêu", "en": "Target"},
    "xlsx.digest.kpis.year": {"vi": "Năm", "en": "Year"},
    "xlsx.digest.kpis.value": {"vi": "Giá trị mới nhất", "en": "Latest value"},
    "xlsx.digest.kpis.date": {"vi": "Ngày ghi", "en": "Recorded on"},
    "xlsx.digest.kpis.status": {"vi": "Đánh giá", "en": "Assessment"},
    "xlsx.digest.overdue": {"vi": "quá hạn", "en": "overdue"},
}
