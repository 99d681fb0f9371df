"""``{{ value|clock }}``: a time as the visitor reads it, ``16:00`` or ``4:00 PM``.

Templates use it instead of ``|time:"H:i"`` so every time people read follows the visitor's
hour cycle (common/hour_cycle.py); an aware datetime is shown in the current zone, as
Django's own ``|date`` and ``|time`` filters do.
"""

from __future__ import annotations

from datetime import datetime, time

from django import template
from django.utils import timezone

from common.display import clock_label

register = template.Library()


@register.filter
def clock(value: object) -> str:
    if isinstance(value, datetime):
        return clock_label(timezone.template_localtime(value))
    if isinstance(value, time):
        return clock_label(value)
    return ""
