from pydantic_core import PydanticCustomError

from messages import t


def invalid(key: str, **params: object) -> PydanticCustomError:
    """A validation error whose message is the catalogue's text (pydantic formats it again)."""
    return PydanticCustomError("plan", t(key, **params).replace("{", "{{").replace("}", "}}"))
