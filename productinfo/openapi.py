"""The OpenAPI document, built from the models that validate each endpoint, and its docs page."""

import functools
import re
from pathlib import Path

from flask import Blueprint, Flask, current_app, send_from_directory, url_for
from pydantic import BaseModel, TypeAdapter
from werkzeug.exceptions import NotFound

from productinfo import __version__
from productinfo.http import FORM_TYPES

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"

# The docs page is Swagger UI, served from the deployment itself: it works offline, and the
# files are pinned with hashes in uv.lock. flask-swagger-ui ships the files of the npm package
# swagger-ui-dist unchanged; only those files are used, not its blueprint (an inline script).
SWAGGER_UI_FILES = ("swagger-ui.css", "swagger-ui-bundle.js")
# The validator would send the document to validator.swagger.io for a badge.
DOCS_SCRIPT = """SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", validatorUrl: null});
"""
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Product information API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{css}"></head>
<body><div id="ui"></div>
<script src="{bundle}"></script>
<script src="{script}"></script>
</body></html>"""
# Swagger UI sets style attributes, hence 'unsafe-inline' for styles; scripts only from here.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)

ERROR_SCHEMA = {
    "type": "object",
    "required": ["status", "message", "code", "errors", "request_id"],
    "properties": {
        "status": {"type": "integer", "examples": [422]},
        "message": {"type": "string", "examples": ["Invalid companies[0].name: ..."]},
        "code": {"type": "string", "examples": ["validation_failed"]},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "What is wrong with each invalid field.",
        },
        "request_id": {"type": "string"},
        "data": {"description": "For a conflict: the record in the way (409 barcode_taken...)."},
    },
}


def build(app: Flask) -> dict:
    """Describe every declared endpoint of `app` as an OpenAPI 3.1 document."""
    components = {"Error": ERROR_SCHEMA}
    paths: dict = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        spec = getattr(view, "spec", None)
        if spec is None:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        paths.setdefault(path, {})[spec.method.lower()] = _operation(rule, view, spec, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Product information API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The `access_token` from /users.login, /users.signup "
                    "or /users.refresh.",
                }
            },
        },
    }


def _operation(rule, view, spec, components: dict) -> dict:
    summary, _, description = (view.__doc__ or "").strip().partition("\n")
    operation = {
        "operationId": rule.endpoint.split(".")[-1],
        "summary": summary,
        "tags": [rule.endpoint.split(".")[0]],
        "parameters": [
            *_parameters(spec.path, "path", components),
            *_parameters(spec.query, "query", components),
        ],
        "responses": {
            "200": {
                "description": "Success.",
                "content": {
                    # A file (a photo) has no envelope to declare.
                    **(
                        {"application/json": {"schema": _envelope(spec, components)}}
                        if spec.response is not None or not spec.media
                        else {}
                    ),
                    **{media: {"schema": {"type": "string"}} for media in spec.media},
                },
            },
            "default": {
                "description": "An error, in the error envelope.",
                "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
            },
        },
    }
    if description.strip():
        operation["description"] = " ".join(description.split())
    if spec.access == "optional":
        operation["security"] = [{}, {"bearerAuth": []}]
    elif spec.access != "public":
        operation["security"] = [{"bearerAuth": []}]
    if spec.access == "admin":
        operation["summary"] += " (admin only)"
    if spec.body is not None or spec.files:
        operation["requestBody"] = _request_body(spec, components)
    return operation


def _schema(annotation, components: dict, mode: str = "serialization") -> dict:
    """Return the JSON schema of a type, moving named models into `components`."""
    schema = TypeAdapter(annotation).json_schema(ref_template=REF, mode=mode)
    components.update(schema.pop("$defs", {}))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        components[annotation.__name__] = schema
        return {"$ref": REF.format(model=annotation.__name__)}
    return schema


def _parameters(model, location: str, components: dict) -> list:
    if model is None:
        return []
    schema = TypeAdapter(model).json_schema(ref_template=REF, mode="validation")
    components.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": location,
            "required": location == "path" or name in required,
            "schema": {
                k: v for k, v in not_null(prop).items() if k not in ("description", "title")
            },
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema["properties"].items()
    ]


def _envelope(spec, components: dict) -> dict:
    properties = {
        "status": {"type": "integer", "examples": [200]},
        "message": {"type": "string"},
        "data": _schema(spec.response, components) if spec.response is not None else {},
    }
    if spec.paginated is True:
        properties["next_cursor"] = {
            "type": ["string", "null"],
            "description": "Pass as `cursor` for the next page; null at the end.",
        }
    elif spec.paginated:
        properties.update(spec.paginated)
    return {"type": "object", "required": list(properties), "properties": properties}


def _request_body(spec, components: dict) -> dict:
    body = _schema(spec.body, components, mode="validation") if spec.body else {"type": "object"}
    members, encoding = _form(body, components)
    form = members[0] if len(members) == 1 else {"oneOf": members}
    if spec.files:
        # Files at the top, where clients look for the parts to send as files.
        files = {name: {"type": "string", "format": "binary"} for name in spec.files}
        form = {"allOf": [form], "properties": files, "required": list(spec.files)}
    content = {"multipart/form-data": {"schema": form}}
    if not spec.files:
        content = {
            "application/json": {"schema": body},
            **content,
            "application/x-www-form-urlencoded": {"schema": form},
        }
    if encoding:
        for media in FORM_TYPES:
            if media in content:
                content[media]["encoding"] = encoding
    return {
        "required": bool(spec.files) or _requires_something(body, components),
        "description": "JSON, multipart or urlencoded. In a form, a list or an object is a JSON "
        "string, and a field that may be null in JSON is left out instead.",
        "content": content,
    }


# What a model's schema says of the whole body, kept in its form version.
_BODY_KEYWORDS = (
    "type",
    "title",
    "description",
    "required",
    "additionalProperties",
    "minProperties",
    "anyOf",
    "dependentRequired",
)


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _form(schema: dict, components: dict) -> tuple[list[dict], dict]:
    """Return the form versions of a body schema (one per shape it may take), and the
    encoding of their JSON fields.

    A form carries text: no null (a field that may be null is left out instead), and a
    list or an object as a JSON string, the form field's content type. A body that holds
    exactly one of two fields (`oneOf` of `required`) becomes one shape per field.
    """
    schema = _resolve(schema, components)
    if "properties" not in schema and "oneOf" in schema:
        shapes, encoding = [], {}
        for member in schema["oneOf"]:
            member_shapes, member_encoding = _form(member, components)
            shapes += member_shapes
            encoding.update(member_encoding)
        return shapes, encoding
    form = {key: schema[key] for key in _BODY_KEYWORDS if key in schema}
    form["properties"], encoding = {}, {}
    for name, prop in schema.get("properties", {}).items():
        prop = not_null(prop) if isinstance(prop, dict) else prop
        if isinstance(prop, dict) and _resolve(prop, components).get("type") in ("array", "object"):
            encoding[name] = {"contentType": "application/json"}
        form["properties"][name] = prop
    branches = [branch["required"] for branch in schema.get("oneOf", [])]
    if not branches:
        return [form], encoding
    shapes = []
    for names in branches:
        shape = {**form, "required": [*form.get("required", []), *names]}
        others = {name for other in branches if other != names for name in other} - set(names)
        shape["properties"] = {**form["properties"], **dict.fromkeys(sorted(others), False)}
        shapes.append(shape)
    return shapes, encoding


def not_null(schema: dict) -> dict:
    """Return a property's schema without its null alternative and its null default."""
    schema = dict(schema)
    choices = schema.get("anyOf")
    if choices and {"type": "null"} in choices:
        rest = [choice for choice in choices if choice != {"type": "null"}]
        del schema["anyOf"]
        schema.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    return schema


def _requires_something(schema: dict, components: dict) -> bool:
    """Tell whether a body schema admits no empty body."""
    schema = _resolve(schema, components)
    if "oneOf" in schema and "properties" not in schema:
        return all(_requires_something(member, components) for member in schema["oneOf"])
    return any(key in schema for key in ("required", "minProperties", "anyOf", "oneOf"))


@bp.get("/openapi.json")
def openapi_document():
    """Serve the OpenAPI document."""
    document = current_app.extensions.get("openapi")
    if document is None:
        document = current_app.extensions["openapi"] = build(current_app)
    return current_app.response_class(current_app.json.dumps(document), mimetype="application/json")


@bp.get("/docs")
def docs():
    """Serve the interactive API documentation."""
    version, _ = _swagger_ui()
    html = DOCS_PAGE.format(
        css=url_for(".swagger_ui_file", version=version, name="swagger-ui.css"),
        bundle=url_for(".swagger_ui_file", version=version, name="swagger-ui-bundle.js"),
        script=url_for(".docs_script"),
    )
    response = current_app.response_class(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = DOCS_CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/docs/docs.js")
def docs_script():
    """Serve the script that starts Swagger UI on the OpenAPI document."""
    response = current_app.response_class(DOCS_SCRIPT, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/docs/swagger-ui/<version>/<name>")
def swagger_ui_file(version: str, name: str):
    """Serve a file of Swagger UI; its version is in the path, so it may be cached for a year."""
    installed, folder = _swagger_ui()
    if version != installed or name not in SWAGGER_UI_FILES:
        raise NotFound()
    response = send_from_directory(folder, name, max_age=365 * 24 * 3600)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


@functools.cache
def _swagger_ui() -> tuple[str, Path]:
    """Return the version of the installed Swagger UI and the folder of its files."""
    import flask_swagger_ui  # on the first visit to /docs only: cold starts stay small

    folder = Path(flask_swagger_ui.__file__).parent / "dist"
    return (folder / "VERSION").read_text().strip().removeprefix("v"), folder
