"""The error contract: every failure, ours or Flask's, answers in the same envelope."""

import base64
import logging
import os

import pytest

from productinfo import http
from tests.helpers import Auth, assert_error, assert_ok

# JSON nested far deeper than any parser's recursion allows.
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/no.such.endpoint", 404, "not_found"),
        ("DELETE", "/categories.get", 405, "method_not_allowed"),
        ("PUT", "/companies.add", 405, "method_not_allowed"),
        ("GET", "/companies.add", 405, "method_not_allowed"),
        ("POST", "/categories.get", 405, "method_not_allowed"),
        ("OPTIONS", "/categories.get", 405, "method_not_allowed"),
    ],
)
def test_routing_errors(client, method, path, status, code):
    assert_error(client.open(path, method=method), status, code)


def test_method_not_allowed_names_the_allowed_methods(client):
    response = client.delete("/companies.add")
    assert_error(response, 405)
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": '{"companies": [', "content_type": "application/json"}, 400, "malformed_json"),
        ({"data": b"\xff\xfe", "content_type": "application/json"}, 400, "malformed_json"),
        ({"data": "[1, 2]", "content_type": "application/json"}, 422, "validation_failed"),
        ({"data": "<xml/>", "content_type": "application/xml"}, 415, "unsupported_media_type"),
        ({"data": "companies", "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ({"data": DEEP, "content_type": "application/json"}, 400, "malformed_json"),
        ({"data": {"companies": DEEP}}, 422, "validation_failed"),
    ],
)
def test_unreadable_bodies(staff, kwargs, status, code):
    assert_error(staff.post("/companies.add", **kwargs), status, code)


def test_body_over_the_limit_is_413(make_app):
    client = Auth(make_app(MAX_CONTENT_LENGTH=1000, MAX_PHOTO_BYTES=500)).client()
    big = [{"id": i, "name": "x" * 50} for i in range(100)]
    assert_error(client.post("/companies.add", json={"companies": big}), 413, "payload_too_large")
    form = {"companies": "[" + "1," * 1000 + "1]"}
    assert_error(client.post("/companies.add", data=form), 413, "payload_too_large")


def test_unexpected_error_is_a_generic_500_and_is_logged(app, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    with caplog.at_level(logging.ERROR, logger="productinfo"):
        response = app.test_client().get("/boom")
    body = assert_error(response, 500, "internal_error")
    assert "secret detail" not in response.get_data(as_text=True)
    record = next(r for r in caplog.records if r.exc_info)
    assert record.request_id == body["request_id"]
    assert "secret detail" in caplog.text


def test_request_id_is_generated_or_taken_from_the_caller(client):
    generated = client.get("/health")
    assert len(generated.headers["X-Request-ID"]) >= 16
    given = client.get("/nope", headers={"X-Request-ID": "app-1234"})
    assert assert_error(given, 404)["request_id"] == "app-1234"
    unsafe = client.get("/health", headers={"X-Request-ID": "<script>" + "x" * 100})
    assert "<" not in unsafe.headers["X-Request-ID"]


def test_request_id_is_in_the_access_log(staff, caplog):
    with caplog.at_level(logging.INFO, logger="productinfo"):
        response = staff.get("/categories.get?cursor=x")
    line = next(r for r in caplog.records if "/categories.get" in r.getMessage())
    assert line.request_id == response.headers["X-Request-ID"]
    assert "cursor" not in line.getMessage()  # query strings may hold one-time tokens


@pytest.mark.parametrize("path", ["/", "/categories.get", "/nope"])
def test_security_headers_on_json(staff, path):
    headers = staff.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert headers["X-Frame-Options"] == "DENY"


def test_no_cors_by_default(client):
    response = client.get("/categories.get", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_only_for_configured_origins(make_app):
    client = make_app(CORS_ORIGINS=["https://admin.example.com"]).test_client()
    allowed = client.get("/categories.get", headers={"Origin": "https://admin.example.com"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://admin.example.com"
    other = client.get("/categories.get", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = client.options(
        "/companies.add",
        headers={
            "Origin": "https://admin.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert preflight.status_code == 200
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()


def test_head_of_a_read_answers_without_body(staff):
    response = staff.head("/categories.get")
    assert response.status_code == 200
    assert response.get_data() == b""


def test_success_envelope(client):
    data = assert_ok(client.get("/"))
    assert data["name"] == "productinfo"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/categories.getById/3000000000", None),
        ("GET", "/categories.getById/99999999999999999999", None),
        ("GET", "/categories.getById/0", None),
        ("GET", "/products.getById/-1", None),
        (
            "POST",
            "/products.add",
            {"name": "x", "barcode": "B1", "category_id": 3000000000, "company_id": 1},
        ),
        ("POST", "/products.delete", {"id": 2**40}),
        ("POST", "/photo.delete", {"id": 2**31}),
        ("GET", "/products.history?category_id=99999999999", None),
        ("GET", "/products.history?cursor=WzExODA1OTE2MjA3MTc0MTEzMDM0MjRd", None),  # [2**70]
        (
            "GET",
            "/companies.get?cursor=WyJhIiwgMTE4MDU5MTYyMDcxNzQxMTMwMzQyNF0",
            None,
        ),  # ["a", 2**70]
    ],
)
def test_out_of_range_numbers_are_422(staff, method, path, body):
    code = "invalid_cursor" if "cursor=" in path else "validation_failed"
    assert_error(staff.open(path, method=method, json=body), 422, code)


def test_out_of_range_sync_cursor_is_422(staff):
    import base64
    import json

    state = {
        kind: {"below": [2**70, 0], "above": [0, 0], "waiting": []}
        for kind in ("categories", "companies", "products")
    }
    cursor = base64.urlsafe_b64encode(json.dumps(state).encode()).decode()
    assert_error(staff.get(f"/sync.pull?cursor={cursor}"), 422, "invalid_cursor")


def test_json_nested_too_deep_is_a_client_error(client, staff):
    login = client.post("/users.login", data=DEEP, content_type="application/json")
    assert_error(login, 400, "malformed_json")
    cursor = base64.urlsafe_b64encode(DEEP.encode()).decode().rstrip("=")
    assert_error(staff.get(f"/users.history?cursor={cursor}"), 422, "invalid_cursor")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/products.delete", {"id": True}),
        ("/companies.add", {"companies": [{"id": False, "name": "Ifri"}]}),
        ("/products.update", {"id": 1, "category_id": True}),
    ],
)
def test_booleans_are_no_ids(staff, path, body):
    assert_error(staff.post(path, json=body), 422, "validation_failed")


def test_a_multipart_body_that_cannot_be_read_is_400(staff):
    body = b"--b\r\nNone--b--\r\n"
    response = staff.post(
        "/users.logout", data=body, content_type="multipart/form-data; boundary=b"
    )
    assert_error(response, 400, "malformed_body")
    empty = staff.post(
        "/users.logout", data=b"--b--\r\n", content_type="multipart/form-data; boundary=b"
    )
    assert empty.status_code == 200


def test_a_product_change_is_never_null(staff):
    response = staff.post("/products.update", json={"id": 1, "category_id": None})
    assert "category_id" in assert_error(response, 422, "validation_failed")["errors"]


def test_request_ids_differ_between_requests_and_between_forked_processes(client):
    assert len({client.get("/health").headers["X-Request-ID"] for _ in range(3)}) == 3
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a worker forked by a server after the app was imported
        os.write(write, http._request_ids.new().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    in_child = os.read(read, 64).decode()
    in_parent = http._request_ids.new()
    assert in_child[:16] != in_parent[:16]
