"""A Redis cache that fails open.

The cache holds rate-limit counters and other things we can do without for a while.
If Redis is down, a cache error must not turn every page into a 500: reads miss,
writes are dropped, and a warning is logged (once a minute at most). Bookings,
emails and reminders never depend on the cache; they live in the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
_WARN_EVERY_SECONDS = 60.0


class ResilientRedisCache(RedisCache):
    _last_warning = 0.0

    def _fail_open(self, operation: str, default: Any, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except _ERRORS:
            now = time.monotonic()
            if now - ResilientRedisCache._last_warning > _WARN_EVERY_SECONDS:
                ResilientRedisCache._last_warning = now
                logger.warning("cache: Redis unavailable during %s; carrying on without the cache", operation)
            return default

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._fail_open(
            "get", default, lambda: super(ResilientRedisCache, self).get(key, default, version)
        )

    def set(self, key: Any, value: Any, timeout: Any = None, version: Any = None, **kwargs: Any) -> None:
        if timeout is None:
            timeout = self.default_timeout
        self._fail_open(
            "set", None, lambda: super(ResilientRedisCache, self).set(key, value, timeout, version)
        )

    def add(self, key: Any, value: Any, timeout: Any = None, version: Any = None) -> bool:
        if timeout is None:
            timeout = self.default_timeout
        return self._fail_open(
            "add", False, lambda: super(ResilientRedisCache, self).add(key, value, timeout, version)
        )

    def delete(self, key: Any, version: Any = None) -> bool:
        return self._fail_open("delete", False, lambda: super(ResilientRedisCache, self).delete(key, version))

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        return self._fail_open("incr", 0, lambda: super(ResilientRedisCache, self).incr(key, delta, version))

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        return self._fail_open(
            "get_many", {}, lambda: super(ResilientRedisCache, self).get_many(keys, version)
        )

    def has_key(self, key: Any, version: Any = None) -> bool:
        return self._fail_open(
            "has_key", False, lambda: super(ResilientRedisCache, self).has_key(key, version)
        )

    def touch(self, key: Any, timeout: Any = None, version: Any = None) -> bool:
        if timeout is None:
            timeout = self.default_timeout
        return self._fail_open(
            "touch", False, lambda: super(ResilientRedisCache, self).touch(key, timeout, version)
        )
