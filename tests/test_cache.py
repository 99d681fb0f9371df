"""With Redis down, the cache misses instead of failing the request."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from config.cache import ResilientRedisCache


def dead_cache() -> ResilientRedisCache:
    """A real Redis cache pointed at a port nobody listens on."""
    return ResilientRedisCache(
        "redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}
    )


def test_it_misses_and_drops_writes_when_redis_is_down() -> None:
    cache = dead_cache()
    assert cache.get("k", "fallback") == "fallback"
    cache.set("k", "v", 30)
    assert cache.add("k", "v") is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.delete("k") is False


@pytest.mark.django_db
def test_it_keeps_rate_limited_pages_up_when_redis_is_down(
    client: Client, offering: object, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    """Rate limits fail open: the booking API answers normally while its counters are unreachable."""
    settings.RATE_LIMITS_ENABLED = True
    from ninja.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "cache", dead_cache())
    response = client.get("/api/v1/bookings/BK-00000000.x")
    assert response.status_code == HTTPStatus.NOT_FOUND
