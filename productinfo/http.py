"""HTTP plumbing shared by every feature: declared endpoints, request bodies, ids and headers.

An endpoint is declared with who may call it and the pydantic models that
validate its input:

    @bp.read("/companies.get", query=CompanyQuery, response=list[Company])
    def get_companies(query: CompanyQuery): ...

The access level ("public", "optional", "self", "staff" by default, "admin") is
checked by the hook the accounts feature registers as `app.extensions["authorize"]`.

The same declaration feeds the OpenAPI document, so the two cannot drift. A
write endpoint runs as one unit of work: committed once when it succeeds,
rolled back on any error (see `productinfo.db`).
"""

import functools
import itertools
import json
import logging
import os
import re
import secrets
import time
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Union

from flask import Blueprint, Flask, current_app, g, request
from pydantic import BaseModel, Discriminator, Tag, TypeAdapter, ValidationError
from werkzeug.exceptions import MethodNotAllowed

from productinfo import db
from productinfo.errors import BadRequest, UnsupportedMediaType, ValidationFailed

log = logging.getLogger(__name__)

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class EndpointSpec:
    """What an endpoint accepts and answers, for validation and for the OpenAPI document."""

    method: str
    access: str = "staff"
    query: type[BaseModel] | None = None
    path: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    files: tuple[str, ...] = ()
    response: typing.Any = None
    # True for a list with `next_cursor` beside `data`; or a dict of the fields beside it.
    paginated: bool | dict = False
    # Other media types the answer may come in (a file download).
    media: tuple[str, ...] = ()
    # The view reads the caller's session in its own query, one round trip fewer (see
    # `productinfo.auth.guard.checked`).
    session_in_query: bool = False


class ApiBlueprint(Blueprint):
    """A blueprint whose routes validate their input with pydantic models."""

    def read(
        self,
        rule: str,
        *,
        access="staff",
        query=None,
        path=None,
        response=None,
        paginated=False,
        media=(),
        session_in_query=False,
    ):
        """Declare a GET endpoint; `query` and `path` models are validated and passed in."""
        spec = EndpointSpec(
            "GET",
            access,
            query=query,
            path=path,
            response=response,
            paginated=paginated,
            media=tuple(media),
            session_in_query=session_in_query,
        )
        return self._endpoint(rule, spec)

    def write(self, rule: str, *, access="staff", body=None, path=None, files=(), response=None):
        """Declare a POST endpoint; its `body` model is validated and passed in."""
        spec = EndpointSpec(
            "POST", access, body=body, path=path, files=tuple(files), response=response
        )
        return self._endpoint(rule, spec)

    def _endpoint(self, rule: str, spec: EndpointSpec):
        def decorator(view):
            @functools.wraps(view)
            def endpoint(**path_values):
                # Who may call comes first: a stranger learns nothing from validation errors.
                # A view that reads the session in its own query is settled when it is done,
                # and a refusal then replaces its answer, or its error.
                extensions = current_app.extensions
                if not spec.session_in_query:
                    extensions["authorize"](spec.access)
                    return run(path_values)
                extensions["authorize"](spec.access, deferred=True)
                try:
                    answer = run(path_values)
                finally:
                    extensions["settle_authorization"]()
                return answer

            def run(path_values):
                kwargs = {}
                if spec.path is not None:
                    kwargs.update(validate(spec.path, path_values).model_dump())
                else:
                    kwargs.update(path_values)
                if spec.query is not None:
                    kwargs["query"] = validate(spec.query, request.args.to_dict())
                if spec.body is not None:
                    kwargs["body"] = validate(spec.body, read_body(spec.body))
                if spec.method == "GET":
                    return view(**kwargs)
                with db.unit_of_work():
                    return view(**kwargs)

            endpoint.spec = spec
            self.add_url_rule(rule, view_func=endpoint, methods=[spec.method])
            return endpoint

        return decorator


def choice_of(pick, **choices: type[BaseModel]):
    """Build a body type that is one of several models; `pick(data)` names the one that applies.

    For example `choice_of(pick, one=NewProduct, many=NewProducts)`. Errors name the
    fields as the chosen model sees them.
    """
    members = tuple(Annotated[model, Tag(name)] for name, model in choices.items())
    return Annotated[Union[members], Discriminator(pick)]  # noqa: UP007


def validate(schema, data: dict):
    """Validate `data` against a model (or a `choice_of` several), turning errors into a 422."""
    try:
        if isinstance(schema, type):
            return schema.model_validate(data)
        return _adapter(schema).validate_python(data)
    except ValidationError as error:
        # A choice among models puts its name first in each location: leave it out.
        raise ValidationFailed.from_pydantic(
            error, skip=0 if isinstance(schema, type) else 1
        ) from None


@functools.cache
def _adapter(schema) -> TypeAdapter:
    return TypeAdapter(schema)


def models_of(schema) -> tuple[type[BaseModel], ...]:
    """Return the models a body schema is made of."""
    if isinstance(schema, type):
        return (schema,)
    union = typing.get_args(schema)[0]
    return tuple(typing.get_args(member)[0] for member in typing.get_args(union))


def read_body(schema) -> dict:
    """Read a JSON, multipart or urlencoded body into one dict; batches in form fields are JSON."""
    mimetype = request.mimetype
    if mimetype == "application/json" or mimetype.endswith("+json"):
        raw = request.get_data(cache=True)
        if not raw.strip():
            return {}
        try:
            data = parse_json(raw)
        except ValueError:
            raise BadRequest("The request body is not valid JSON.", code="malformed_json") from None
        if not isinstance(data, dict):
            raise ValidationFailed.field("body", "must be a JSON object")
        return data
    if mimetype in FORM_TYPES:
        return _read_form(schema)
    if not mimetype and not request.get_data(cache=True):
        return {}
    raise UnsupportedMediaType(
        "Send the body as application/json, multipart/form-data "
        "or application/x-www-form-urlencoded.",
    )


def parse_json(text: str | bytes):
    """Parse JSON; raise ValueError for anything else, including nesting too deep to read
    and text that is no Unicode (a lone surrogate escape, `"\\ud800"`)."""
    try:
        data = json.loads(text)
        # A lone surrogate is no character: no database could store it, and no schema says
        # what it is. Encoding finds one anywhere in the document.
        json.dumps(data, ensure_ascii=False).encode()
        return data
    except RecursionError:
        # Thousands of nested brackets are not a body any endpoint accepts.
        raise ValueError("JSON nested too deeply") from None
    except UnicodeEncodeError:
        raise ValueError("JSON text holding a lone surrogate") from None


def _read_form(schema) -> dict:
    multipart = request.mimetype == "multipart/form-data"
    # Small bodies are kept as sent (werkzeug then parses the copy): see below.
    raw = request.get_data(cache=True) if multipart and _small(request.content_length) else None
    data = request.form.to_dict()
    if multipart and not data and not request.files:
        # werkzeug reads a multipart body it cannot parse as an empty form: anything but an
        # empty form's closing delimiter held something, which was not read.
        empty = f"--{request.mimetype_params.get('boundary', '')}--".encode()
        if raw is None or raw.strip() not in (b"", empty):
            raise BadRequest("The multipart body could not be read.", code="malformed_body")
    for key in _structured_fields(schema):
        if isinstance(data.get(key), str):
            try:
                data[key] = parse_json(data[key])
            except ValueError:
                raise ValidationFailed.field(key, "must be a JSON string") from None
    return data


def _small(length: int | None) -> bool:
    return length is not None and length <= 4096


@functools.cache
def _structured_fields(schema) -> tuple[str, ...]:
    """Name the fields of a body schema that a form carries as JSON strings."""
    return tuple(
        field_info.alias or name
        for model in models_of(schema)
        for name, field_info in model.model_fields.items()
        if _is_structured(field_info.annotation)
    )


def _is_structured(annotation) -> bool:
    """Tell whether a field holds a list, dict or model, which a form field carries as JSON."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_structured(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_is_structured(arg) for arg in typing.get_args(annotation))
    if origin in (list, dict, tuple, set):
        return True
    return isinstance(annotation, type) and issubclass(annotation, (BaseModel, list, dict))


def init_app(app: Flask) -> None:
    """Give every request an id and every response the security headers."""
    app.before_request(_start_request)
    app.after_request(_finish_response)


class _RequestIds:
    """Request ids unique across instances without a system call each: a random prefix per
    process (drawn again in a forked child), then a counter."""

    def __init__(self):
        self.restart()
        os.register_at_fork(after_in_child=self.restart)

    def restart(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.counter = itertools.count(1)

    def new(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


_request_ids = _RequestIds()

# Every response carries these, in place of any the view set, and the defaults unless the
# view set its own; JSON answers carry more of each.
_FORCED = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"))
_JSON_FORCED = (*_FORCED, ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"))
_DEFAULTS = (("X-Frame-Options", "DENY"),)
_JSON_DEFAULTS = (*_DEFAULTS, ("Cache-Control", "no-store"))


def _start_request():
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if incoming and _REQUEST_ID.match(incoming) else _request_ids.new()
    g.started = time.perf_counter()
    # OPTIONS only serves CORS preflights; without CORS it is one more wrong method.
    if request.method == "OPTIONS" and request.url_rule and not current_app.config["CORS_ORIGINS"]:
        # Every rule of the path counts: a link page answers GET where the API answers POST.
        adapter = current_app.url_map.bind_to_environ(request.environ)
        allowed = set(adapter.allowed_methods(request.path)) - {"OPTIONS", "HEAD"}
        raise MethodNotAllowed(valid_methods=sorted(allowed))


def _finish_response(response):
    headers = response.headers
    # Appended as they are (constant, valid values), with one pass over what is set already.
    present = {name.lower() for name, _ in headers.items()}
    is_json = (headers.get("Content-Type") or "").startswith("application/json")
    forced, defaults = (_JSON_FORCED, _JSON_DEFAULTS) if is_json else (_FORCED, _DEFAULTS)
    for name, _ in forced:
        if name.lower() in present:
            del headers[name]
    added = [*forced, *(pair for pair in defaults if pair[0].lower() not in present)]
    request_id = g.get("request_id")
    if request_id:
        headers["X-Request-ID"] = request_id
    headers.extend(added)
    if "started" in g:
        # The path only: a query string may carry a one-time token from an emailed link.
        elapsed = (time.perf_counter() - g.started) * 1000
        log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed)
    return response
