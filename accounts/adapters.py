"""allauth adapter: the one place where we extend allauth's behaviour."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Coaches land on their dashboard; everybody else where allauth would send them."""
        if getattr(request.user, "is_coach", False):
            return reverse("dashboard")
        return super().get_login_redirect_url(request)
