"""A benchmark's database steps run in a child process (its own settings and database):
``run_step`` starts one and reads the JSON it prints; ``serve_steps`` is the child's side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import Any

from bench.workers import ROOT


def run_step(module: str, step: str, env: dict[str, str], *args: str) -> Any:
    """Run ``python -m <module> <step> <args>`` under ``env`` and return the JSON of its last line."""
    done = subprocess.run(
        [sys.executable, "-m", module, step, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"step {step} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def serve_steps(steps: Mapping[str, Callable[..., Any]]) -> None:
    """The child's ``__main__``: set Django up, run the step ``argv`` names with its arguments,
    print its result as one line of JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    command, *args = sys.argv[1:]
    print(json.dumps(steps[command](*args), default=str))
