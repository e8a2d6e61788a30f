"""What the app writes to its log: one line per record, tagged with its request id, no secrets.

Each record is written on one line, whatever it contains: CR, LF and the other
control characters of a message or a traceback are written as escapes (`\\n`,
`\\x1b`, `\\u2028`), so a client cannot start a line of its own with a path such
as `/x%0a2099-01-01 ... ERROR ...`. A line that starts with a timestamp is a
record the app wrote.

A database error is named by its class and its primary message, never with the
SQL parameters SQLAlchemy appends to it nor the DETAIL Postgres adds (`Key
(email)=(...)`): they can carry addresses, password hashes and token hashes.
"""

import logging
import re
import sqlite3
import traceback

from flask import Flask, g, has_request_context

# The loggers whose records the app writes: its own, and the rate limiter's, which says
# when it falls back to counting in memory.
LOGGERS = ("productinfo", "flask-limiter")
HANDLER_NAME = "productinfo"
FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"

# C0 and C1 controls, DEL, the Unicode line and paragraph separators and the bidi
# controls that could make a line read as something else.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text: str) -> str:
    """Write every control character of `text` as an escape, so that it stays on one line."""
    return _CONTROL.sub(_escaped, text)


def _escaped(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def describe(error: BaseException) -> str:
    """Name an exception and its message on one line; a database error without its values."""
    from sqlalchemy.exc import StatementError

    if isinstance(error, StatementError):
        # Its text holds the SQL and its parameters: name the driver's error instead.
        inner = error.orig
        return f"{_name(error)}: {describe(inner)}" if inner is not None else _name(error)
    if hasattr(error, "sqlstate") and hasattr(error, "diag"):  # psycopg
        state = error.sqlstate
        if state is None:  # raised by the client (a lost connection), not by the server
            return f"{_name(error)}: {_first_line(error)}"
        # Data exceptions (class 22) quote the value they refused in the message itself.
        text = "" if state.startswith("22") else f": {error.diag.message_primary or ''}"
        return f"{_name(error)} (SQLSTATE {state}){text}"
    if isinstance(error, sqlite3.Error):
        return f"{_name(error)}: {_first_line(error)}"
    message = str(error)
    return f"{_name(error)}: {message}" if message else _name(error)


def _name(error: BaseException) -> str:
    kind = type(error)
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    return module + kind.__qualname__


def _first_line(error: BaseException) -> str:
    return str(error).strip().split("\n", 1)[0]


def format_traceback(error: BaseException) -> str:
    """Format an exception and those it was raised from, each described by `describe`."""
    chain, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        chain.append(error)
        if error.__cause__ is not None:
            error = error.__cause__
        else:
            error = None if error.__suppress_context__ else error.__context__
    parts = []
    oldest_first = chain[::-1]
    for n, error in enumerate(oldest_first):
        if n:
            parts.append(
                "The above exception was the direct cause of the following exception:"
                if error.__cause__ is oldest_first[n - 1]
                else "During handling of the above exception, another exception occurred:"
            )
        frames = "".join(traceback.format_tb(error.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{describe(error)}")
    return "\n\n".join(parts)


class RequestIdFilter(logging.Filter):
    """Tag each log record with the id of the request being served, or "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class LineFormatter(logging.Formatter):
    """Format a record on one line, its exception described without database values."""

    def __init__(self):
        super().__init__(FORMAT)

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        return format_traceback(ei[1])

    def format(self, record: logging.LogRecord) -> str:
        # Another handler may have cached its own rendering of the exception: use ours.
        cached, record.exc_text = record.exc_text, None
        try:
            return escape(super().format(record))
        finally:
            record.exc_text = cached


def init_app(app: Flask) -> None:
    """Log to stderr, one escaped line per record, each tagged by its request id."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if name == "productinfo":  # Flask's app.logger: the app's own records
            logger.setLevel(app.config["LOG_LEVEL"])
        # Servers such as waitress configure the root logger too: without this, each line
        # would be printed twice, once without its request id.
        logger.propagate = False
        if not any(handler.get_name() == HANDLER_NAME for handler in logger.handlers):
            handler = logging.StreamHandler()
            handler.set_name(HANDLER_NAME)
            handler.addFilter(RequestIdFilter())
            handler.setFormatter(LineFormatter())
            logger.addHandler(handler)
