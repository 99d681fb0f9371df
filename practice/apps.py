from __future__ import annotations

from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "practice"
    verbose_name = "Practice"

    def ready(self) -> None:
        from accounts.services import register_account_data
        from practice import selectors, services

        # A client's passes, a coach's clients and notes: in "download my data"; a deleted
        # account's identity leaves the coaches' client records.
        register_account_data(
            name="practice", export=selectors.practice_export, delete=services.clients_forget
        )
