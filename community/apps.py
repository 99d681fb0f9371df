from __future__ import annotations

from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "Community"

    def ready(self) -> None:
        from accounts.services import register_account_data
        from community import services

        register_account_data(
            name="community_memberships",
            export=services.memberships_export,
            delete=services.memberships_delete,
        )
