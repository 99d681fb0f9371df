"""Issue 7's load and fault tests (tests/load/mixed_load.py) as part of `make bench`."""

from __future__ import annotations


def main() -> None:
    from tests.load.mixed_load import main as run

    if run() != 0:
        raise SystemExit("load test failed: see the verdicts above")
