from __future__ import annotations

from datetime import UTC, datetime

# Tuesday 1 December 2026, 07:00 in New York: the coach fixture works Mon-Fri 09-17 there.
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# Wednesday 2 December 2026, 10:00 in New York.
SLOT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
