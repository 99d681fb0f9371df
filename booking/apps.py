from __future__ import annotations

from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Booking"

    def ready(self) -> None:
        from allauth.account.signals import email_confirmed
        from django.contrib.auth.signals import user_logged_in

        from accounts.services import register_account_data
        from booking import clashes, services, signals, waitlist
        from coaching.clashes import register_booking_source
        from coaching.services import register_availability_listener
        from practice.services import register_entry_listener

        email_confirmed.connect(signals.on_email_confirmed, dispatch_uid="booking.link_on_email_confirmed")
        user_logged_in.connect(signals.on_user_logged_in, dispatch_uid="booking.link_on_login")
        # "Download my data" and account deletion reach bookings through this handler.
        register_account_data(
            name="bookings", export=services.client_bookings_export, delete=services.client_bookings_forget
        )
        register_account_data(
            name="waitlist", export=waitlist.waitlist_entries_export, delete=waitlist.waitlist_entries_forget
        )
        # More free time (hours, overrides, busy calendars) is offered to the waitlist's line.
        register_availability_listener(waitlist.waitlist_availability_changed)
        # The coach's hours pages warn about booked calls a change would leave outside the hours.
        register_booking_source(clashes.coach_upcoming_calls)
        # Credits used, given back, forfeited or expired reach the coach's webhooks.
        register_entry_listener(services.write_pass_webhooks)
