"""A small school for reminder tests: three units, five people, tasks due around one week."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from tests.plan_school import import_school, plan_file

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PLAN = """
school:
  code: NHAC
  name: Trường Nhắc Việc
  settings: {settings}
units:
  - {{code: VP, name: Văn phòng}}
  - {{code: TCM, name: Tổ chuyên môn}}
  - {{code: BGH, name: Ban giám hiệu}}
tasks:
  - {{code: T.7, title: Hạn thứ Hai tuần sau, unit: VP, deadline: 07/12/2026}}
  - {{code: T.1, title: Hạn thứ Ba, unit: VP, deadline: 01/12/2026}}
  - {{code: T.OVER, title: Quá hạn mười ngày, unit: VP, deadline: 20/11/2026}}
  - {{code: T.TCM, title: Việc của tổ chuyên môn, unit: TCM, deadline: 03/12/2026}}
  - {{code: T.REC, title: Báo cáo thứ Tư, unit: VP, recurrence: weekly:wed}}
  - {{code: T.HOL, title: Hạn đúng ngày nghỉ, unit: TCM, deadline: 08/12/2026}}
holidays:
  - {{date: 08/12/2026, name: Ngày nghỉ thử}}
"""
PEOPLE = """name,unit,role,phone
Hiệu Trưởng,BGH,principal,0900000001
Phó Hiệu Trưởng,BGH,vice_principal,0900000002
Trưởng Văn Phòng,VP,unit_head,0900000003
Nhân Viên,VP,staff,0900000004
Tổ Trưởng,TCM,unit_head,0900000005
"""


def local(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=HCM)


@pytest.fixture
def reminder_school(engine: Engine, tmp_path: Path) -> Engine:
    return make_school(engine, tmp_path, "{}")


def make_school(engine: Engine, tmp_path: Path, settings: str) -> Engine:
    plan = plan_file(tmp_path, PLAN.format(settings=settings), "plan.yaml")
    return import_school(engine, plan, PEOPLE, now=local(30, 0, month=11))
