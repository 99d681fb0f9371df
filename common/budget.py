"""A work budget for reading what strangers send us (calendar feeds today, CalDAV next).

A 180-byte feed can ask a rule library to loop for minutes (``FREQ=SECONDLY``, or a rule
whose filters never match, which dateutil walks to the year 9999). Neither a timeout
between chunks nor a cap on results stops a loop inside a library, so ``WorkBudget``
counts the Python function calls made in this thread and raises ``WorkBudgetExceeded``
from inside the loop once the budget is spent. Counting calls, not seconds, makes the
limit the same on every machine and testable without timing anything.

CPython removes a profile function that raises, so the budget raises once from inside;
code that swallows that exception runs on unbudgeted until the next ``check``/``cap``
or the end of the block, which raise again. Our own loops call ``cap`` per item.
"""

from __future__ import annotations

import sys
from types import FrameType, TracebackType
from typing import Any


class WorkBudgetExceeded(Exception):
    """Raised inside the budgeted code when it has made more calls than allowed."""


class WorkBudget:
    """``with WorkBudget(calls):`` runs the block with at most ``calls`` Python calls (this thread)."""

    def __init__(self, calls: int) -> None:
        self.total = calls
        self.limit = calls
        self.spent = 0
        self.tripped = False
        self._previous: Any = None

    def _count(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            self.spent += 1
            if self.spent > self.limit and frame.f_code is not _EXIT:
                self.tripped = True
                raise WorkBudgetExceeded(f"more than {self.limit} calls")

    def __enter__(self) -> WorkBudget:
        self._previous = sys.getprofile()
        sys.setprofile(self._count)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        sys.setprofile(self._previous)
        if self.tripped and kind is None:
            raise WorkBudgetExceeded("the budget was spent and the error swallowed")

    def check(self) -> None:
        """Raise again if the budget was spent (someone may have swallowed the first raise)."""
        if self.tripped:
            raise WorkBudgetExceeded("the budget was spent")

    def cap(self, calls: int) -> None:
        """Allow at most ``calls`` more calls from now (within the whole budget) until ``uncap``."""
        self.check()
        self.limit = min(self.total, self.spent + calls)

    def uncap(self) -> None:
        """Back to the whole budget."""
        self.check()
        self.limit = self.total


# Leaving the budget must always unhook, even with the budget spent.
_EXIT = WorkBudget.__exit__.__code__


def work_budget(calls: int) -> WorkBudget:
    """The budget as a context manager: ``with work_budget(100_000): ...``."""
    return WorkBudget(calls)
