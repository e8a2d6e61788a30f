import re

import pytest
from openapi_spec_validator import validate

from productinfo.catalog.schemas import MAX_COMPANIES_PER_REQUEST


@pytest.fixture
def document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_document_is_valid_openapi(document):
    validate(document)


def test_every_declared_endpoint_is_documented(app, document):
    declared = {
        (re.sub(r"<(?:path:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if hasattr(app.view_functions[rule.endpoint], "spec")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert declared == documented
    assert ("/companies.add", "post") in documented
    assert ("/categories.getById/{category_id}", "get") in documented


def test_request_schema_comes_from_the_validating_model(document):
    body = document["paths"]["/companies.add"]["post"]["requestBody"]
    assert set(body["content"]) == {
        "application/json",
        "multipart/form-data",
        "application/x-www-form-urlencoded",
    }
    schema = document["components"]["schemas"]["NewCompanies"]
    assert schema["properties"]["companies"]["maxItems"] == MAX_COMPANIES_PER_REQUEST
    item = document["components"]["schemas"]["NewCompany"]
    assert item["properties"]["name"]["maxLength"] == 200
    assert set(item["required"]) == {"id", "name"}


def test_list_endpoints_document_paging(document):
    operation = document["paths"]["/companies.get"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 200
    assert params["cursor"]["schema"] == {"type": "string"}
    assert "Opaque" in params["cursor"]["description"]
    envelope = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert "next_cursor" in envelope["properties"]


def test_errors_are_documented(document):
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"status", "message", "code", "errors", "request_id"}


def test_protected_endpoints_declare_bearer_auth(document):
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    paths = document["paths"]
    assert paths["/companies.get"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in paths["/users.login"]["post"]
    assert "security" not in paths["/health"]["get"]
    assert paths["/users.setRole"]["post"]["summary"].endswith("(admin only)")


def test_special_answers_are_documented(document):
    paths = document["paths"]
    assert paths["/users.logout"]["post"]["security"] == [{}, {"bearerAuth": []}]
    assert paths["/users.logout"]["post"]["requestBody"]["required"] is False
    assert "text/csv" in paths["/products.export"]["get"]["responses"]["200"]["content"]
    pull = paths["/sync.pull"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"next_cursor", "has_more"} <= set(pull["properties"])
    assert "data" in document["components"]["schemas"]["Error"]["properties"]


LISTS = [
    "/categories.get",
    "/companies.get",
    "/products.history",
    "/products.search?q=a",
    "/users.history",
    "/sync.pull",
]


@pytest.mark.parametrize("path", LISTS)
def test_an_empty_cursor_is_the_first_page(staff, path):
    joiner = "&" if "?" in path else "?"
    first = staff.get(path).get_json()
    assert staff.get(f"{path}{joiner}cursor=").get_json()["data"] == first["data"]


def test_forms_are_described_as_forms(document):
    """A form carries a batch as one field of JSON text, and has no null."""
    content = document["paths"]["/companies.add"]["post"]["requestBody"]["content"]
    for media in ("multipart/form-data", "application/x-www-form-urlencoded"):
        assert content[media]["encoding"] == {"companies": {"contentType": "application/json"}}
    upload = document["paths"]["/photo.upload"]["post"]["requestBody"]["content"]
    form = upload["multipart/form-data"]["schema"]
    assert form["properties"]["file"] == {"type": "string", "format": "binary"}
    shapes = form["allOf"][0]["oneOf"]
    assert all('"type": "null"' not in str(shape).replace("'", '"') for shape in shapes)
    # Exactly one of the product's server id and its local id: one shape each.
    pushed = [shape for shape in shapes if "device_id" in shape["required"]]
    assert sorted(tuple(sorted(shape["required"])) for shape in pushed) == [
        ("device_id", "local_id", "product_id"),
        ("device_id", "local_id", "product_local_id"),
    ]


def test_the_link_pages_are_documented(client, document):
    for path in ("/users.signup.verify", "/users.resetpass", "/users.email.undo"):
        assert set(document["paths"][path]) == {"get", "post"}
        assert "text/html" in document["paths"][path]["get"]["responses"]["200"]["content"]
        allowed = client.options(path).headers["Allow"]
        assert allowed == "GET, POST"


def test_addresses_are_documented_as_emails(document):
    schema = document["components"]["schemas"]["Signup"]["properties"]["email"]
    assert schema["format"] == "email"
