"""The broadcast preview shows the greeting every copy starts with."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from coaching.models import Coach
from community.models import Broadcast

pytestmark = pytest.mark.django_db

GREETING = re.compile(r"<p[^>]*>Hello <mark>first name</mark>,</p>")


def _pane(page: str) -> str:
    return page.split('class="preview-pane prose"', 1)[1]


def test_the_editors_preview_starts_with_the_greeting(coach_client: Client) -> None:
    page = coach_client.post(
        "/dashboard/broadcasts/new/",
        {"subject": "News", "body_markdown": "Fresh **words**", "action": "preview"},
    ).content.decode()

    pane = _pane(page)
    assert GREETING.search(pane)
    assert pane.index("first name") < pane.index("<strong>words</strong>")


def test_the_drafts_preview_starts_with_the_greeting(coach_client: Client, coach: Coach) -> None:
    draft = Broadcast.objects.create(coach=coach, subject="News", body_markdown="Fresh **words**")

    pane = _pane(coach_client.get(f"/dashboard/broadcasts/{draft.pk}/").content.decode())

    assert GREETING.search(pane)
    assert pane.index("first name") < pane.index("<strong>words</strong>")
