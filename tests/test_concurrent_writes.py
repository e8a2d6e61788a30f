"""Writers at the same moment on SQLite wait their turn: none is refused as "database is locked"."""

import json
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import PASSWORD
from tests.servers import waitress

PUSHES = 20


def post(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_simultaneous_pushes_on_sqlite_all_succeed(app, admin, tmp_path, fetch):
    category = admin.post("/categories.add", json={"name": "Food"}).get_json()["data"]["id"]
    env = {
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "INSTANCE_PATH": str(tmp_path / "served"),
        "BCRYPT_ROUNDS": "4",
        "RATELIMIT_ENABLED": "false",
    }
    with waitress(env, tmp_path / "waitress.log", threads=8) as base:
        _, signed_up = post(
            f"{base}/users.signup", {"email": "ana@example.com", "password": PASSWORD}
        )
        token = signed_up["data"]["access_token"]

        def push(n: int) -> int:
            device = str(uuid.uuid4())
            companies = {"device_id": device, "companies": [{"id": 1, "name": f"Maker {n}"}]}
            status, _ = post(f"{base}/companies.add", companies, token)
            if status != 200:
                return status
            products = [
                {
                    "local_id": i,
                    "name": f"Product {n}-{i}",
                    "barcode": f"SKU{n:02d}X{i:02d}",  # an internal code: no check digit
                    "category_id": category,
                    "company_local_id": 1,
                }
                for i in range(25)
            ]
            status, _ = post(
                f"{base}/products.add", {"device_id": device, "products": products}, token
            )
            return status

        with ThreadPoolExecutor(PUSHES) as pool:
            statuses = list(pool.map(push, range(PUSHES)))

    assert statuses == [200] * PUSHES
    assert len(fetch("SELECT id FROM products")) == PUSHES * 25
