"""The coach's subscriber list: filters, pages, and a CSV export that spreadsheets can't be tricked by."""

from __future__ import annotations

import csv
import io
from http import HTTPStatus

import pytest
from django.test import Client

from coaching.models import Coach
from community.dashboard import csv_safe
from community.models import Subscriber
from tests.factories import CoachFactory

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_it_exports_every_subscriber_with_their_consent(
    coach_client: Client, coach: Coach, subscriber
) -> None:
    subscriber("ann@example.com", first_name="Ann")
    subscriber("bob@example.com", status=Subscriber.Status.PENDING)
    subscriber("cy@example.com", status=Subscriber.Status.UNSUBSCRIBED)
    subscriber("stranger@example.com", coach=CoachFactory())
    response = coach_client.get("/dashboard/subscribers/export.csv")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="subscribers-ada-')
    rows = read_csv(response)
    assert rows[0] == [
        "email",
        "first_name",
        "status",
        "source",
        "consented_at",
        "consent_text",
        "confirmed_at",
        "unsubscribed_at",
        "created_at",
    ]
    by_email = {row[0]: row for row in rows[1:]}
    assert set(by_email) == {"ann@example.com", "bob@example.com", "cy@example.com"}
    assert by_email["ann@example.com"][1:4] == ["Ann", "confirmed", "form"]
    assert by_email["ann@example.com"][5] == "Yes, email me."
    assert by_email["bob@example.com"][2] == "pending"
    assert by_email["bob@example.com"][6] == ""


def test_it_exports_only_the_filtered_list(coach_client: Client, coach: Coach, subscriber) -> None:
    subscriber("ann@example.com")
    subscriber("bob@example.com", status=Subscriber.Status.PENDING)
    rows = read_csv(coach_client.get("/dashboard/subscribers/export.csv?status=pending"))
    assert [row[0] for row in rows[1:]] == ["bob@example.com"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("https://evil.example","click")', '\'=HYPERLINK("https://evil.example","click")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Ann", "Ann"),
        ("a=b", "a=b"),
        (None, ""),
    ],
)
def test_it_defuses_formulas_in_cells(value, expected) -> None:
    assert csv_safe(value) == expected


def test_it_defuses_a_formula_typed_as_a_first_name(coach_client: Client, coach: Coach, subscriber) -> None:
    subscriber("evil@example.com", first_name='=HYPERLINK("https://evil.example")')
    row = read_csv(coach_client.get("/dashboard/subscribers/export.csv"))[1]
    assert row[1] == '\'=HYPERLINK("https://evil.example")'


def test_it_lists_filters_and_pages_subscribers(coach_client: Client, coach: Coach, subscriber) -> None:
    for n in range(55):
        subscriber(f"reader{n:02d}@example.com")
    subscriber("waiting@example.com", status=Subscriber.Status.PENDING)
    html = coach_client.get("/dashboard/subscribers/").content.decode()
    assert "<strong>55</strong> confirmed" in html
    assert "<strong>1</strong> waiting for confirmation" in html
    assert "Page 1 of 2" in html
    pending = coach_client.get("/dashboard/subscribers/?status=pending").content.decode()
    assert "waiting@example.com" in pending
    assert "reader00@example.com" not in pending
    assert 'href="/dashboard/subscribers/export.csv?status=pending"' in pending
    search = coach_client.get("/dashboard/subscribers/?q=reader07").content.decode()
    assert "reader07@example.com" in search
    assert "reader08@example.com" not in search
    second = coach_client.get("/dashboard/subscribers/?page=2").content.decode()
    assert "Page 2 of 2" in second
    # Bad filter values fall back to everyone instead of failing.
    assert coach_client.get("/dashboard/subscribers/?status=bogus&page=zz").status_code == HTTPStatus.OK


def test_it_shows_no_one_elses_subscribers(client: Client, coach: Coach, subscriber) -> None:
    subscriber("ann@example.com")
    other = CoachFactory(slug="other")
    client.force_login(other.user)
    assert "ann@example.com" not in client.get("/dashboard/subscribers/").content.decode()
    assert len(read_csv(client.get("/dashboard/subscribers/export.csv"))) == 1


def test_it_sends_visitors_to_sign_in(client: Client, coach: Coach) -> None:
    for path in ("/dashboard/subscribers/", "/dashboard/subscribers/export.csv", "/dashboard/broadcasts/"):
        response = client.get(path)
        assert response.status_code == HTTPStatus.FOUND
        assert "/accounts/login/" in response["Location"]
