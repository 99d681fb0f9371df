"""The coach's webhook pages in the dashboard: endpoints (add with the secret shown once,
rotate, test, pause, resume, delete) and each endpoint's deliveries with a resend.

Sends are enqueued on commit, which these tests' transactions never reach unless a test runs
the callbacks itself; ``webhooks.post`` is replaced by a recorder either way, so nothing here
goes to the network.
"""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from booking import webhooks
from booking.models import WebhookDelivery, WebhookEndpoint
from booking.services import webhook_endpoint_create, webhook_endpoint_pause
from booking.views.webhooks import DELIVERIES_PER_PAGE, ENDPOINTS_PER_PAGE, events_summary
from coaching.models import Coach
from tests.factories import BookingFactory, CoachFactory, OfferingFactory
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

LIST = "/dashboard/webhooks/"
NEW = "/dashboard/webhooks/new/"
URL = "https://hooks.example.com/in/s3cr3t-path"
Status = WebhookDelivery.Status


@pytest.fixture(autouse=True)
def posts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stands in for the network: records each POST's address and answers 200."""
    sent: list[str] = []

    def post(url: str, body: str, headers: dict) -> int:
        sent.append(url)
        return 200

    monkeypatch.setattr(webhooks, "post", post)
    return sent


@pytest.fixture
def endpoint(coach: Coach) -> WebhookEndpoint:
    return webhook_endpoint_create(coach=coach, url=URL, event_types=[], description="CRM")[0]


def page(endpoint: WebhookEndpoint, action: str = "") -> str:
    return f"/dashboard/webhooks/{endpoint.pk}/" + (f"{action}/" if action else "")


def resend_url(delivery: WebhookDelivery) -> str:
    return f"/dashboard/webhooks/{delivery.endpoint_id}/deliveries/{delivery.pk}/resend/"


def make_delivery(endpoint: WebhookEndpoint, **fields: object) -> WebhookDelivery:
    values = {
        "event_type": webhooks.WEBHOOK_TEST,
        "webhook_id": webhooks.new_webhook_id(),
        "payload": webhooks.ping_payload(endpoint, now=NOW),
        "next_attempt_at": NOW,
        **fields,
    }
    return WebhookDelivery.objects.create(endpoint=endpoint, **values)


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def new_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "url": URL,
        "event_types": ["booking.created", "booking.cancelled"],
        "description": "CRM",
    }
    data.update(overrides)
    return data


# --- The list ------------------------------------------------------------------------------


def test_the_empty_list_says_so_and_the_nav_marks_the_page(coach_client: Client) -> None:
    response = coach_client.get(LIST)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "No endpoints yet" in html
    assert f'href="{NEW}"' in html
    assert f'href="{LIST}" aria-current="page">Webhooks</a>' in html
    # The Settings group is the open one, and Webhooks comes right after API tokens.
    settings_group = html.split('id="nav-settings"')[0].rsplit("<details", 1)[1]
    assert " open" in settings_group
    assert html.index(">API tokens</a>") < html.index(">Webhooks</a>") < html.index(">Account</a>")


def test_the_list_shows_each_endpoint_its_state_and_its_last_delivery(
    coach_client: Client, coach: Coach, endpoint: WebhookEndpoint
) -> None:
    make_delivery(endpoint, status=Status.DELIVERED, last_status_code=200)
    make_delivery(endpoint, status=Status.FAILED, last_status_code=503, event_type="booking.created")
    quiet = webhook_endpoint_create(
        coach=coach, url="https://other.example.org/x", event_types=list(webhooks.BOOKING_EVENT_TYPES)
    )[0]
    webhook_endpoint_pause(endpoint=quiet, reason="Paused after 50 failed attempts in a row.")

    html = coach_client.get(LIST).content.decode()
    assert "CRM" in html
    # The address up to its host only: the path is often the hook's own secret.
    assert "https://hooks.example.com/…" in html
    assert "s3cr3t-path" not in html
    assert "Every event" in html and "Every booking event" in html
    assert "Active" in html
    assert "Paused after 50 failed attempts in a row." in html
    # The newest delivery's outcome, in the coach's zone (New York: 07:00 is 12:00 UTC).
    assert "Last delivery: booking.created" in html
    assert "Could not be delivered" in html and "(answered 503)" in html
    assert "Tue 1 Dec, 07:00" in html
    assert "Nothing sent yet" in html  # the paused one has no delivery


def test_the_list_takes_the_same_number_of_queries_for_many_endpoints(
    coach_client: Client, coach: Coach, django_assert_max_num_queries
) -> None:
    def add(count: int) -> None:
        for n in range(count):
            endpoint = webhook_endpoint_create(coach=coach, url=f"https://h{n}.example.com/in")[0]
            make_delivery(endpoint)
            make_delivery(endpoint, status=Status.DELIVERED)

    add(1)
    with django_assert_max_num_queries(50) as few:
        assert coach_client.get(LIST).status_code == HTTPStatus.OK
    add(ENDPOINTS_PER_PAGE + 5)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = coach_client.get(LIST)
    assert response.status_code == HTTPStatus.OK
    assert response.content.decode().count('class="row-item webhook-item"') == ENDPOINTS_PER_PAGE
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Adding an endpoint --------------------------------------------------------------------


def test_the_form_offers_every_event_with_the_booking_ones_ticked(coach_client: Client) -> None:
    response = coach_client.get(NEW)
    assert response.status_code == HTTPStatus.OK
    form = response.context["form"]
    assert form["event_types"].value() == list(webhooks.BOOKING_EVENT_TYPES)
    html = response.content.decode()
    for name in webhooks.EVENT_TYPES:
        assert f'value="{name}"' in html
    assert html.count("checked") == len(webhooks.BOOKING_EVENT_TYPES)
    assert "<legend>Bookings</legend>" in html and "<legend>Package passes</legend>" in html


def test_adding_shows_the_secret_once(coach_client: Client, coach: Coach) -> None:
    response = coach_client.post(NEW, new_form(description="  CRM  "))
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get(coach=coach)
    secret = response.context["secret"]
    assert secret.startswith("whsec_") and secret == endpoint.secret
    html = response.content.decode()
    assert secret in html
    assert "won't be shown again" in html
    assert endpoint.url == URL
    assert endpoint.event_types == ["booking.created", "booking.cancelled"]
    assert endpoint.description == "CRM"
    assert not endpoint.is_paused
    # Neither the session, a flash message nor any later page holds it.
    assert secret not in str(dict(coach_client.session))
    assert not flashed(response)
    for later in (LIST, page(endpoint), page(endpoint, "rotate-secret"), page(endpoint, "delete")):
        assert secret not in coach_client.get(later).content.decode(), later


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"url": "not a web address"}, "url", "Only http:// and https://"),
        ({"url": "ftp://files.example.com/in"}, "url", "Only http:// and https://"),
        ({"url": ""}, "url", "This field is required"),
        ({"url": "https://ada:pw@hooks.example.com/in"}, "url", "user name or password"),
        ({"url": "http://127.0.0.1:8000/hook"}, "url", "private or local network"),
        ({"url": "http://10.1.2.3/hook"}, "url", "private or local network"),
        ({"url": "http://localhost/hook"}, "url", "private or local network"),
        ({"url": "http://[::1]/hook"}, "url", "private or local network"),
        ({"url": "https://example.com/" + "x" * 2000}, "url", "at most 2000 characters"),
        ({"url": "https://example.com/\x00"}, "url", "Null characters are not allowed"),
        ({"event_types": []}, "event_types", "Choose at least one event"),
        ({"event_types": ["booking.exploded"]}, "event_types", "not one of the available choices"),
        ({"description": "d" * 201}, "description", "at most 200 characters"),
    ],
)
def test_a_bad_form_is_a_400_naming_the_problem(
    coach_client: Client, coach: Coach, settings, data: dict, field: str, message: str
) -> None:
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    response = coach_client.post(NEW, new_form(**data))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert message in response.content.decode().replace("&#x27;", "'")
    assert "Please fix the problem" in response.content.decode()
    assert not WebhookEndpoint.objects.filter(coach=coach).exists()


def test_a_bad_form_keeps_what_was_typed_and_ticked(coach_client: Client) -> None:
    response = coach_client.post(NEW, new_form(url="http://10.0.0.1/in", event_types=["pass.used"]))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    html = response.content.decode()
    assert 'value="http://10.0.0.1/in"' in html
    assert html.count("checked") == 1


# --- Rotating the secret -------------------------------------------------------------------


def test_rotating_asks_first_then_shows_the_new_secret_once(
    coach_client: Client, endpoint: WebhookEndpoint
) -> None:
    old = endpoint.secret
    url = page(endpoint, "rotate-secret")
    confirm = coach_client.get(url)
    assert confirm.status_code == HTTPStatus.OK
    html = confirm.content.decode()
    assert "The old secret keeps working for a day" in html
    assert "Rotate secret" in html
    endpoint.refresh_from_db()
    assert endpoint.secret == old  # the GET changed nothing

    response = coach_client.post(url)
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    endpoint.refresh_from_db()
    secret = response.context["secret"]
    assert secret == endpoint.secret != old
    assert endpoint.previous_secret == old
    assert endpoint.previous_secret_expires_at == NOW + timedelta(days=1)
    html = response.content.decode()
    assert secret in html and old not in html
    # Until Wed 2 Dec, 07:00 in New York.
    assert "The old secret keeps working until Wed 2 Dec, 07:00" in html
    assert secret not in str(dict(coach_client.session))
    detail = coach_client.get(page(endpoint)).content.decode()
    assert secret not in detail
    assert "The previous secret still works until Wed 2 Dec, 07:00" in detail


# --- Test event, pause, resume, delete -----------------------------------------------------


def test_sending_a_test_event_queues_it_and_says_so(
    coach_client: Client, endpoint: WebhookEndpoint, django_capture_on_commit_callbacks, posts: list[str]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(page(endpoint, "test"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == page(endpoint)
    assert any("test event is queued" in message for message in flashed(response))
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.event_type == webhooks.WEBHOOK_TEST
    assert posts == [URL]  # the eager task "sent" it to the recorder
    html = coach_client.get(page(endpoint)).content.decode()
    assert "webhook.test" in html and "Delivered" in html and "answered 200" in html


def test_a_test_event_from_the_list_comes_back_to_the_list(
    coach_client: Client, endpoint: WebhookEndpoint
) -> None:
    response = coach_client.post(page(endpoint, "test"), {"back": "list"})
    assert response["Location"] == LIST
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1


def test_pausing_and_resuming(coach_client: Client, endpoint: WebhookEndpoint) -> None:
    response = coach_client.post(page(endpoint, "pause"))
    assert response.status_code == HTTPStatus.FOUND
    assert any("is paused" in message for message in flashed(response))
    endpoint.refresh_from_db()
    assert endpoint.is_paused and endpoint.paused_reason == "Paused by the coach."
    html = coach_client.get(page(endpoint)).content.decode()
    assert "Paused by the coach." in html and "Resume</button>" in html

    again = coach_client.post(page(endpoint, "pause"))
    assert any("already paused" in message for message in flashed(again))

    response = coach_client.post(page(endpoint, "resume"), {"back": "list"})
    assert response["Location"] == LIST
    assert any("active again" in message for message in flashed(response))
    endpoint.refresh_from_db()
    assert not endpoint.is_paused and endpoint.paused_reason == ""
    assert "Pause</button>" in coach_client.get(page(endpoint)).content.decode()


def test_deleting_asks_first_then_deletes_it_and_its_deliveries(
    coach_client: Client, endpoint: WebhookEndpoint
) -> None:
    make_delivery(endpoint)
    url = page(endpoint, "delete")
    confirm = coach_client.get(url)
    assert confirm.status_code == HTTPStatus.OK
    assert "Delete endpoint" in confirm.content.decode()
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()  # the GET changed nothing

    response = coach_client.post(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == LIST
    assert any("is deleted" in message for message in flashed(response))
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not WebhookDelivery.objects.filter(endpoint_id=endpoint.pk).exists()
    assert coach_client.get(page(endpoint)).status_code == HTTPStatus.NOT_FOUND


# --- The deliveries ------------------------------------------------------------------------


def test_no_deliveries_says_so(coach_client: Client, endpoint: WebhookEndpoint) -> None:
    html = coach_client.get(page(endpoint)).content.decode()
    assert "Nothing sent to this endpoint yet" in html
    assert "Send test event" in html


def test_the_deliveries_show_newest_first_with_what_was_sent(
    coach_client: Client, coach: Coach, endpoint: WebhookEndpoint
) -> None:
    booking = BookingFactory(offering=OfferingFactory(coach=coach), reference="K7M2Q9XA")
    old = make_delivery(
        endpoint, status=Status.DELIVERED, attempts=1, last_status_code=200, last_attempt_at=NOW
    )
    failing = make_delivery(
        endpoint,
        booking=booking,
        event_type="booking.created",
        payload={"type": "booking.created", "data": {"reference": "K7M2Q9XA", "note": "<b>hi</b>"}},
        status=Status.PENDING,
        attempts=3,
        last_status_code=500,
        last_error="The webhook server answered 500.",
        last_attempt_at=NOW,
        next_attempt_at=NOW + timedelta(minutes=30),
    )
    html = coach_client.get(page(endpoint)).content.decode()
    assert html.index(failing.webhook_id) < html.index(old.webhook_id)
    assert f'href="/dashboard/bookings/{booking.reference}/"' in html
    assert "Test event" in html
    assert "3 attempts, last Tue 1 Dec, 07:00 · answered 500 · next attempt Tue 1 Dec, 07:30" in html
    assert "The webhook server answered 500." in html
    assert "Waiting to be sent" in html
    # The body as sent, formatted, escaped.
    assert '<pre class="webhook-body">' in html
    assert "&quot;reference&quot;: &quot;K7M2Q9XA&quot;" in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html
    assert html.count("Resend<span") == 2


def test_the_deliveries_filter_by_status(coach_client: Client, endpoint: WebhookEndpoint) -> None:
    delivered = make_delivery(endpoint, status=Status.DELIVERED)
    failed = make_delivery(endpoint, status=Status.FAILED)
    html = coach_client.get(page(endpoint), {"status": "failed"}).content.decode()
    assert failed.webhook_id in html and delivered.webhook_id not in html
    assert '<option value="failed" selected>' in html
    # Nothing with that status, and a bad status lists everything rather than breaking.
    empty = coach_client.get(page(endpoint), {"status": "cancelled"}).content.decode()
    assert "No deliveries with this status" in empty
    response = coach_client.get(page(endpoint), {"status": "\x00nope", "page": "x"})
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert failed.webhook_id in html and delivered.webhook_id in html


def test_the_deliveries_are_paginated_keeping_the_filter(
    coach_client: Client, endpoint: WebhookEndpoint
) -> None:
    rows = [make_delivery(endpoint, status=Status.FAILED) for _ in range(DELIVERIES_PER_PAGE + 2)]
    first = coach_client.get(page(endpoint), {"status": "failed"}).content.decode()
    assert first.count('class="row-item webhook-item"') == DELIVERIES_PER_PAGE
    assert 'href="?page=2&amp;status=failed"' in first
    second = coach_client.get(page(endpoint), {"status": "failed", "page": "2"}).content.decode()
    assert second.count('class="row-item webhook-item"') == 2
    assert rows[0].webhook_id in second and rows[-1].webhook_id not in second


def test_the_deliveries_page_takes_the_same_number_of_queries_for_many_rows(
    coach_client: Client, coach: Coach, endpoint: WebhookEndpoint, django_assert_max_num_queries
) -> None:
    offering = OfferingFactory(coach=coach)

    starts = (SLOT + timedelta(hours=n) for n in range(100))

    def add(count: int) -> None:
        for _ in range(count):
            booking = BookingFactory(offering=offering, start=next(starts))
            make_delivery(endpoint, booking=booking, event_type="booking.created")
            make_delivery(endpoint)

    add(1)
    with django_assert_max_num_queries(50) as few:
        assert coach_client.get(page(endpoint)).status_code == HTTPStatus.OK
    add(DELIVERIES_PER_PAGE)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = coach_client.get(page(endpoint))
    assert response.content.decode().count('class="row-item webhook-item"') == DELIVERIES_PER_PAGE
    assert len(many.captured_queries) == len(few.captured_queries)


def test_resending_queues_the_delivery_again(
    coach_client: Client, endpoint: WebhookEndpoint, django_capture_on_commit_callbacks, posts: list[str]
) -> None:
    delivery = make_delivery(
        endpoint,
        status=Status.FAILED,
        attempts=9,
        first_attempt_at=NOW - timedelta(days=3),
        last_status_code=500,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(resend_url(delivery), {"status": "failed"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == page(endpoint) + "?status=failed"
    assert any("queued to be sent again" in message for message in flashed(response))
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 1
    assert posts == [URL]


def test_a_delivery_being_sent_cannot_be_resent(coach_client: Client, endpoint: WebhookEndpoint) -> None:
    delivery = make_delivery(endpoint, status=Status.SENDING, locked_until=NOW + timedelta(minutes=5))
    assert "Resend<span" not in coach_client.get(page(endpoint)).content.decode()
    response = coach_client.post(resend_url(delivery))
    assert response.status_code == HTTPStatus.FOUND
    assert any("can't be sent again now" in message for message in flashed(response))
    delivery.refresh_from_db()
    assert delivery.status == Status.SENDING


def test_resending_to_a_paused_endpoint_says_it_waits(
    coach_client: Client, coach: Coach, endpoint: WebhookEndpoint
) -> None:
    booking = BookingFactory(offering=OfferingFactory(coach=coach))
    delivery = make_delivery(endpoint, booking=booking, event_type="booking.created", status=Status.FAILED)
    webhook_endpoint_pause(endpoint=endpoint)
    response = coach_client.post(resend_url(delivery))
    assert any("when you resume" in message for message in flashed(response))
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING


# --- Whose pages ---------------------------------------------------------------------------


def test_another_coachs_endpoint_and_delivery_are_404s(
    coach_client: Client, endpoint: WebhookEndpoint
) -> None:
    theirs = webhook_endpoint_create(
        coach=CoachFactory(), url="https://theirs.example.com/in", description="Theirs"
    )[0]
    their_delivery = make_delivery(theirs, status=Status.FAILED)
    mine = make_delivery(endpoint, status=Status.FAILED)
    for action in ("", "rotate-secret", "delete"):
        assert coach_client.get(page(theirs, action)).status_code == HTTPStatus.NOT_FOUND, action
    for action in ("rotate-secret", "test", "pause", "resume", "delete"):
        assert coach_client.post(page(theirs, action)).status_code == HTTPStatus.NOT_FOUND, action
    assert coach_client.post(resend_url(their_delivery)).status_code == HTTPStatus.NOT_FOUND
    # Their delivery through my endpoint's address, and mine through theirs.
    crossed = f"/dashboard/webhooks/{endpoint.pk}/deliveries/{their_delivery.pk}/resend/"
    assert coach_client.post(crossed).status_code == HTTPStatus.NOT_FOUND
    crossed = f"/dashboard/webhooks/{theirs.pk}/deliveries/{mine.pk}/resend/"
    assert coach_client.post(crossed).status_code == HTTPStatus.NOT_FOUND
    theirs.refresh_from_db()
    their_delivery.refresh_from_db()
    assert not theirs.is_paused and theirs.secret and their_delivery.status == Status.FAILED
    assert not theirs.deliveries.exclude(pk=their_delivery.pk).exists()  # no test event
    assert "Theirs" not in coach_client.get(LIST).content.decode()


def test_the_pages_need_a_signed_in_coach(client_user_client: Client, endpoint: WebhookEndpoint) -> None:
    delivery = make_delivery(endpoint)
    gets = (LIST, NEW, page(endpoint), page(endpoint, "rotate-secret"), page(endpoint, "delete"))
    posts = (NEW, *(page(endpoint, a) for a in ("rotate-secret", "test", "pause", "resume", "delete")))
    for url in gets:
        assert Client().get(url).status_code == HTTPStatus.FOUND, url  # to the login page
        assert client_user_client.get(url).status_code == HTTPStatus.FORBIDDEN, url
    for url in (*posts, resend_url(delivery)):
        assert Client().post(url).status_code == HTTPStatus.FOUND, url
        assert client_user_client.post(url).status_code == HTTPStatus.FORBIDDEN, url
    endpoint.refresh_from_db()
    assert not endpoint.is_paused and WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_the_actions_take_only_a_post(coach_client: Client, endpoint: WebhookEndpoint) -> None:
    delivery = make_delivery(endpoint)
    for url in (
        page(endpoint, "test"),
        page(endpoint, "pause"),
        page(endpoint, "resume"),
        resend_url(delivery),
    ):
        assert coach_client.get(url).status_code == HTTPStatus.METHOD_NOT_ALLOWED, url
    assert coach_client.post(LIST).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1


# --- Wording -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("types", "summary"),
    [
        ([], "Every event"),
        (list(webhooks.EVENT_TYPES), "Every event"),
        (list(webhooks.BOOKING_EVENT_TYPES), "Every booking event"),
        (list(webhooks.PASS_EVENT_TYPES), "Every pass event"),
        ([*webhooks.BOOKING_EVENT_TYPES, "pass.used"], "Every booking event, pass.used"),
        (["booking.cancelled", "booking.created"], "booking.created, booking.cancelled"),
    ],
)
def test_events_are_summed_up_in_words(types: list[str], summary: str) -> None:
    assert events_summary(types) == summary


def test_every_event_type_has_words(coach_client: Client) -> None:
    html = coach_client.get(NEW).content.decode()
    for name in webhooks.EVENT_TYPES:
        assert f"{name}: " in html, name
