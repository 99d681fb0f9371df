"""Placeholder: filled in by issue 14."""

from __future__ import annotations

from ninja import Router

router = Router()
