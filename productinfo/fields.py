"""Field types shared by the request models of every feature."""

from typing import Annotated

from pydantic import Field, StringConstraints

# Ids are 32-bit integers in the database; anything outside is no id of ours.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

NAME_MAX = 200
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]
