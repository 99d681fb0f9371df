"""A client's passes in "download my data"; their identity leaves the coaches' records on deletion."""

from __future__ import annotations

import pytest

from accounts.services import user_delete, user_export_data
from booking.signals import link_guest_bookings
from practice.models import Client, Pass
from practice.services import ANONYMOUS_NAME
from tests.factories import UserFactory
from tests.support import NOW


@pytest.mark.django_db
def test_the_client_exports_their_passes_but_never_the_coachs_notes(grant, book) -> None:
    user = UserFactory(email="grace@example.com")
    pass_obj = grant()
    book(client_pass=pass_obj)
    Client.objects.filter(email="grace@example.com").update(notes="Struggles with mornings")
    data = user_export_data(user=user)["practice"]
    assert [p["reference"] for p in data["my_passes"]] == [pass_obj.reference]
    assert [e["kind"] for e in data["my_passes"][0]["ledger"]] == ["grant", "use"]
    assert "mornings" not in str(data)


@pytest.mark.django_db
def test_the_coach_exports_clients_notes_packages_and_passes(grant, coach) -> None:
    grant()
    Client.objects.update(notes="Goal: run a marathon")
    data = user_export_data(user=coach.user)["practice"]
    assert data["clients"][0]["notes"] == "Goal: run a marathon"
    assert data["packages"][0]["name"] == "Three calls"
    assert data["granted_passes"][0]["client"] == "grace@example.com"


@pytest.mark.django_db
def test_deleting_the_account_anonymises_the_client_record_and_keeps_the_ledger(grant, book) -> None:
    user = UserFactory(email="grace@example.com")
    pass_obj = grant()
    book(client_pass=pass_obj, client=user)
    user_delete(user=user, now=NOW)
    client = Client.objects.get()
    assert (client.name, client.user_id) == (ANONYMOUS_NAME, None)
    assert "grace" not in client.email
    assert Pass.objects.get(pk=pass_obj.pk).entries.count() >= 2


@pytest.mark.django_db
def test_verifying_an_address_links_its_client_records_to_the_account(grant) -> None:
    grant(to="Grace@Example.com")
    user = UserFactory(email="grace@example.com")
    link_guest_bookings(user=user, email="GRACE@example.com")
    assert Client.objects.get().user == user
