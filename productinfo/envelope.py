"""The response envelope: every answer of the API is built by `ok` or `error_response`.

Success: {"status": 200, "message": "", "data": ...}
Error:   {"status": 422, "message": "...", "code": "...", "errors": {...}, "request_id": "..."}
"""

from flask import Response, current_app, g
from pydantic_core import to_json


def json_response(body: dict, status: int) -> Response:
    """Serialize a body (models, datetimes and all) to a JSON response."""
    return current_app.response_class(to_json(body), status=status, mimetype="application/json")


def ok(data=None, *, message: str = "", status: int = 200, **extra) -> Response:
    """Answer with a success envelope; `extra` adds keys beside `data` such as `next_cursor`."""
    return json_response({"status": status, "message": message, "data": data, **extra}, status)


def error_response(status: int, code: str, message: str, *, errors: dict | None = None, **extra):
    """Answer with an error envelope; every error the API returns goes through here."""
    body = {
        "status": status,
        "message": message,
        "code": code,
        "errors": errors or {},
        "request_id": g.get("request_id"),
        **extra,
    }
    return json_response(body, status)
