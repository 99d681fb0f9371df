"""A signed-in person's own data: download it, or delete the account."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.services import AccountDeletionRefused, user_delete, user_export_data


class DeleteAccountForm(forms.Form):
    confirm_email = forms.EmailField(
        label="Type your email address to confirm",
        help_text="This cannot be undone.",
        max_length=254,
    )

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_confirm_email(self) -> str:
        value = self.cleaned_data["confirm_email"]
        if value.strip().lower() != self.user.email.lower():
            raise forms.ValidationError("That is not the email address of this account.")
        return value


@login_required
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/my_data.html", {"form": DeleteAccountForm(user=request.user)})


@login_required
@require_GET
def export_data(request: HttpRequest) -> HttpResponse:
    data = user_export_data(user=request.user)
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user_delete(user=request.user)
        except AccountDeletionRefused as exc:
            messages.error(request, exc.message)
            return redirect("my_data")
        logout(request)
        messages.success(
            request, "Your account is deleted. Your past bookings no longer carry your name or email."
        )
        return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/delete_account.html", {"form": form}, status=status)
