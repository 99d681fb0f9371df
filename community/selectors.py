"""Reads for the community pages and tasks: a fixed number of queries each."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from coaching.models import Coach
from community.models import Broadcast, BroadcastDelivery, SitePage, Subscriber

# Work whose message should have run by now, and how far back the sweep looks.
SWEEP_GRACE = timedelta(minutes=2)
SWEEP_WINDOW = timedelta(days=2)
SWEEP_LIMIT = 500

# A notice is owed when it was asked for and not sent since.
NOTICE_OWED = Q(notice_sent_at__isnull=True) | Q(notice_sent_at__lt=F("notice_requested_at"))


def _status_counts(rows: QuerySet, statuses: Iterable[str]) -> dict[str, int]:
    """Rows per status (every status present, zero or not), plus ``total``: one query."""
    counts = dict.fromkeys(statuses, 0)
    for row in rows.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    counts["total"] = sum(counts.values())
    return counts


def community_coach_get(*, slug: str) -> Coach | None:
    """The coach at ``slug`` if their page takes community signups."""
    coach = Coach.objects.filter(slug=slug).first()
    return coach if coach is not None and coach.community_enabled else None


def site_page_get(*, slug: str) -> SitePage | None:
    return SitePage.objects.filter(slug=slug).first()


def subscriber_counts(coach: Coach) -> dict[str, int]:
    """How many subscribers ``coach`` has in each status (one query)."""
    return _status_counts(Subscriber.objects.filter(coach=coach), Subscriber.Status.values)


def subscribers_filtered(*, coach: Coach, status: str = "", q: str = "") -> QuerySet[Subscriber]:
    """The coach's subscribers, newest first, by status and "email or name contains"."""
    rows = Subscriber.objects.filter(coach=coach).order_by("-created_at", "-pk")
    if status:
        rows = rows.filter(status=status)
    if q:
        rows = rows.filter(Q(email__icontains=q) | Q(first_name__icontains=q))
    return rows


def subscriber_rows(
    *, coach: Coach, columns: Iterable[str], status: str = "", q: str = ""
) -> Iterator[tuple]:
    """The filtered subscribers as value tuples, fetched in chunks (an export of any size, little memory)."""
    rows = subscribers_filtered(coach=coach, status=status, q=q).values_list(*columns)
    return rows.iterator(chunk_size=1000)


def coach_broadcasts(*, coach: Coach) -> QuerySet[Broadcast]:
    return Broadcast.objects.filter(coach=coach).order_by("-created_at", "-pk")


def coach_broadcast_get(*, coach: Coach, pk: int) -> Broadcast | None:
    return Broadcast.objects.select_related("coach__user").filter(pk=pk, coach=coach).first()


def broadcast_progress_counts(broadcast_id: int) -> dict[str, int]:
    """Deliveries of a broadcast per status, plus ``total`` (one query)."""
    return _status_counts(
        BroadcastDelivery.objects.filter(broadcast_id=broadcast_id), BroadcastDelivery.Status.values
    )


def notices_to_resend(*, now: datetime, limit: int = SWEEP_LIMIT) -> list[int]:
    """Subscribers owed an email for a while: its message was lost (the beat sweep resends)."""
    return list(
        Subscriber.objects.filter(
            notice_requested_at__lt=now - SWEEP_GRACE, notice_requested_at__gte=now - SWEEP_WINDOW
        )
        .filter(NOTICE_OWED)
        .order_by()
        .values_list("pk", flat=True)[:limit]
    )


@dataclass(frozen=True)
class ResumeWork:
    to_plan: list[int]
    to_send: list[int]


def broadcasts_to_resume(*, now: datetime | None = None) -> ResumeWork:
    """Broadcasts in ``sending`` that made no progress for a while (their message was lost)."""
    frozen_now = now or timezone.now()
    stalled = Broadcast.objects.filter(status=Broadcast.Status.SENDING).filter(
        Q(progress_at__isnull=True) | Q(progress_at__lt=frozen_now - SWEEP_GRACE)
    )
    return ResumeWork(
        to_plan=list(stalled.filter(planned_at__isnull=True).order_by().values_list("pk", flat=True)[:100]),
        to_send=list(stalled.filter(planned_at__isnull=False).order_by().values_list("pk", flat=True)[:100]),
    )
