"""Fixtures of the practice tests: a package of the ``offering`` fixture and passes of it."""

from __future__ import annotations

from datetime import datetime

import pytest

from coaching.models import Offering
from practice import services
from practice.models import Package, Pass
from tests.support import NOW


@pytest.fixture
def package(offering: Offering) -> Package:
    """Three sessions of the intro call, valid 30 days from the grant."""
    return services.package_save(
        coach=offering.coach, name="Three calls", sessions=3, offerings=[offering], validity_days=30
    )


@pytest.fixture
def grant(package: Package):
    """Grant ``package`` (or another) to Grace at NOW, or at ``at``."""

    def make(*, to: str = "grace@example.com", of: Package | None = None, at: datetime = NOW) -> Pass:
        return services.pass_grant(package=of or package, client_email=to, client_name="Grace Hopper", now=at)

    return make
