"""/healthz answers 200 when the database and broker are up, 503 naming what is down."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.db import OperationalError
from django.test import Client


@pytest.mark.django_db
def test_it_reports_ok_when_everything_is_up(client: Client) -> None:
    """With the configured database and broker reachable, both checks say ok."""
    response = client.get("/healthz")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_names_an_unreachable_broker(client: Client, settings: pytest.FixtureRequest) -> None:
    """A broker nobody listens on gives 503 with broker: down (a real connection attempt)."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = client.get("/healthz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {"database": "ok", "broker": "down"}


@pytest.mark.django_db
def test_it_names_an_unreachable_database(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database error gives 503 with database: down."""
    from django.db import connection

    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["database"] == "down"


@pytest.mark.django_db
def test_it_only_answers_get(client: Client) -> None:
    """Other methods get 405, not a 500."""
    assert client.post("/healthz").status_code == HTTPStatus.METHOD_NOT_ALLOWED
