"""Assertions on the response envelope, shared by every test module."""


def assert_ok(response, status: int = 200):
    """Check the success envelope and return its `data`."""
    body = response.get_json()
    assert response.status_code == status, body
    assert response.mimetype == "application/json"
    assert body["status"] == status
    assert body["message"] == "" or isinstance(body["message"], str)
    assert "data" in body
    return body["data"]


def assert_error(response, status: int, code: str | None = None) -> dict:
    """Check the error envelope: the status twice, a sentence, a code, field errors, an id."""
    body = response.get_json()
    assert response.status_code == status, body
    assert response.mimetype == "application/json"
    assert set(body) >= {"status", "message", "code", "errors", "request_id"}
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.get_data(as_text=True)
    if code is not None:
        assert body["code"] == code, body
    return body
