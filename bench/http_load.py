"""A small closed-loop HTTP load generator for the benchmarks (loopback only).

Each of ``concurrency`` threads keeps one keep-alive connection and sends requests
back to back until the shared request budget is spent; latencies are recorded per
request. Bounded by count, never by wall-clock sleeps.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    wall_s: float = 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def median(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else 0.0


def run_load(
    base_url: str,
    make_request: Callable[[int], Request],
    *,
    total: int,
    concurrency: int,
    start_together: bool = False,
) -> LoadResult:
    """Send ``total`` requests (``make_request(i)`` builds the i-th) from ``concurrency`` threads."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError("load tests only target loopback")
    result = LoadResult()
    lock = threading.Lock()
    counter = iter(range(total))
    barrier = threading.Barrier(concurrency) if start_together else None

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        if barrier is not None:
            barrier.wait(timeout=30)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            method, path, body, headers = make_request(i)
            began = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=30)
            except (OSError, http.client.HTTPException):
                status = 599
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                result.latencies_ms.append(elapsed)
                result.statuses[status] += 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_s = time.perf_counter() - began
    return result


def json_post(path: str, payload: dict[str, object], headers: dict[str, str] | None = None) -> Request:
    return (
        "POST",
        path,
        json.dumps(payload).encode(),
        {"Content-Type": "application/json", **(headers or {})},
    )


def get(path: str) -> Request:
    return ("GET", path, None, {})
