from __future__ import annotations

# Booking, Reminder and their history arrive with the booking issue.
