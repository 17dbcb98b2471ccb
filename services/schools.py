from sqlmodel import Session, select

from messages import t
from models import School


class SchoolNotFound(Exception):
    pass


def resolve_school(session: Session, code: str | None) -> School:
    """The school a command works on: the one named, or the only one there is."""
    schools = session.exec(select(School).order_by(School.code)).all()
    known = ", ".join(school.code for school in schools)
    if code is not None:
        match = next((s for s in schools if s.code.lower() == code.strip().lower()), None)
        if match is None:
            raise SchoolNotFound(t("school.unknown", code=code, known=known or "—"))
        return match
    if not schools:
        raise SchoolNotFound(t("school.none"))
    if len(schools) > 1:
        raise SchoolNotFound(t("school.ambiguous", count=len(schools), known=known))
    return schools[0]
