"""One client record per (coach, email) for the bookings made before practice existed."""

from __future__ import annotations

from django.db import migrations


def clients_from_bookings(apps, schema_editor) -> None:
    Booking = apps.get_model("booking", "Booking")
    Client = apps.get_model("practice", "Client")
    clients: dict[tuple[int, str], object] = {}
    # Newest first: the client's latest name and account win.
    for booking in Booking.objects.order_by("-created_at", "-pk").iterator():
        key = (booking.coach_id, booking.client_email.strip().lower())
        client = clients.get(key)
        if client is None:
            client = Client.objects.filter(coach_id=key[0], email=key[1]).first() or Client.objects.create(
                coach_id=key[0], email=key[1], name=booking.client_name, user_id=booking.client_id
            )
            clients[key] = client
        elif client.user_id is None and booking.client_id:
            client.user_id = booking.client_id
            client.save(update_fields=["user_id"])
        Booking.objects.filter(pk=booking.pk).update(client_record=client)


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0001_initial"),
        ("booking", "0009_client_record_pass_policy"),
    ]

    operations = [migrations.RunPython(clients_from_bookings, migrations.RunPython.noop)]
