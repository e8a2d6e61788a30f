"""The API keeps the promises of its own OpenAPI document, checked by schemathesis.

Schemathesis reads `/openapi.json` and sends requests generated from it to the app,
in process through its WSGI interface: the document's examples, the edge values of
each schema (coverage), random valid and invalid inputs (fuzzing) and chains of
calls (stateful), with every check it has. The run is seeded, derandomized and
capped at a number of examples per operation, so it finds the same things each
time and takes a bounded time.
"""

import datetime as dt
import logging
import re
import traceback
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import StopReason, events, from_schema
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.transport.wsgi import WSGI_TRANSPORT
from sqlalchemy import func, update

from productinfo.auth import admin as administration
from productinfo.auth import sessions
from productinfo.auth.models import users
from productinfo.db import utcnow
from productinfo.http import FORM_TYPES
from tests.helpers import PASSWORD, Auth

SEED = 20261122
EXAMPLES = 50

CONFIG = {
    "seed": SEED,
    # One worker: cases reach the app one at a time, in the order the seed gives.
    "workers": 1,
    "generation": {
        "max-examples": EXAMPLES,
        "deterministic": True,
        # No example database: what an earlier run found must not change what this one sends.
        "database": "none",
    },
    # Every check, as `--checks all`, with two that cannot act here:
    # - `max_response_time` needs a limit, and a limit on time would make the outcome
    #   depend on the machine's load;
    # - `object_level_authorization` needs several identities listed under `[auth.wfc]`,
    #   and would then flag the catalogue every staff member reads by design.
    "checks": {"enabled": True},
    # The phases are left at the command line's defaults: examples, coverage, fuzzing, stateful.
    # The tokens are made for this test only; the summary shows requests as they were sent.
    "output": {"sanitization": {"enabled": False}},
}


# Answers that no schema can foretell, to schema-valid requests: excused when they come to
# requests that schemathesis made up, and only those (the check `positive_data_acceptance`).
EXCUSED_CODES = {
    # A cursor is opaque: any text fits its schema, but only those the API issued work.
    "invalid_cursor",
    # Tokens only an email carries.
    "link_invalid",
    "link_expired",
    # Password rules that the server explains (strength, length in bytes), and the password
    # the account has.
    "password_too_short",
    "password_too_long",
    "password_too_weak",
    "wrong_password",
    # Limits a deployment sets (MAX_UPLOAD_BYTES), which the document cannot know.
    "photo_too_large",
    # Ids of records that do not exist: an id is valid whatever the data holds.
    "unknown_category",
    "unknown_company",
    "unknown_product",
    # Rules across the items of a batch: one barcode or one local id twice.
    "duplicate_barcode",
    "duplicate_local_id",
    # Rules across two fields: a merge of two records, someone else's uploads asked for as
    # one's own (see `sendable` for periods).
    "merge_into_itself",
    "conflicting_filters",
}
# Addresses at domains that exist: the server refuses special-use ones (`.test`, `.local`)
# that the `email` format admits.
schemathesis.openapi.format(
    "email", st.emails(domains=st.sampled_from(["example.com", "company.dz", "mail.example.org"]))
)


@dataclass(frozen=True)
class Found:
    """One distinct failure, with the first request that showed it."""

    operation: str
    check: str
    failure: Exception
    curl: str
    status: int | None
    answer: str


@pytest.fixture
def wsgi_probes(monkeypatch):
    """Let schemathesis's extra requests reach a WSGI app.

    Checks such as `ignored_auth` send a second request without credentials. That
    request drops the network session but keeps its socket settings (`max_redirects`,
    `verify`, `cert`), which werkzeug's test client refuses with a TypeError, so the
    check errors out instead of checking. Drop those settings there, as schemathesis
    does itself when a session is given.
    """
    send = WSGI_TRANSPORT.send

    def send_without_socket_settings(case, *, session=None, **kwargs):
        if session is None:
            for name in ("max_redirects", "verify", "cert", "proxies"):
                kwargs.pop(name, None)
        return send(case, session=session, **kwargs)

    monkeypatch.setattr(WSGI_TRANSPORT, "send", send_without_socket_settings)


def excuse_what_no_schema_says(schema) -> None:
    """Excuse the answers listed in EXCUSED_CODES, and skip bodies schemathesis cannot send."""

    @schema.hook
    def filter_failure(context, failure, case, response):
        if not isinstance(failure, RejectedPositiveData):
            return True
        try:
            code = response.json().get("code")
        except (ValueError, AttributeError):
            return True
        return code not in EXCUSED_CODES

    @schema.hook
    def filter_case(context, case):
        return sendable(case)

    @schema.hook
    def before_add_examples(context, examples):
        examples[:] = [case for case in examples if sendable(case)]


def sendable(case) -> bool:
    """Tell whether schemathesis can send a case as the document describes it.

    Schemathesis 4.32.5 writes a list or an object in an urlencoded body as repeated fields,
    ignoring the document's `encoding` (its urlencoded serializer does not read
    `contentType`); the app sends one field holding JSON text, as the document says.
    """
    if _empty_period(case.query or {}):
        # A period that ends before it starts (422 `empty_period`, tested on its own) would
        # mask the other fields' answers in the same request.
        return False
    if case.body is None and case.media_type in FORM_TYPES:
        # A form cannot say null: it goes as an empty form, which an optional body accepts.
        return False
    if not isinstance(case.body, dict):
        return True
    values = case.body.values()
    if case.media_type == "application/x-www-form-urlencoded":
        return not any(isinstance(value, list | dict) for value in values)
    # In multipart it writes an empty list as no part at all, whatever the encoding says.
    return not (case.media_type == "multipart/form-data" and any(value == [] for value in values))


def _empty_period(query: dict) -> bool:
    try:
        start, end = (dt.datetime.fromisoformat(query[name]) for name in ("from", "to"))
        return _in_utc(end) <= _in_utc(start)
    except (KeyError, TypeError, ValueError):
        return False


def _in_utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def sign_in_each_request(schema, app, user_id: int, role: str) -> None:
    """Give every generated request a new session of this user, in this role.

    The run calls `/users.logout` and `/users.logoutAll`, which end the caller's
    sessions, and as admin `/users.setRole` and `/users.disable`, which may demote or
    disable the caller. One token for the whole run would turn every later request
    into a 401 or a 403, and test nothing. So each request starts a session of its
    own, after putting the user back in its role, approved and enabled.
    """

    @schema.auth(refresh_interval=None)
    class FreshSession:
        def get(self, case, context):
            """Restore the user's role and start a session; return its access token."""
            engine = app.extensions["db"].engine
            with engine.begin() as conn:
                now = utcnow()
                conn.execute(
                    update(users)
                    .where(users.c.id == user_id)
                    .values(
                        role=role,
                        disabled_at=None,
                        approved_at=func.coalesce(users.c.approved_at, now),
                    )
                )
                settings = app.extensions["accounts"]
                return sessions.start_session(conn, settings, user_id, now=now).access_token

        def set(self, case, token, context):
            """Send the access token with the request."""
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


@dataclass
class Outcome:
    """What a run found, and how many requests it sent."""

    found: list[Found]
    errors: list[str]
    requests: int


def run_schemathesis(app, role: str) -> Outcome:
    """Run every phase against the app as a user of `role`; return what it found."""
    user = Auth(app).signup()
    if role == "admin":
        with app.extensions["db"].engine.begin() as conn:
            administration.create_admin(
                conn, app.extensions["accounts"], email=user["email"], password=PASSWORD
            )
    config = SchemathesisConfig.from_dict(CONFIG)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=config)
    sign_in_each_request(schema, app, user["id"], role)
    excuse_what_no_schema_says(schema)

    found: dict[Exception, Found] = {}
    errors: list[str] = []
    stop_reason = None
    requests = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            requests += len(recorder.cases)
            for case_id, node in recorder.cases.items():
                for check in recorder.checks.get(case_id, []):
                    info = check.failure_info
                    if info is None or info.failure in found:
                        continue
                    interaction = recorder.interactions.get(case_id)
                    response = interaction.response if interaction else None
                    found[info.failure] = Found(
                        operation=node.value.operation.label,
                        check=check.name,
                        failure=info.failure,
                        curl=info.code_sample,
                        status=response.status_code if response else None,
                        answer=" ".join(response.text.split())[:300] if response else "",
                    )
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {''.join(traceback.format_exception(event.value))}")
        elif isinstance(event, events.FatalError):
            errors.append("".join(traceback.format_exception(event.exception)))
        elif isinstance(event, events.EngineFinished):
            stop_reason = event.stop_reason
            for failure in event.failures:
                found.setdefault(failure, Found("(whole run)", "after_run", failure, "", None, ""))
    if stop_reason is not StopReason.COMPLETED:
        errors.append(f"The run stopped early: {stop_reason}.")
    found_in_order = sorted(found.values(), key=lambda f: (f.operation, f.check))
    return Outcome(found_in_order, errors, requests)


def summary(outcome: Outcome) -> str:
    """Describe each failure: operation, check, what is wrong, a request that shows it."""
    lines = [
        f"{len(outcome.found)} failures and {len(outcome.errors)} errors in {outcome.requests} "
        f"requests (seed {SEED}, {EXAMPLES} examples per operation)."
    ]
    for number, item in enumerate(outcome.found, 1):
        failure = item.failure
        curl = re.sub(r"Bearer [\w.-]+", "Bearer ACCESS_TOKEN", item.curl)
        lines += [
            "",
            f"{number}. {item.operation} | {item.check} | {failure.code} {failure.title}",
            *(f"   {line}" for line in failure.message.splitlines() if line.strip()),
            f"   {curl}",
            f"   -> {item.status} {item.answer}",
        ]
    for error in outcome.errors:
        lines += ["", f"ERROR {error}"]
    return "\n".join(lines)


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_api_keeps_its_openapi_contract(make_app, wsgi_probes, caplog, role):
    """Schemathesis finds no failure and no error, as staff and as admin."""
    app = make_app()
    # Thousands of request lines would bury the summary; warnings and errors still show.
    caplog.set_level(logging.WARNING, logger="productinfo")

    outcome = run_schemathesis(app, role)

    assert not outcome.found and not outcome.errors, summary(outcome)
