"""Coach pages live at /<slug>/: every first path segment of ours is a reserved slug, so no
coach's address can shadow a page (or a secret link like /b/ or /s/) of the site."""

from __future__ import annotations

import re

from django.urls import get_resolver

from coaching.models import RESERVED_SLUGS


def test_every_top_level_path_of_the_site_is_a_reserved_slug() -> None:
    firsts = set()
    for pattern in get_resolver().url_patterns:
        text = str(pattern.pattern).lstrip("^")
        first = text.split("/", 1)[0]
        first = first.rstrip("$")
        if re.fullmatch(r"[-a-z0-9_]+", first):  # a segment a slug could take (not favicon.ico)
            firsts.add(first)
    assert {"b", "s", "feeds", "dashboard"} <= firsts
    assert firsts - RESERVED_SLUGS == set()
