"""Dependencies that must not change under us: caldav releases from 2.2.5 on pull in niquests,
whose urllib3-future silently replaces urllib3 in the environment and breaks schemathesis's
requests transport (docs/decisions.md)."""

from __future__ import annotations

import importlib.metadata

import urllib3


def test_urllib3_is_the_real_one() -> None:
    assert urllib3.__version__.startswith("2.8"), urllib3.__version__
    names = {dist.metadata["Name"].lower() for dist in importlib.metadata.distributions()}
    assert "niquests" not in names and "urllib3-future" not in names
