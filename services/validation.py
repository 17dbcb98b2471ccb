from pathlib import Path

from pydantic_core import PydanticCustomError

from messages import t


def invalid(key: str, **params: object) -> PydanticCustomError:
    """A validation error whose message is the catalogue's text (pydantic formats it again)."""
    return PydanticCustomError("plan", t(key, **params).replace("{", "{{").replace("}", "}}"))


class RefusedFile(Exception):
    """A file that cannot be imported; `str()` is the message shown to the user: a headline
    naming the file, then each problem (the first 20)."""

    headline: str  # the catalogue key of the first line, set by each kind of file
    shown = 20

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = [t(self.headline, file=path.name), *(f"  - {p}" for p in problems[: self.shown])]
        if len(problems) > self.shown:
            lines.append(t("plan.more_problems", count=len(problems) - self.shown))
        super().__init__("\n".join(lines))
