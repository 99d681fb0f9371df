"""allauth adapter: the one place where we extend allauth's behaviour."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from accounts.models import User
from common.emails import absolute_url

NAME_LENGTH = User._meta.get_field("name").max_length


def site_link(url: str) -> str:
    """``http://<request host>/accounts/...`` -> ``SITE_URL/accounts/...``.

    allauth builds its links from the request's host; an email should carry the site's
    public address, like every other email we send (common/emails.py absolute_url).
    """
    parts = urlsplit(url)
    if not (parts.scheme and parts.netloc):
        return url
    return absolute_url(
        parts.path
        + (f"?{parts.query}" if parts.query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Coaches land on their dashboard; everybody else where allauth would send them."""
        if getattr(request.user, "is_coach", False):
            return reverse("dashboard")
        return super().get_login_redirect_url(request)

    def format_email_subject(self, subject: str) -> str:
        """``[SITE_NAME] subject``, read at send time like every other setting."""
        return f"[{settings.SITE_NAME}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Account emails speak as SITE_NAME and link to SITE_URL.

        Without the Sites framework allauth's ``current_site`` is the request's host
        ("Hello from 127.0.0.1:8000"), and its links point wherever the request came in.
        """
        context = {
            key: site_link(value) if key.endswith("_url") and isinstance(value, str) else value
            for key, value in context.items()
        }
        context.setdefault("SITE_NAME", settings.SITE_NAME)
        context.setdefault("SITE_URL", settings.SITE_URL)
        # Replaced, not defaulted: allauth always passes the request's host here.
        context["current_site"] = SimpleNamespace(name=settings.SITE_NAME, domain=settings.SITE_DOMAIN)
        super().send_mail(template_prefix, email, context)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """Count failed logins per (account, client address), not per account alone.

        Keyed by the account only, anyone who knows a coach's address could lock them out
        with five wrong passwords; the per-address limit (10 a minute) still stops guessing.
        """
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}:{self.get_client_ip(request)}"


def provider_name(data: dict[str, Any]) -> str:
    """The person's name as a provider gives it ("name", else first and last), on one line."""
    name = str(data.get("name") or "").strip() or " ".join(
        str(data.get(part) or "").strip() for part in ("first_name", "last_name")
    )
    return " ".join(name.split())[:NAME_LENGTH].strip()


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """A Google (or other provider's) signup keeps the person's name.

    Our User has one ``name`` field where allauth fills ``first_name``/``last_name``,
    which it does not have: without this, a social signup would leave the name blank.
    """

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict[str, Any]) -> User:
        user = super().populate_user(request, sociallogin, data)
        if not user.name:
            user.name = provider_name(data)
        return user

    def get_signup_form_initial_data(self, sociallogin: SocialLogin) -> dict[str, Any]:
        """The social signup form (when allauth must ask, e.g. no verified email) starts with the name."""
        initial = super().get_signup_form_initial_data(sociallogin)
        initial["name"] = sociallogin.user.name if sociallogin.user else ""
        return initial
