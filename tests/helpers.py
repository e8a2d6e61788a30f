"""Helpers shared by the tests: envelope assertions, signed-in clients, a mailbox, waitress."""

from productinfo.auth import admin as administration

PUBLIC_BASE_URL = "https://productinfo.test"
PASSWORD = "tulip-rocket-harbor-57"


def assert_ok(response, status: int = 200):
    """Check the success envelope and return its `data`."""
    body = response.get_json()
    assert response.status_code == status, body
    assert response.mimetype == "application/json"
    assert body["status"] == status
    assert body["message"] == "" or isinstance(body["message"], str)
    assert "data" in body
    return body["data"]


def make_catalogue(admin) -> dict:
    """Add a category and a company as an admin; return them as a product's fields."""
    category = assert_ok(admin.post("/categories.add", json={"name": "Food"}))
    companies = {"companies": [{"id": 1, "name": "Ifri"}]}
    company = assert_ok(admin.post("/companies.add", json=companies))["mapping"]["1"]
    return {"category_id": category["id"], "company_id": company}


def add_product(client, catalogue: dict, barcode: str, name: str | None = None) -> dict:
    """Add a product through the API and return it."""
    body = {"name": name or f"Product {barcode}", "barcode": barcode, **catalogue}
    return assert_ok(client.post("/products.add", json=body))


def pushed_product(local_id, barcode: str, category: int, **fields) -> dict:
    """Return a product as a device pushes it, named after its local id."""
    return {
        "local_id": local_id,
        "name": f"Product {local_id}",
        "barcode": barcode,
        "category_id": category,
        **fields,
    }


def admin_with_product(app, barcode: str = "X1") -> tuple:
    """Sign up an admin on `app`, who adds a product; return (client, product id)."""
    client = Auth(app).client("admin", email="boss@example.com")
    return client, add_product(client, make_catalogue(client), barcode)["id"]


def pull_all(get, cursor=None):
    """Pull until nothing more waits, with `get(query) -> body` calling /sync.pull.

    Return ({kind: {id: record}}, {kind: {ids deleted}}, the last cursor).
    """
    changed = {"categories": {}, "companies": {}, "products": {}}
    deleted = {kind: set() for kind in changed}
    while True:
        body = get({"cursor": cursor} if cursor else {})
        assert body["status"] == 200, body
        for kind, changes in body["data"].items():
            changed[kind].update({record["id"]: record for record in changes["changed"]})
            deleted[kind].update(changes["deleted"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return changed, deleted, cursor


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


class Auth:
    """Sign people up and in, and hand out clients that call the API as them."""

    def __init__(self, app):
        self.app = app
        self.count = 0

    def signup(self, email=None, password=PASSWORD, name=None, client=None):
        self.count += 1
        email = email or f"user{self.count}@example.com"
        body = {"email": email, "password": password, **({"name": name} if name else {})}
        response = (client or self.app.test_client()).post("/users.signup", json=body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["data"]

    def login(self, email, password=PASSWORD):
        response = self.app.test_client().post(
            "/users.login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["data"]

    def client(self, role="staff", **signup):
        """Return a test client signed in as a new user of this role; `.user` describes them."""
        user = self.signup(**signup)
        if role == "admin":
            with self.app.extensions["db"].engine.begin() as conn:
                administration.create_admin(
                    conn, self.app.extensions["accounts"], email=user["email"], password=PASSWORD
                )
            # The address was not verified: create_admin took the account back, ending its
            # sessions. Sign in again, as the operator would.
            user = self.login(user["email"], signup.get("password", PASSWORD))
        client = self.app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {user['access_token']}"
        client.user = user
        return client


class Mailbox:
    """A real SMTP server on localhost that keeps what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        import email

        message = email.message_from_bytes(envelope.content)
        self.messages.append(message)
        return "250 OK"

    def links(self, to: str) -> list[str]:
        """Return the links of the messages sent to `to`, oldest first."""
        return [
            line.strip()
            for message in self.messages
            if message["To"] == to
            for line in message.get_payload(decode=True).decode().splitlines()
            if line.strip().startswith("https://")
        ]
