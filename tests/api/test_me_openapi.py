"""The coach API (/api/v1/me/) in the OpenAPI schema (issue 14): each operation states its
token (the bearer scheme Swagger UI's Authorize button offers), its error answers and an
example of every body it takes and answers with; the examples fit their own schemas, and
the documented errors are the API's real words."""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import pkgutil
import re
from collections import defaultdict
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import jsonschema_rs
import pytest
from django.test import Client
from pydantic import BaseModel

import api
from api.auth import READ_ONLY, UNAUTHORIZED
from coaching.models import Coach
from tests.api.conftest import auth, get, post
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]

SCHEMA_URL = "/api/v1/openapi.json"
ME = "/api/v1/me"
METHODS = {"get", "put", "post", "patch", "delete"}
# What an error answer is: {"detail": "..."}, pydantic's list of field errors, or the clashes.
ERROR_SCHEMAS = {"ErrorOut", "ValidationErrorOut", "ClashesOut", "BookingConflictOut"}
# Answers whose words the schema gives; a 422's ``detail`` depends on the field (its schema shows the shape).
ERRORS_WITH_EXAMPLES = {"400", "401", "403", "404", "409", "429"}


@pytest.fixture
def openapi(client: Client) -> dict[str, Any]:
    response = client.get(SCHEMA_URL)
    assert response.status_code == HTTPStatus.OK
    return response.json()


def me_operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        if path == ME or path.startswith(f"{ME}/"):
            for method, operation in item.items():
                if method in METHODS:
                    yield method, path, operation


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = doc["components"]["schemas"][name]
    return schema


def has_example(doc: dict[str, Any], media: dict[str, Any]) -> bool:
    """An example in the media type, or in the schema it names; ``X | None`` (anyOf) needs
    one in each branch that is not null."""
    if "example" in media or "examples" in media:
        return True

    def schema_has(schema: dict[str, Any]) -> bool:
        schema = resolve(doc, schema)
        if "example" in schema or schema.get("examples"):
            return True
        branches = [b for b in schema.get("anyOf", schema.get("oneOf", [])) if b.get("type") != "null"]
        return bool(branches) and all(schema_has(b) for b in branches)

    return schema_has(media.get("schema", {}))


def examples_of(doc: dict[str, Any], media: dict[str, Any]) -> list[Any]:
    """Every example a media type shows, its schema's (through $ref and anyOf) included."""
    found = []
    if "example" in media:
        found.append(media["example"])
    found += [example["value"] for example in media.get("examples", {}).values() if "value" in example]
    pending = [media.get("schema", {})]
    while pending:
        schema = resolve(doc, pending.pop())
        found += schema.get("examples", [])
        pending += schema.get("anyOf", []) + schema.get("oneOf", [])
    return found


def json_media(part: dict[str, Any]) -> dict[str, Any] | None:
    return part.get("content", {}).get("application/json")


def missing(doc: dict[str, Any]) -> list[str]:
    """What the schema leaves out for the coach API, one line each; empty when nothing is."""
    schemes = doc.get("components", {}).get("securitySchemes", {})
    bearer = {
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "http" and scheme.get("scheme") == "bearer"
    }
    problems = [] if bearer else ["components.securitySchemes: no http bearer scheme"]
    operations = list(me_operations(doc))
    if not operations:
        problems.append(f"no operation under {ME}")
    for method, path, operation in operations:
        where = f"{method.upper()} {path}"
        if not any(set(requirement) & bearer for requirement in operation.get("security", [])):
            problems.append(f"{where}: no bearer security")
        responses = operation["responses"]
        if "401" not in responses:
            problems.append(f"{where}: no 401")
        body = json_media(operation.get("requestBody", {}))
        if body is not None and not has_example(doc, body):
            problems.append(f"{where}: request body without an example")
        for status, response in responses.items():
            media = json_media(response)
            if status.startswith("2") and media is not None and not has_example(doc, media):
                problems.append(f"{where}: {status} without an example")
            if status.startswith("4"):
                ref = (media or {}).get("schema", {}).get("$ref", "")
                if ref.removeprefix("#/components/schemas/") not in ERROR_SCHEMAS:
                    problems.append(f"{where}: {status} without an error schema")
                elif status in ERRORS_WITH_EXAMPLES and not has_example(doc, media or {}):
                    problems.append(f"{where}: {status} without an example")
    return problems


def test_every_coach_operation_has_its_token_errors_and_examples(openapi: dict[str, Any]) -> None:
    assert missing(openapi) == []
    # Every resource of the coach API is there (a router left unmounted would pass the loop).
    paths = {path for _, path, _ in me_operations(openapi)}
    assert {
        f"{ME}/bookings",
        f"{ME}/webhooks",
        f"{ME}/offerings",
        f"{ME}/weekly-hours",
        f"{ME}/date-overrides",
        f"{ME}/clients",
    } <= paths


@pytest.mark.parametrize(
    ("doctor", "expected"),
    [
        # A shape's example removed: its request body, then an answer, lose theirs.
        (
            lambda doc: doc["components"]["schemas"]["CoachRescheduleIn"].pop("examples"),
            "reschedule: request body",
        ),
        (
            lambda doc: doc["components"]["schemas"]["ClientsOut"].pop("examples"),
            "GET /api/v1/me/clients: 200",
        ),
        # One branch of ``ReasonIn | None`` without an example is not enough.
        (lambda doc: doc["components"]["schemas"]["ReasonIn"].pop("examples"), "cancel: request body"),
        (lambda doc: doc["paths"][f"{ME}/clients"]["get"].pop("security"), "clients: no bearer security"),
        (lambda doc: doc["paths"][f"{ME}/clients"]["get"]["responses"].pop("401"), "clients: no 401"),
        (lambda doc: doc["components"]["securitySchemes"].clear(), "no http bearer scheme"),
        (
            lambda doc: doc["paths"][f"{ME}/webhooks"]["post"]["responses"]["403"]["content"][
                "application/json"
            ].pop("example"),
            "POST /api/v1/me/webhooks: 403 without an example",
        ),
    ],
)
def test_the_check_fails_when_something_is_left_out(
    openapi: dict[str, Any], doctor: Any, expected: str
) -> None:
    doc = copy.deepcopy(openapi)
    doctor(doc)
    assert any(expected in problem for problem in missing(doc)), missing(doc)


def test_every_example_fits_its_schema(openapi: dict[str, Any]) -> None:
    """An example that breaks its own schema would mislead whoever copies it."""
    checked = 0
    for method, path, operation in me_operations(openapi):
        parts = [("request body", operation.get("requestBody", {}))]
        parts += list(operation["responses"].items())
        for name, part in parts:
            media = json_media(part)
            if media is None:
                continue
            root = {**media["schema"], "components": openapi["components"]}
            validator = jsonschema_rs.Draft202012Validator(root)
            for example in examples_of(openapi, media):
                errors = [error.message for error in validator.iter_errors(example)]
                assert errors == [], (method, path, name, example)
                checked += 1
    assert checked > 50


def test_no_two_shapes_share_a_name() -> None:
    """The schema names a component by its class alone: a second ``OfferingOut`` in another
    module would silently replace the first one everywhere it is used."""
    classes: dict[str, set[type]] = defaultdict(set)
    for module in pkgutil.iter_modules(api.__path__):
        loaded = importlib.import_module(f"api.{module.name}")
        for _, member in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(member, BaseModel) and member.__module__.startswith("api."):
                classes[member.__name__].add(member)
    assert len(classes) > 30
    assert {name: found for name, found in classes.items() if len(found) > 1} == {}


def test_the_bearer_scheme_says_how_to_send_a_token(openapi: dict[str, Any]) -> None:
    [(name, scheme)] = openapi["components"]["securitySchemes"].items()
    assert scheme == {"type": "http", "scheme": "bearer", "description": scheme["description"]}
    assert "Authorization: Bearer cc_" in scheme["description"]
    # The public API needs no token: only /me asks Swagger UI for one.
    assert "security" not in openapi["paths"]["/api/v1/coaches/{coach}"]["get"]
    assert openapi["paths"][f"{ME}/bookings"]["get"]["security"] == [{name: []}]


def _example(openapi: dict[str, Any], method: str, path: str, status: str) -> Any:
    return openapi["paths"][path][method]["responses"][status]["content"]["application/json"]["example"]


def test_the_documented_errors_are_what_the_api_answers(
    client: Client, coach: Coach, openapi: dict[str, Any], read_key: str, write_key: str, settings: Any
) -> None:
    """401, 403, 404 and 400 as documented, word for word; 429 as documented but the seconds."""
    bookings, webhook = f"{ME}/bookings", f"{ME}/webhooks/{{endpoint_id}}"
    unauthorized = client.get(bookings)
    assert unauthorized.status_code == HTTPStatus.UNAUTHORIZED
    assert unauthorized.json() == _example(openapi, "get", bookings, "401") == {"detail": UNAUTHORIZED}
    read_only = post(client, f"{ME}/webhooks", read_key, {"url": "https://hooks.example.com/in"})
    assert read_only.status_code == HTTPStatus.FORBIDDEN
    assert read_only.json() == _example(openapi, "post", f"{ME}/webhooks", "403") == {"detail": READ_ONLY}
    not_found = get(client, f"{ME}/webhooks/999999", write_key)
    assert not_found.status_code == HTTPStatus.NOT_FOUND
    assert not_found.json() == _example(openapi, "get", webhook, "404")
    no_offering = client.patch(
        f"{ME}/offerings/nope", data="{}", content_type="application/json", headers=auth(write_key)
    )
    assert no_offering.json() == _example(openapi, "patch", f"{ME}/offerings/{{slug}}", "404")
    not_json = client.post(
        f"{bookings}/K7QW2M9XPA/cancel",
        data="{not json",
        content_type="application/json",
        headers=auth(write_key),
    )
    assert not_json.status_code == HTTPStatus.BAD_REQUEST
    assert not_json.json() == _example(openapi, "post", f"{bookings}/{{reference}}/cancel", "400")

    settings.RATE_LIMITS_ENABLED = True
    settings.API_TOKEN_RATE = "1/m"
    get(client, bookings, read_key)
    limited = get(client, bookings, read_key)
    assert limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
    documented = openapi["paths"][bookings]["get"]["responses"]["429"]
    assert "Retry-After" in documented["headers"] and int(limited["Retry-After"]) > 0
    pattern = re.escape(documented["content"]["application/json"]["example"]["detail"]).replace("12", r"\d+")
    assert re.fullmatch(pattern, limited.json()["detail"])


def test_the_docs_page_offers_the_schema_to_swagger_ui_under_our_csp(client: Client) -> None:
    """Swagger UI loads our own script files (the CSP allows no inline script) and reads the
    schema the tests above check; its Authorize button comes from the bearer scheme."""
    response = client.get("/api/v1/docs")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts
    for attributes, body in scripts:
        # Either a file of ours, or data (the settings), which the browser does not run.
        assert re.search(r'src="/static/', attributes) or 'type="application/json"' in attributes, attributes
        if 'type="application/json"' in attributes:
            swagger_settings = json.loads(body)
    assert swagger_settings["url"] == SCHEMA_URL
