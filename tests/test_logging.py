"""Logs are one JSON object per line when LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging

from config.logging import JsonFormatter


def test_it_formats_a_record_as_one_json_line() -> None:
    record = logging.LogRecord(
        "booking.tasks", logging.INFO, __file__, 1, "booking %s: sent", ("BK-1",), None
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "booking.tasks"
    assert entry["message"] == "booking BK-1: sent"
    assert entry["time"].endswith("+00:00")
