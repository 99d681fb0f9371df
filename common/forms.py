"""The form base every page uses: labels without Django's trailing colon.

The templates lay each label out on its own line above its field, where a colon reads oddly.
"""

from __future__ import annotations

from typing import Any

from django import forms


class NoColonMixin:
    """Labels without Django's trailing colon (for forms and model forms alike)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class Form(NoColonMixin, forms.Form):
    """A plain form with colon-free labels."""


class ModelForm(NoColonMixin, forms.ModelForm):
    """A model form with colon-free labels."""
