"""Domain errors and the one function that turns any failure into the JSON error envelope.

    ApiError                    status  code (default)
     +-- BadRequest               400   bad_request
     +-- Unauthorized             401   unauthorized
     +-- Forbidden                403   forbidden
     +-- NotFound                 404   not_found
     +-- Conflict                 409   conflict
     +-- PayloadTooLarge          413   payload_too_large
     +-- UnsupportedMediaType     415   unsupported_media_type
     +-- ValidationFailed         422   validation_failed
     +-- TooManyRequests          429   too_many_requests
     +-- ServiceUnavailable       503   service_unavailable

Services raise these; they never build HTTP responses. Flask's own HTTP errors
(unknown path, wrong method, body too large) and unexpected exceptions are
mapped to the same envelope here. A database error is logged by its class and
primary message only (`logs.describe`): never its SQL parameters or DETAIL.
"""

import logging
import sqlite3

from flask import Flask, request
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from productinfo.envelope import error_response
from productinfo.logs import describe

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A failure the client can act on, with its HTTP status and a stable code."""

    status = 500
    code = "internal_error"

    def __init__(
        self, message: str, *, code: str | None = None, errors: dict | None = None, **extra
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.errors = errors or {}
        self.extra = extra  # more keys for the envelope, e.g. `data` for a conflict
        self.headers: dict[str, str] = {}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"

    def __init__(self, message: str, **kwargs):
        super().__init__(message, **kwargs)
        self.headers["WWW-Authenticate"] = 'Bearer realm="productinfo"'


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


# Codes of our own that validators raise (as pydantic's custom error types), kept as the code.
OWN_CODES = {"invalid_cursor", "empty_period"}


class ValidationFailed(ApiError):
    status, code = 422, "validation_failed"

    @classmethod
    def field(cls, name: str, problem: str, *, code: str | None = None) -> "ValidationFailed":
        """Build the error for a single invalid field."""
        return cls(f"Invalid {name}: {problem.rstrip('.')}.", code=code, errors={name: problem})

    @classmethod
    def from_pydantic(cls, error, *, skip: int = 0) -> "ValidationFailed":
        """Name each field pydantic found invalid, e.g. `companies[2].name`, with its problem.

        `skip` leaves out leading parts of each location (the name of a chosen model).
        """
        errors, codes = {}, set()
        for item in error.errors(include_url=False, include_input=False):
            errors.setdefault(field_path(item["loc"][skip:]) or "body", problem(item))
            codes.add(item["type"] if item["type"] in OWN_CODES else None)
        if len(errors) == 1:
            [(name, text)] = errors.items()
            return cls.field(name, text, code=codes.pop() if len(codes) == 1 else None)
        return cls(f"{len(errors)} fields are invalid: {', '.join(errors)}.", errors=errors)


def field_path(loc) -> str:
    """Render a pydantic location as `items[2].name`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def problem(item: dict) -> str:
    """Return pydantic's explanation of one error, without its "Value error, " prefix."""
    return item["msg"].removeprefix("Value error, ")


class TooManyRequests(ApiError):
    status, code = 429, "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, **kwargs):
        super().__init__(message, **kwargs)
        self.headers["Retry-After"] = str(max(1, int(retry_after)))


class ServiceUnavailable(ApiError):
    status, code = 503, "service_unavailable"


# What SQLite reports as an OperationalError when a retry may succeed. It reports SQL
# mistakes (no such table, a syntax error) the same way: those are bugs, a 500.
SQLITE_TRANSIENT = ("locked", "busy", "disk i/o error", "unable to open database file")


def _retry_may_help(error) -> bool:
    """Tell whether a database error is an outage, not a mistake in the SQL."""
    original = getattr(error, "orig", None)
    if isinstance(original, sqlite3.OperationalError):
        return any(text in str(original).lower() for text in SQLITE_TRANSIENT)
    return True


# Messages for the HTTP errors Flask raises itself, keyed by status.
_HTTP_MESSAGES = {
    400: ("bad_request", "The request could not be understood."),
    404: ("not_found", "There is no endpoint at this path."),
    405: ("method_not_allowed", "This endpoint does not accept that method."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "The request body has an unsupported media type."),
    429: ("too_many_requests", "Too many requests. Slow down and retry later."),
}


def register_error_handlers(app: Flask) -> None:
    """Map domain errors, Flask's HTTP errors and unexpected failures to the envelope."""

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        response = error_response(
            error.status, error.code, error.message, errors=error.errors, **error.extra
        )
        response.headers.update(error.headers)
        return response

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        status = error.code or 500
        code, message = _HTTP_MESSAGES.get(
            status, (error.name.lower().replace(" ", "_").replace("'", ""), error.name + ".")
        )
        response = error_response(status, code, message)
        if status == 429:
            from productinfo.ratelimit import retry_after

            response.headers["Retry-After"] = str(retry_after())
        if status == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def handle_database_down(error: DBAPIError | PoolTimeout):
        # Connection refused, server gone or frozen, no free pooled connection, locked
        # SQLite file: the request may succeed if retried, so this is a 503, not a 500.
        if not _retry_may_help(error):
            return handle_unexpected(error)
        log.error(
            "database unavailable on %s %s: %s", request.method, request.path, describe(error)
        )
        return error_response(
            503, "database_unavailable", "The database is unavailable. Retry shortly."
        )

    @app.errorhandler(DataError)
    def handle_data_error(error: DataError):
        # A value the database cannot hold (a number out of range...): the client's fault.
        log.warning("data error on %s %s: %s", request.method, request.path, describe(error))
        return error_response(
            422, "validation_failed", "A value is out of the range this API stores."
        )

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(error: IntegrityError):
        # Checks come before writes, so this is a concurrent request that won the race.
        log.warning("integrity error on %s %s: %s", request.method, request.path, describe(error))
        return error_response(
            409, "conflict", "This conflicts with a change saved at the same moment. Retry."
        )

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Something went wrong on our side.")
