"""Where a weekly series' occurrences fall (booking/series.py): the coach's wall-clock time
across DST in New York, Berlin and Lord Howe (a 30-minute change), folds and gaps included,
and which occurrences move for a client whose zone changes on another date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import WEEKLY, rrule
from hypothesis import given
from hypothesis import strategies as st

from booking.series import occurrences, other_time_for_client, resolve_local

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


def test_new_york_keeps_the_wall_clock_and_moves_in_utc_over_the_spring_change() -> None:
    # Tuesday 2 March 2027 at 08:00 EST; the clocks go forward on Sunday 14 March.
    first = datetime(2027, 3, 2, 8, 0, tzinfo=NEW_YORK)
    series = occurrences(first, zone=NEW_YORK, interval_weeks=1, count=3)
    assert [o.start for o in series] == [
        datetime(2027, 3, 2, 13, 0, tzinfo=UTC),
        datetime(2027, 3, 9, 13, 0, tzinfo=UTC),
        datetime(2027, 3, 16, 12, 0, tzinfo=UTC),
    ]
    assert {o.local.time().isoformat() for o in series} == {"08:00:00"}


def test_berlin_every_two_weeks_over_the_autumn_change() -> None:
    first = datetime(2027, 10, 19, 18, 30, tzinfo=BERLIN)  # CEST; CET from 31 October
    series = occurrences(first, zone=BERLIN, interval_weeks=2, count=3)
    assert [o.day.isoformat() for o in series] == ["2027-10-19", "2027-11-02", "2027-11-16"]
    assert [o.start.hour for o in series] == [16, 17, 17]  # type: ignore[union-attr]


def test_lord_howe_moves_by_half_an_hour() -> None:
    first = datetime(2027, 3, 30, 9, 0, tzinfo=LORD_HOWE)  # +11; +10:30 from 4 April 2027
    later = occurrences(first, zone=LORD_HOWE, interval_weeks=1, count=2)[1]
    assert later.start == datetime(2027, 4, 5, 22, 30, tzinfo=UTC)
    assert later.local == datetime(2027, 4, 6, 9, 0)


def test_a_time_in_the_spring_gap_has_no_occurrence() -> None:
    # 02:15 does not exist in New York on 14 March 2027, nor at Lord Howe on 3 October 2027.
    ny = occurrences(datetime(2027, 3, 7, 2, 15, tzinfo=NEW_YORK), zone=NEW_YORK, interval_weeks=1, count=3)
    assert [o.start is None for o in ny] == [False, True, False]
    lh = occurrences(
        datetime(2027, 9, 26, 2, 15, tzinfo=LORD_HOWE), zone=LORD_HOWE, interval_weeks=1, count=2
    )
    assert lh[1].start is None and lh[1].local == datetime(2027, 10, 3, 2, 15)


def test_a_time_in_the_autumn_fold_is_its_first_instance() -> None:
    # 01:30 happens twice in New York on 7 November 2027: the first is EDT (05:30 UTC).
    assert resolve_local(datetime(2027, 11, 7, 1, 30), NEW_YORK) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)


def test_a_client_whose_zone_changes_on_another_date_is_told_which_occurrences_move() -> None:
    # New York goes forward on 14 March, Berlin on 28 March: 14:00 in Berlin for two weeks.
    first = datetime(2027, 3, 2, 8, 0, tzinfo=NEW_YORK)
    series = occurrences(first, zone=NEW_YORK, interval_weeks=1, count=5)
    moved = other_time_for_client(series, BERLIN)
    assert [o.day.isoformat() for o in moved] == ["2027-03-16", "2027-03-23"]
    assert [o.start.astimezone(BERLIN).hour for o in moved] == [13, 13]  # type: ignore[union-attr]
    assert other_time_for_client(series, NEW_YORK) == []


@pytest.mark.parametrize("bad", [{"interval_weeks": 0}, {"interval_weeks": 5}, {"count": 0}, {"count": 53}])
def test_out_of_range_repeats_are_refused(bad: dict[str, int]) -> None:
    args = {"interval_weeks": 1, "count": 2, **bad}
    with pytest.raises(ValueError):
        occurrences(datetime(2027, 1, 5, 9, tzinfo=UTC), zone=NEW_YORK, **args)


ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo"]


@given(
    zone_name=st.sampled_from(ZONES),
    day_offset=st.integers(min_value=0, max_value=800),
    minutes=st.integers(min_value=0, max_value=24 * 4 - 1).map(lambda q: q * 15),
    interval=st.integers(min_value=1, max_value=4),
    count=st.integers(min_value=1, max_value=30),
)
def test_the_same_instants_as_dateutils_rrule_in_the_zone(
    zone_name: str, day_offset: int, minutes: int, interval: int, count: int
) -> None:
    """An independent expansion: dateutil's rrule over the naive wall-clock times."""
    zone = ZoneInfo(zone_name)
    local_first = datetime(2026, 1, 1) + timedelta(days=day_offset, minutes=minutes)
    first = resolve_local(local_first, zone)
    if first is None:
        return  # the first date itself falls in a gap: no series starts there
    series = occurrences(first, zone=zone, interval_weeks=interval, count=count)
    expected = list(rrule(WEEKLY, interval=interval, count=count, dtstart=local_first))
    assert [o.local for o in series] == expected
    for occurrence in series:
        if occurrence.start is not None:
            assert occurrence.start.astimezone(zone).replace(tzinfo=None) == occurrence.local
