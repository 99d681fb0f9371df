"""What a coach's landing page says beyond its offerings: the introduction and sharing metadata.

The page itself (/<coach>/) is put together in booking/views/public.py, which adds the
offerings with their next free times (booking's slot selectors, a layer above this one).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from coaching.models import Coach
from common.emails import absolute_url
from common.markdown import markdown_to_text, render_markdown

DESCRIPTION_LENGTH = 160
DEFAULT_PITCH = "tips, tools and challenges for your next best move"


@dataclass(frozen=True)
class PageMeta:
    title: str
    description: str
    url: str
    image: str


def page_meta(coach: Coach, request: HttpRequest) -> PageMeta:
    """Title, description, canonical address and image for search results and link previews."""
    description = coach.headline.strip() or markdown_to_text(
        coach.intro_markdown or coach.bio, limit=DESCRIPTION_LENGTH
    )
    image = ""
    if coach.photo:
        image = coach.photo.url if coach.photo.url.startswith("http") else absolute_url(coach.photo.url)
    return PageMeta(
        title=coach.display_name,
        description=description or f"Book a call with {coach.display_name}.",
        url=f"{settings.SITE_URL}{coach.get_absolute_url()}",
        image=image,
    )


def intro_html(coach: Coach) -> str:
    return render_markdown(coach.intro_markdown)


def consent_label(coach: Coach) -> str:
    """What a subscriber agrees to, stored verbatim with their signup."""
    pitch = coach.community_pitch.strip().rstrip(".") or DEFAULT_PITCH
    # No "email" in these words: the field next to it is labelled "Email".
    return (
        f"Yes, send {coach.display_name}’s community letters ({pitch}) to this address. "
        "I can unsubscribe at any time with one click."
    )
