"""Real Celery workers for the benchmarks: start one as a subprocess, wait on a condition, stop it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def start_worker(
    *, name: str, env: dict[str, str], log: Path, concurrency: int, queues: str = ""
) -> subprocess.Popen[bytes]:
    """``celery -A config worker`` (prefork, ``concurrency`` processes), its output in ``log``."""
    args = [sys.executable, "-m", "celery", "-A", "config", "worker"]
    if queues:
        args += ["--queues", queues]
    args += [
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "--hostname",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "WARNING",
    ]
    with log.open("wb") as out:
        return subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    """A warm shutdown, then the whole process group if it takes over a minute."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(condition: Callable[[], bool], deadline: float, what: str, *, every: float = 0.05) -> None:
    """Poll ``condition`` until it holds; RuntimeError after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(every)  # polling a condition, not timing anything
    raise RuntimeError(f"timed out waiting for {what}")


@contextlib.contextmanager
def running_workers(
    *, broker: Any, env: dict[str, str], logs: Path, name: str, count: int, concurrency: int
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` workers (``name1``, ``name2``...), yielded once each answers a ping; stopped on exit."""
    workers = [
        start_worker(name=f"{name}{n}", env=env, log=logs / f"worker{n}.log", concurrency=concurrency)
        for n in range(1, count + 1)
    ]
    try:
        wait_for(
            lambda: (
                len(broker.control.ping(timeout=0.5)) >= count or any(w.poll() is not None for w in workers)
            ),
            60,
            "the workers",
        )
        if any(w.poll() is not None for w in workers):
            raise RuntimeError(f"a worker exited; see {logs}")
        yield workers
    finally:
        for worker in workers:
            stop_worker(worker)
