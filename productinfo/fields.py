"""Field types shared by the request models of every feature."""

from typing import Annotated

from pydantic import BeforeValidator, Field, StringConstraints

# Ids are 32-bit integers in the database; anything outside is no id of ours.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

NAME_MAX = 200
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]


def _as_text(value):
    # The app's SQLite ids are integers, but any short text works as a local id.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# The offline app's own ids: of its install, and of each record it created.
LocalId = Annotated[
    str,
    BeforeValidator(_as_text),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    Field(description="The app's own id of the record (an integer or a short text)."),
]
DeviceId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    ),
    Field(description="A UUID the app chose once per install.", examples=["3f2b..."]),
]
