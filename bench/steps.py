"""A benchmark's database steps run in a child process (its own settings and database):
``run_step`` starts one and reads the JSON it prints; ``StepServer`` keeps one running and
asks it for steps one at a time; ``serve_steps`` is the child's side of both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
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


class StepServer:
    """``python -m <module> serve`` under ``env``: Django set up once, then one step per request
    (a line of JSON each way). Several of them (one per database) can be driven in turn, a few
    requests at a time, so that a noisy second on a shared machine hits every database alike."""

    def __init__(self, module: str, env: dict[str, str]) -> None:
        # A file, not a pipe: it never fills up. Closed in close(), with the child.
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self._proc = subprocess.Popen(
            [sys.executable, "-m", module, "serve"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )

    def call(self, step: str, *args: Any) -> Any:
        """Run ``step`` in the child and return its JSON answer."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps([step, *args]) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        answer = json.loads(line) if line else {"error": "the step server exited"}
        if "error" in answer:
            self._stderr.seek(0)
            raise RuntimeError(f"step {step} failed:\n{answer['error']}\n{self._stderr.read()[-3000:]}")
        return answer["result"]

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=60)
        self._stderr.close()


def serve_steps(steps: Mapping[str, Callable[..., Any]]) -> None:
    """The child's ``__main__``: set Django up, run the step ``argv`` names with its arguments,
    print its result as one line of JSON; or, for ``serve``, answer StepServer's requests until
    its stdin closes."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    command, *args = sys.argv[1:]
    if command != "serve":
        print(json.dumps(steps[command](*args), default=str))
        return
    import traceback

    for line in sys.stdin:
        step, *step_args = json.loads(line)
        try:
            answer = {"result": steps[step](*step_args)}
        except Exception:  # the parent prints it and stops the bench
            answer = {"error": traceback.format_exc()[-3000:]}
        sys.stdout.write(json.dumps(answer, default=str) + "\n")
        sys.stdout.flush()
