"""A small school for reminder tests: three units, five people, tasks due around one week."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from models import School
from models.db import session_scope
from services.people import import_people
from services.plan_files import read_plan
from services.plan_store import import_plan

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
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.format(settings=settings), encoding="utf-8")
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    with session_scope(engine) as session:
        import_plan(session, read_plan(plan), now=local(30, 0, month=11))
        import_people(session, session.exec(select(School)).one(), people)
    return engine
