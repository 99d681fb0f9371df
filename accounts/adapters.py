"""allauth adapter: the one place where we extend allauth's behaviour."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Coaches land on their dashboard; everybody else where allauth would send them."""
        if getattr(request.user, "is_coach", False):
            return reverse("dashboard")
        return super().get_login_redirect_url(request)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """Count failed logins per (account, client address), not per account alone.

        Keyed by the account only, anyone who knows a coach's address could lock them out
        with five wrong passwords; the per-address limit (10 a minute) still stops guessing.
        """
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}:{self.get_client_ip(request)}"
