"""Reads for coaching pages: a fixed number of queries each."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from coaching.models import Coach, Offering


def coach_list_public() -> QuerySet[Coach]:
    """Coaches with at least one listed, active offering, offerings prefetched."""
    listed = Offering.objects.filter(is_active=True, is_listed=True)
    return (
        Coach.objects.filter(offerings__in=listed)
        .distinct()
        .prefetch_related(Prefetch("offerings", queryset=listed, to_attr="listed_offerings"))
        .order_by("display_name")
    )


def coach_get_public(*, slug: str) -> Coach | None:
    listed = Offering.objects.filter(is_active=True, is_listed=True)
    return (
        Coach.objects.filter(slug=slug)
        .prefetch_related(Prefetch("offerings", queryset=listed, to_attr="listed_offerings"))
        .first()
    )
