"""Field types shared by the request models of every feature.

Names, barcodes, ids and search texts refuse control characters, so that what
one database stores the other stores too (Postgres refuses NUL; SQLite keeps
it): C0 and C1 controls (tab and line breaks included), and the invisible
format characters that only hide or reorder text. Each type's JSON schema
states its rule as a `pattern`, which the server applies exactly.
"""

import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)


class Model(BaseModel):
    """The base of every request and response model.

    Its validator is built on first use, not at import: a cold start then builds only
    the models of the request it serves, not the ~85 of every endpoint.
    """

    model_config = ConfigDict(defer_build=True)


# Ids are 32-bit integers in the database; anything outside is no id of ours.
MAX_ID = 2**31 - 1
NAME_MAX = 200
LOCAL_ID_MAX = 64

# As regular-expression text valid in Python, ECMA-262 and Rust alike. Controls: C0, DEL
# and C1. Invisible format characters that make no sense in a name, a barcode or an id: the
# soft hyphen, the Mongolian vowel separator, zero-width space, word joiner and invisible
# operators, bidirectional embeddings, overrides and isolates (which make text display
# other than it is stored), the deprecated format characters, the byte order mark and the
# interlinear annotations. Joiners (U+200C, U+200D) and direction marks (U+200E, U+200F,
# U+061C) stay: scripts and keyboards need them.
CONTROLS = (
    r"\x00-\x1f\x7f-\x9f\u00ad\u180e\u200b\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    r"\ufff9-\ufffb"
)
# Whitespace other than the controls: what trimming a name removes.
SPACES = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_CONTROL = re.compile(f"[{CONTROLS}]")


def refuse_controls(value: str) -> str:
    """Refuse a text holding a control or invisible format character, naming the first one."""
    found = _CONTROL.search(value)
    if found is not None:
        raise ValueError(
            f"must not contain control characters (U+{ord(found.group()):04X} "
            f"at character {found.start() + 1})"
        )
    return value


def _trimmed(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must contain more than spaces")
    return value


def _reject_bool(value):
    # JSON's true and false are no ids, although Python counts them as integers.
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


# The order matters: constraints first, so that the schema keeps minimum and maximum.
Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_reject_bool)]

NAME_PATTERN = f"^[{SPACES}]*[^{CONTROLS}{SPACES}][^{CONTROLS}]*$"
# A name: its length is checked as sent, then it is trimmed.
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=NAME_MAX),
    AfterValidator(refuse_controls),
    AfterValidator(_trimmed),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": NAME_MAX, "pattern": NAME_PATTERN}
    ),
]


def free_text(max_length: int) -> object:
    """Return the type of a short text a user types to search or filter: anything visible."""
    return Annotated[
        str,
        StringConstraints(max_length=max_length),
        AfterValidator(refuse_controls),
        WithJsonSchema({"type": "string", "maxLength": max_length, "pattern": f"^[^{CONTROLS}]*$"}),
    ]


# The app's local ids are 64-bit integers (its SQLite's) or short texts.
_LOCAL_INT = 2**63
LocalNumber = Annotated[
    int, Field(ge=-_LOCAL_INT, le=_LOCAL_INT - 1), BeforeValidator(_reject_bool)
]


def _as_text(value):
    if isinstance(value, float) and value.is_integer():  # JSON's 12.0 is the integer 12
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not -_LOCAL_INT <= value < _LOCAL_INT:
            raise ValueError("must be a 64-bit integer or a text")
        return str(value)
    return value


# The offline app's own id of each record it created: opaque, compared exactly.
LocalId = Annotated[
    str,
    BeforeValidator(_as_text),
    StringConstraints(min_length=1, max_length=LOCAL_ID_MAX),
    AfterValidator(refuse_controls),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": -_LOCAL_INT, "maximum": _LOCAL_INT - 1},
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": LOCAL_ID_MAX,
                    "pattern": f"^[^{CONTROLS}]+$",
                },
            ],
            "description": "The app's own id of the record: an integer or a short text.",
            "examples": [12],
        }
    ),
]

_UUID = re.compile(r"[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")


def _one_form(device_id: str) -> str:
    # iOS gives upper case, Android and most libraries lower case: the same UUID, one device.
    # Other tokens are opaque and kept as sent.
    return device_id.lower() if _UUID.fullmatch(device_id) else device_id


DEVICE_PATTERN = "^[A-Za-z0-9_-]{8,64}$"
DeviceId = Annotated[
    str,
    StringConstraints(pattern=DEVICE_PATTERN),
    AfterValidator(_one_form),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DEVICE_PATTERN,
            "description": "Chosen once per install: a UUID in either case (an iOS "
            "identifierForVendor), an Android ID, or any opaque token of 8-64 letters, "
            "digits, `_` and `-`. A UUID is one device in either case; other tokens are "
            "compared exactly.",
            "examples": ["3F2B6C1E-8D4A-4F7E-9B0A-2C5D7E9F1A3B"],
        }
    ),
]


def _no_default(schema: dict) -> None:
    schema.pop("default", None)


def optional(**kwargs):
    """Declare a field that may be left out but is never null (its type says what it holds)."""
    return Field(None, json_schema_extra=_no_default, **kwargs)


ANYTHING_BUT_NULL = {"type": ["boolean", "integer", "number", "string", "array", "object"]}


def exactly_one_of(first: str, second: str) -> dict:
    """Return the JSON schema of a body that holds exactly one of two fields, other than null."""
    return {
        "oneOf": [
            {"required": [name], "properties": {name: ANYTHING_BUT_NULL}}
            for name in (first, second)
        ]
    }


def without(*names: str):
    """Return a schema hook saying that a body never holds these fields: a body with
    `device_id` is a device's push, described by its own model."""

    def exclude(schema: dict) -> None:
        schema.setdefault("properties", {}).update(dict.fromkeys(names, False))

    return exclude
