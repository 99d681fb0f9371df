"""Shared by the coach API's tests (/api/v1/me/): the coach's personal access tokens, and
requests that send one as ``Authorization: Bearer``."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from coaching.models import ApiToken, Coach
from coaching.services import api_token_create


@pytest.fixture
def write_key(coach: Coach) -> str:
    """A token of the coach that may change things."""
    return api_token_create(coach=coach, name="CRM", scope=ApiToken.Scope.WRITE)[1]


@pytest.fixture
def read_key(coach: Coach) -> str:
    """A token of the coach that may only read."""
    return api_token_create(coach=coach, name="Sheet", scope=ApiToken.Scope.READ)[1]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def get(client: Client, url: str, key: str, params: dict[str, object] | None = None):
    return client.get(url, params or {}, headers=auth(key))


def post(client: Client, url: str, key: str, body: object = None):
    data = json.dumps(body) if body is not None else ""
    return client.post(url, data=data, content_type="application/json", headers=auth(key))
