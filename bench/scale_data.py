"""Issue 18: a coaching platform at scale, generated in Python and COPYed into PostgreSQL.

Factor 1.0 is 10,000 coaches (each a User with a verified address, a Coach, 1-3 offerings, weekly
hours, date overrides and a busy calendar), 1,000,000 bookings over two years around today
(mostly past and completed, some confirmed ahead, some cancelled, declined, pending or no-show;
a lognormal number per coach, so a few coaches are very busy), about 2,000,000 reminder rows (what
each offering's reminder settings plan for each booking: sent for the past, scheduled for calls
ahead, cancelled with their booking), a "created" event and the terminal event of each booking,
100,000 busy blocks, 50,000 passes (their packages and ledgers: ``remaining`` is the ledger's
sum; the bookings they paid for point at them) and one practice Client per (coach, client
email), with client accounts for some clients. Factors 0.01 and 0.1 scale every count; factor 0
is an empty platform.

At every factor the platform also holds the designated coach ``scale-coach`` (Europe/Berlin),
made from its own random seed so that its data are the same at every factor: 3,000 bookings,
400 busy blocks, about 450 clients, 40 passes, two API tokens (read and write; their keys are
returned by ``load``) and a password login (``SCALE_EMAIL`` / ``SCALE_PASSWORD``, bench only).
Only the rest of the platform grows.

How: every row is built as tab-separated text (no ORM), bookings, clients, passes and ledger
entries in the order they were created across the whole platform (so a coach's rows are spread
over the tables as they would be); the loaded tables' secondary indexes, unique and exclusion
constraints and foreign keys are dropped, the rows COPYed (psycopg 3 ``cursor.copy()``) and the
indexes and constraints created again in the same transaction, so PostgreSQL checks every row
against them once, in bulk (the no-overlap exclusion constraint included); then the sequences
are set past the largest ids and the tables are VACUUM ANALYZEd.

Usage (a fresh, migrated database named ``coaching_bench_scale_manual`` unless --database):
    .venv/bin/python -m bench.scale_data 0.1 [--database coaching_bench_scale_x]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import random
import sys
import time
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any

SCALE_SLUG = "scale-coach"
SCALE_EMAIL = "scale-coach@example.com"
SCALE_PASSWORD = "scale-coach-bench-only"  # noqa: S105 - a bench database on loopback
SCALE_ZONE = "Europe/Berlin"
SCALE_BOOKINGS = 3_000
SCALE_CLIENTS = 450
SCALE_PASSES = 40
SCALE_BUSY_BLOCKS = 400
# Per factor 1.0 (the rest of the platform; the designated coach comes on top).
PER_FACTOR = {
    "coaches": 10_000,
    "bookings": 1_000_000,
    "reminders": 2_000_000,
    "busy_blocks": 100_000,
    "passes": 50_000,
}
DATABASE_PREFIX = "coaching_bench_scale"
MAX_BOOKINGS_PER_COACH = 2_000

DAY = 86_400
PAST_DAYS = 700  # bookings from today - PAST_DAYS ...
FUTURE_DAYS = 60  # ... to today + FUTURE_DAYS (the default horizon)
BASE_BACK_DAYS = 800  # second 0 of the generator's clock: midnight UTC this many days ago

ZONES = (
    "Europe/Berlin",
    "Europe/London",
    "Europe/Paris",
    "Europe/Madrid",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Australia/Sydney",
    "Africa/Johannesburg",
)
FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Lukas",
    "Mia",
    "Noah",
    "Olga",
    "Paul",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Victor",
    "Wanda",
    "Xaver",
    "Yara",
    "Zoe",
    "Amir",
    "Bea",
    "Chen",
    "Dana",
    "Eli",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Jana",
    "Kofi",
    "Lea",
    "Mateo",
    "Nia",
]
LAST = [
    "Adams",
    "Becker",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Meyer",
    "Nakamura",
    "Olsen",
    "Petrov",
    "Quint",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ueda",
    "Vargas",
    "Weber",
    "Xu",
    "Young",
    "Zimmer",
    "Ahmed",
    "Brandt",
    "Carter",
    "Diaz",
    "Eriksen",
    "Fontaine",
    "Gruber",
    "Horvat",
    "Iqbal",
    "Jovanovic",
    "Klein",
    "Larsen",
    "Moreau",
    "Novak",
]
LOCALES = ("", "", "en-US", "en-GB", "de-DE", "fr-FR")
QUESTION = "What would you like to talk about?"
INTAKE = json.dumps([{"label": QUESTION, "type": "long_text", "required": False}])
# Weekly windows (weekday, "HH:MM", "HH:MM") a coach may keep.
HOURS = (
    [(d, "09:00", "17:00") for d in range(5)],
    [(d, w[0], w[1]) for d in range(4) for w in (("08:00", "12:00"), ("13:00", "18:00"))],
    [(d, "10:00", "19:00") for d in range(1, 6)],
    [(d, w[0], w[1]) for d in range(5) for w in (("07:00", "11:00"), ("16:00", "20:00"))],
    [(d, "09:00", "15:00") for d in (0, 2, 4)] + [(5, "10:00", "14:00")],
)
# Offerings a coach may have: slug, title, minutes, slot step.
KINDS = (
    ("intro-call", "Intro call", 30, 30),
    ("coaching-session", "Coaching session", 60, 30),
    ("deep-dive", "Deep dive", 90, 30),
    ("check-in", "Check-in", 20, 15),
    ("strategy-session", "Strategy session", 45, 15),
)
# Reminder settings (reminder_offsets JSON, the planned (recipient, minutes), follow-up) and
# how often coaches keep each: about two rows per booking across the platform.
REMINDER_CONFIGS = (
    ("{}", (("client", 1440), ("client", 60), ("coach", 60)), True),
    ('{"client": [1440], "coach": []}', (("client", 1440),), False),
    ('{"client": [1440], "coach": [60]}', (("client", 1440), ("coach", 60)), False),
    ('{"client": [120], "coach": [60]}', (("client", 120), ("coach", 60)), True),
)
REMINDER_WEIGHTS = (0.16, 0.39, 0.30, 0.15)
BIG_TABLES = (
    "accounts_user",
    "account_emailaddress",
    "coaching_coach",
    "coaching_offering",
    "coaching_weeklyhours",
    "coaching_dateoverride",
    "coaching_busycalendar",
    "coaching_busyblock",
    "coaching_apitoken",
    "practice_client",
    "practice_package",
    "practice_package_offerings",
    "practice_pass",
    "practice_passentry",
    "booking_booking",
    "booking_reminder",
    "booking_bookingevent",
)
COLUMNS = {
    "accounts_user": "id password last_login is_superuser email name time_zone is_staff is_active "
    "date_joined feed_key",
    "account_emailaddress": "id email verified primary user_id",
    "coaching_coach": "id slug display_name headline bio photo time_zone default_meeting_url created_at "
    "user_id feed_key community_enabled community_pitch intro_markdown contact_email featured_offering_id "
    "locale",
    "coaching_offering": "id slug title description duration_minutes slot_step_minutes buffer_before_minutes "
    "buffer_after_minutes min_notice_minutes horizon_days daily_cap requires_approval location_kind "
    "location_details intake_questions reminder_offsets is_active is_listed created_at coach_id "
    "cancel_notice_minutes max_reschedules reschedule_notice_minutes follow_up_enabled cancel_grace_minutes "
    "color price_amount price_currency phone_caller late_cancel_credit package_only",
    "coaching_weeklyhours": "id weekday start end coach_id",
    "coaching_dateoverride": "id date start end note coach_id",
    "coaching_busycalendar": "id name url created_at last_fetched_at last_error last_error_at etag "
    "last_modified blocks_until coach_id refresh_requested_at",
    "coaching_busyblock": "id start end source coach_id calendar_id caldav_calendar_id",
    "coaching_apitoken": "id name scope prefix key_hash created_at last_used_at revoked_at coach_id",
    "practice_client": "id email name notes created_at updated_at coach_id user_id",
    "practice_package": "id name description sessions validity_days valid_until price_amount price_currency "
    "is_active created_at coach_id",
    "practice_package_offerings": "id package_id offering_id",
    "practice_pass": "id reference key name sessions remaining expires_at expiry_reminder_sent_at created_at "
    "client_id coach_id package_id",
    "practice_passentry": "id kind amount actor reason late at notified_at booking_id pass_id",
    "booking_booking": "id reference client_name client_email client_time_zone note answers start end "
    "blocked_start blocked_end status sequence reschedule_count manage_key cancel_reason cancelled_by "
    "created_at updated_at client_id coach_id offering_id client_locale client_phone room_key "
    "client_pass_id client_record_id policy_cancel_notice_minutes policy_grace_minutes policy_late_credit "
    "series_index series_id",
    "booking_reminder": "id recipient kind due_at status generation attempts last_error claim claimed_at "
    "sent_at created_at updated_at booking_id",
    "booking_bookingevent": "id kind actor at detail booking_id notified_at",
}
N = r"\N"  # COPY's NULL
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ROOM = "abcdefghijkmnpqrstuvwxyz23456789"
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # 10 bits -> 2 characters
_ROOM_PAIRS = [a + b for a in _ROOM for b in _ROOM]


def scaled(factor: float) -> dict[str, int]:
    """The counts of the platform around the designated coach at ``factor``."""
    return {name: round(count * factor) for name, count in PER_FACTOR.items()}


def reference(prefix: str, serial: int) -> str:
    """``BK-7Q2M9XHD``-style: 8 Crockford characters of a bijection of ``serial`` (so unique)."""
    x = (serial * 0x9E3779B97 + 0x5DEECE66D) % (1 << 40)
    return prefix + _PAIRS[x >> 30] + _PAIRS[(x >> 20) & 1023] + _PAIRS[(x >> 10) & 1023] + _PAIRS[x & 1023]


def room_key(rng: random.Random) -> str:
    """26 characters of booking/tokens.py's room alphabet."""
    x = rng.getrandbits(130)
    return "".join(_ROOM_PAIRS[(x >> s) & 1023] for s in range(0, 130, 10))


class Clock:
    """Seconds since the generator's base (midnight UTC, ``BASE_BACK_DAYS`` ago) as COPY text."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.base = datetime.combine(now.date() - timedelta(days=BASE_BACK_DAYS), clock(0), UTC)
        self.now_s = int((now - self.base).total_seconds())
        self.today = BASE_BACK_DAYS  # the day number of today
        days = BASE_BACK_DAYS + 500  # up to the longest pass's expiry and then some
        self.dates = [(self.base + timedelta(days=d)).date() for d in range(days)]
        self.day_text = [d.isoformat() for d in self.dates]
        self.hm_text = [f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)]
        self.sec_text = [f"{s:02d}" for s in range(60)]
        self.base_weekday = self.dates[0].weekday()
        self._minutes: dict[int, str] = {}

    def ts(self, s: int) -> str:
        minute, second = divmod(s, 60)
        head = self._minutes.get(minute)
        if head is None:
            day, rest = divmod(minute, 1440)
            head = self._minutes[minute] = f"{self.day_text[day]} {self.hm_text[rest]}:"
        return head + self.sec_text[second] + "+00"

    def iso(self, s: int) -> str:
        day, rest = divmod(s, DAY)
        minute, second = divmod(rest, 60)
        return f"{self.day_text[day]}T{self.hm_text[minute]}:{self.sec_text[second]}+00:00"

    def weekday(self, day: int) -> int:
        return (self.base_weekday + day) % 7


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass
class OfferingPlan:
    id: int
    coach_id: int
    slug: str
    minutes: int
    step: int
    before: int
    after: int
    approval: bool
    reminders: tuple[tuple[str, int], ...]
    follow_up: bool
    cancel_notice: int
    grace: int
    late_credit: str
    intake: bool
    weight: float


@dataclass
class ClientRec:
    """A practice Client; ``id`` is given once every client of the platform is made."""

    coach_id: int
    email: str
    name: str
    zone: str
    user_id: int | None
    created: int = 1 << 62
    id: int = 0
    bookings: list[BookingRec] = field(default_factory=list)


@dataclass
class PassRec:
    coach_id: int
    package_id: int
    package_name: str
    sessions: int
    client: ClientRec
    created: int
    expires: int
    reference: str
    key: str
    remaining: int = 0
    reminder_sent: int | None = None
    id: int = 0


@dataclass
class BookingRec:
    created: int
    coach_id: int
    offering: OfferingPlan
    client: ClientRec
    start: int
    end: int
    status: str
    changed: int  # when the status last changed (cancel, decline, outcome), else created
    by: str  # who booked (client, or coach for them)
    cancelled_by: str
    manage_key: str
    room: str
    locale: str
    answer: int
    pass_rec: PassRec | None = None
    id: int = 0


@dataclass
class EntryRec:
    at: int
    kind: str
    amount: int
    actor: str
    pass_rec: PassRec
    booking: BookingRec | None
    late: bool = False
    reason: str = ""


@dataclass
class Platform:
    """Every row to load, by table; rows of tables without a global order are already text."""

    clock: Clock
    text: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in BIG_TABLES})
    bookings: list[BookingRec] = field(default_factory=list)
    clients: list[ClientRec] = field(default_factory=list)
    passes: list[PassRec] = field(default_factory=list)
    entries: list[EntryRec] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BIG_TABLES, 0))
    person_users: dict[str, int] = field(default_factory=dict)
    api_keys: dict[str, str] = field(default_factory=dict)

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def add(self, table: str, *values: object) -> int:
        """A row of ``values`` (the id first, given here); returns the id."""
        row_id = self.next_id(table)
        self.text[table].append("\t".join(map(str, (row_id, *values))) + "\n")
        return row_id

    def user(self, email: str, name: str, zone: str, joined: int, password: str) -> int:
        ts = self.clock.ts(joined)
        user_id = self.add("accounts_user", password, N, "f", email, name, zone, "f", "t", ts, "")
        self.add("account_emailaddress", email, "t", "t", user_id)
        return user_id


# ---------------------------------------------------------------------------
# One coach and everything that hangs off them
# ---------------------------------------------------------------------------
@dataclass
class CoachSpec:
    index: int
    slug: str
    name: str
    email: str
    zone: str
    hours: list[tuple[int, str, str]]
    kinds: list[int]  # indexes into KINDS
    bookings: int
    clients: int
    passes: int
    blocks: int
    password: str
    exact_zone: bool  # designated coach: local times through zoneinfo; others: today's UTC offset
    people: Callable[[random.Random, int], list[tuple[str, str, str, bool]]]
    overrides: list[tuple[int, str | None, str | None]] = field(default_factory=list)
    reminder_configs: list[int] | None = None


def _make_coach(p: Platform, rng: random.Random, spec: CoachSpec) -> int:
    """All rows of one coach; returns how many bookings could be placed."""
    ck = p.clock
    joined = (ck.today - PAST_DAYS - 60 - rng.randrange(30)) * DAY + rng.randrange(DAY)
    user_id = p.user(spec.email, spec.name, spec.zone, joined, spec.password)
    coach_id = p.add(
        "coaching_coach",
        spec.slug,
        spec.name,
        "Coaching for people who lead",
        "I help people find their next best move.",
        "",
        spec.zone,
        f"https://meet.example.com/{spec.slug}",
        ck.ts(joined + 600),
        user_id,
        "",
        "t",
        "",
        "",
        "",
        N,
        "",
    )
    if not spec.exact_zone and rng.random() < 0.08:  # some coaches use the API too
        for n in range(rng.choice((1, 1, 2))):
            key = f"cc_{rng.getrandbits(256):064x}"[:46]
            revoked = ck.ts(ck.now_s - rng.randrange(DAY, 90 * DAY)) if n and rng.random() < 0.5 else N
            p.add(
                "coaching_apitoken",
                "CRM sync" if n == 0 else "Zapier",
                rng.choice(("read", "write")),
                key[:10],
                hashlib.sha256(key.encode()).hexdigest(),
                ck.ts(joined + DAY * rng.randrange(1, 300)),
                ck.ts(ck.now_s - rng.randrange(60, 3 * DAY)),
                revoked,
                coach_id,
            )
    zone = zoneinfo.ZoneInfo(spec.zone)
    offset = int(ck.now.astimezone(zone).utcoffset().total_seconds())  # type: ignore[union-attr]

    def utc(day: int, minute: int) -> int:
        if spec.exact_zone:
            local = datetime.combine(ck.dates[day], clock(minute // 60, minute % 60), zone)
            return int((local - ck.base).total_seconds())
        return day * DAY + minute * 60 - offset

    # Offerings.
    offerings: list[OfferingPlan] = []
    for n, kind in enumerate(spec.kinds):
        slug, title, minutes, step = KINDS[kind]
        config = (
            spec.reminder_configs[n]
            if spec.reminder_configs
            else rng.choices(range(len(REMINDER_CONFIGS)), REMINDER_WEIGHTS)[0]
        )
        offsets_json, planned, follow_up = REMINDER_CONFIGS[config]
        before, after = rng.choice((0, 0, 5, 10)), rng.choice((0, 0, 5, 10, 15))
        if spec.exact_zone:
            before, after = (0, 0) if n == 0 else (10, 10) if n == 1 else (0, 15)
        approval = n == 2 or (n > 0 and rng.random() < 0.1)
        late_credit = rng.choice(("forfeit", "forfeit", "return_late"))
        location = ("room", "video", "in_person", "phone")[n % 4 if spec.exact_zone else rng.randrange(4)]
        details = {
            "room": "",
            "video": f"https://meet.example.com/{spec.slug}",
            "in_person": "Hauptstrasse 1, 10115 Berlin",
            "phone": "+49 30 1234567",
        }[location]
        intake = n > 0
        price = rng.choice((N, "0.00", "80.00", "120.00", "49.50"))
        offering_id = p.add(
            "coaching_offering",
            slug,
            title,
            f"A {minutes}-minute call.",
            minutes,
            step,
            before,
            after,
            240,
            60 if n == 0 else 90,
            N,
            "t" if approval else "f",
            location,
            details,
            INTAKE if intake else "[]",
            offsets_json,
            "t",
            "t",
            ck.ts(joined + 900 + n),
            coach_id,
            1440,
            2,
            1440,
            "t" if follow_up else "f",
            0 if n else 15,
            "#2f6f5e",
            price,
            "" if price == N else "EUR",
            "client",
            late_credit,
            "f",
        )
        offerings.append(
            OfferingPlan(
                offering_id,
                coach_id,
                slug,
                minutes,
                step,
                before,
                after,
                approval,
                planned,
                follow_up,
                1440,
                0 if n else 15,
                late_credit,
                intake,
                (3.0, 2.0, 1.0)[min(n, 2)],
            )
        )

    # Weekly hours and date overrides.
    windows: dict[int, list[tuple[int, int]]] = {}
    for weekday, start, end in spec.hours:
        p.add("coaching_weeklyhours", weekday, f"{start}:00", f"{end}:00", coach_id)
        windows.setdefault(weekday, []).append((_minutes(start), _minutes(end)))
    off_days = set()
    overrides = spec.overrides or [
        (ck.today + rng.randrange(-PAST_DAYS, FUTURE_DAYS), None, None) for _ in range(2)
    ] + [(ck.today + rng.randrange(1, FUTURE_DAYS), "10:00", "13:00")]
    seen_override_days = set()
    for day, start, end in overrides:
        if day in seen_override_days:
            continue
        seen_override_days.add(day)
        if start is None:
            off_days.add(day)
            p.add("coaching_dateoverride", ck.day_text[day], N, N, "Away", coach_id)
        else:
            p.add(
                "coaching_dateoverride", ck.day_text[day], f"{start}:00", f"{end}:00", "Extra hours", coach_id
            )

    # Bookings: each in a random free place of a working day (no two of a coach overlap,
    # buffers included, whatever their status).
    days = [
        d
        for d in range(ck.today - PAST_DAYS, ck.today + FUTURE_DAYS)
        if ck.weekday(d) in windows and d not in off_days
    ]
    placed: dict[int, list[tuple[int, int]]] = {}
    people = spec.people(rng, spec.clients)
    clients: list[ClientRec] = []
    for email, name, person_zone, has_account in people:
        user = p.person_users.get(email)
        if has_account and user is None:
            user = p.user(email, name, person_zone, joined, "!" + f"{rng.getrandbits(160):040x}")
            p.person_users[email] = user
        clients.append(ClientRec(coach_id, email, name, person_zone, user))
    weights = list(itertools.accumulate(1.0 / (j + 1) ** 0.7 for j in range(len(clients))))
    offer_weights = list(itertools.accumulate(o.weight for o in offerings))
    now_s = ck.now_s
    made: list[BookingRec] = []
    attempts = 0
    while len(made) < spec.bookings and attempts < spec.bookings * 8 and days:
        attempts += 1
        day = days[rng.randrange(len(days))]
        if day >= ck.today and rng.random() > 0.8 - 0.6 * (day - ck.today) / FUTURE_DAYS:
            continue  # fewer calls booked the further ahead
        day_windows = windows[ck.weekday(day)]
        w_start, w_end = day_windows[rng.randrange(len(day_windows))]
        offering = rng.choices(offerings, cum_weights=offer_weights)[0]
        fits = (w_end - w_start - offering.minutes) // offering.step + 1
        if fits <= 0:
            continue
        local = w_start + offering.step * rng.randrange(fits)
        blocked = (local - offering.before, local + offering.minutes + offering.after)
        taken = placed.setdefault(day, [])
        if any(blocked[0] < b and a < blocked[1] for a, b in taken):
            continue
        taken.append(blocked)
        start = utc(day, local)
        end = start + offering.minutes * 60
        lead = 4 * 3600 + int(rng.expovariate(1 / (6 * DAY)))
        created = start - min(lead, 45 * DAY)
        if created >= now_s:
            created = now_s - rng.randrange(300, 7 * DAY)
        client = clients[rng.choices(range(len(clients)), cum_weights=weights)[0]]
        r = rng.random()
        cancelled_by = ""
        changed = created
        if start < now_s:
            if r < 0.80:
                status, changed = "completed", min(end + rng.randrange(600, 2 * DAY), now_s - 60)
            elif r < 0.89:
                status, cancelled_by = "cancelled", rng.choice(("client", "client", "coach"))
            elif r < 0.92:
                status, changed = "no_show", min(end + rng.randrange(600, 2 * DAY), now_s - 60)
            elif r < 0.98 or not offering.approval:
                status = "confirmed"  # ended, outcome not marked yet
            else:
                status = "declined"
        elif offering.approval and r < 0.25:
            status = "pending" if r < 0.18 else "declined"
        elif r < 0.91:
            status = "confirmed"
        else:
            status, cancelled_by = "cancelled", rng.choice(("client", "client", "coach"))
        if status == "cancelled":
            changed = created + int(rng.random() * (min(start, now_s) - created))
        elif status == "declined":
            changed = min(created + rng.randrange(600, DAY), now_s - 60)
        booking = BookingRec(
            created,
            coach_id,
            offering,
            client,
            start,
            end,
            status,
            max(changed, created),
            "coach" if rng.random() < 0.05 else "client",
            cancelled_by,
            f"{rng.getrandbits(128):032x}",
            room_key(rng),
            LOCALES[rng.randrange(len(LOCALES))],
            rng.randrange(1000),
        )
        made.append(booking)
        client.bookings.append(booking)
        client.created = min(client.created, created)
    clients = [c for c in clients if c.bookings]
    p.bookings.extend(made)
    p.clients.extend(clients)

    # Busy time from the coach's calendar, where the coach has no call.
    if spec.blocks:
        cal_created = (ck.today - 120) * DAY + rng.randrange(DAY)
        calendar_id = p.add(
            "coaching_busycalendar",
            "Work",
            f"https://calendar.example.com/{spec.slug}/basic.ics",
            ck.ts(cal_created),
            ck.ts(now_s - rng.randrange(60, 600)),
            "",
            N,
            "",
            "",
            ck.ts(now_s + 90 * DAY),
            coach_id,
            N,
        )
        block_days = range(ck.today - 30, ck.today + 90)
        made_blocks = 0
        for _ in range(spec.blocks * 8):
            if made_blocks >= spec.blocks:
                break
            day = block_days[rng.randrange(len(block_days))]
            local = 7 * 60 + 15 * rng.randrange(13 * 4)
            minutes = rng.choice((30, 30, 60, 60, 90, 120))
            taken = placed.setdefault(day, [])
            if any(local < b and a < local + minutes for a, b in taken):
                continue
            taken.append((local, local + minutes))
            start = utc(day, local)
            p.add(
                "coaching_busyblock",
                ck.ts(start),
                ck.ts(start + minutes * 60),
                "Work",
                coach_id,
                calendar_id,
                N,
            )
            made_blocks += 1

    # Packages and passes: a pass pays for a run of its client's bookings of covered offerings.
    if spec.passes and clients:
        packages = []
        for n, (name, sessions, validity) in enumerate((("5 sessions", 5, 180), ("10 sessions", 10, 365))):
            if n and len(offerings) == 1 and not spec.exact_zone and rng.random() < 0.5:
                continue
            covered = offerings[1:] if len(offerings) > 1 and n == 0 else offerings
            package_id = p.add(
                "practice_package",
                name,
                f"{sessions} sessions, valid {validity} days.",
                sessions,
                validity,
                N,
                f"{sessions * 90}.00",
                "EUR",
                "t",
                ck.ts(joined + 1200 + n),
                coach_id,
            )
            for offering in covered:
                p.add("practice_package_offerings", package_id, offering.id)
            packages.append((package_id, name, sessions, validity, {o.id for o in covered}))
        for _ in range(spec.passes):
            package_id, name, sessions, validity, covered = packages[rng.randrange(len(packages))]
            client = clients[rng.randrange(len(clients))]
            candidates = [b for b in client.bookings if b.pass_rec is None and b.offering.id in covered]
            candidates.sort(key=lambda b: b.start)
            if candidates:
                first = rng.randrange(len(candidates))
                created = candidates[first].created - rng.randrange(3600, 10 * DAY)
            else:
                first, created = 0, now_s - rng.randrange(DAY, 300 * DAY)
            expires = created + validity * DAY
            serial = len(p.passes) + 1
            pass_rec = PassRec(
                coach_id,
                package_id,
                name,
                sessions,
                client,
                created,
                expires,
                reference("PS-", serial),
                f"{rng.getrandbits(128):032x}",
            )
            client.created = min(client.created, created)
            p.passes.append(pass_rec)
            _ledger(
                p, rng, pass_rec, [b for b in candidates[first:] if created < b.created and b.start < expires]
            )
    return len(made)


def _ledger(p: Platform, rng: random.Random, pass_rec: PassRec, runs: list[BookingRec]) -> None:
    """The pass's entries: the grant, one use per booking it paid for, a return (or a forfeit)
    for those called off, the expiry of what was left; ``remaining`` is their sum."""
    now_s = p.clock.now_s
    balance = pass_rec.sessions
    entries = p.entries
    entries.append(EntryRec(pass_rec.created, "grant", balance, "coach", pass_rec, None))
    for booking in runs[: pass_rec.sessions]:
        booking.pass_rec = pass_rec
        entries.append(EntryRec(booking.created, "use", -1, "client", pass_rec, booking))
        balance -= 1
        if booking.status in ("cancelled", "declined"):
            late = booking.status == "cancelled" and booking.start - booking.changed < 1440 * 60
            if late and booking.offering.late_credit == "forfeit":
                entries.append(
                    EntryRec(booking.changed, "forfeit", 0, booking.cancelled_by, pass_rec, booking)
                )
            else:
                actor = "coach" if booking.status == "declined" else booking.cancelled_by
                entries.append(EntryRec(booking.changed, "return", 1, actor, pass_rec, booking, late=late))
                balance += 1
    if pass_rec.expires <= now_s and balance > 0:
        entries.append(
            EntryRec(pass_rec.expires + rng.randrange(60, 900), "expire", -balance, "system", pass_rec, None)
        )
        balance = 0
    pass_rec.remaining = balance
    if pass_rec.expires - 7 * DAY <= now_s:
        pass_rec.reminder_sent = pass_rec.expires - 7 * DAY + rng.randrange(60, 3600)


# ---------------------------------------------------------------------------
# The platform
# ---------------------------------------------------------------------------
def _person(p: int, domain: str) -> tuple[str, str, str]:
    first, last = FIRST[p % len(FIRST)], LAST[(p // len(FIRST)) % len(LAST)]
    return f"{first}.{last}.{p}@{domain}".lower(), f"{first} {last}", ZONES[(p * 7) % len(ZONES)]


def _designated(p: Platform, seed: int) -> None:
    """The measured coach: the same rows at every factor (its own random generator)."""
    rng = random.Random(f"scale-coach-{seed}")
    from django.contrib.auth.hashers import make_password

    from coaching.services import TOKEN_PREFIX, api_token_hash

    today = p.clock.today
    saturday = next(d for d in range(today + 14, today + 21) if p.clock.weekday(d) == 5)

    def people(rng: random.Random, count: int) -> list[tuple[str, str, str, bool]]:
        return [(*_person(i, "clients.example.org"), i % 10 == 0) for i in range(count)]

    spec = CoachSpec(
        index=0,
        slug=SCALE_SLUG,
        name="Scale Coach",
        email=SCALE_EMAIL,
        zone=SCALE_ZONE,
        hours=[(d, w[0], w[1]) for d in range(5) for w in (("09:00", "12:30"), ("13:30", "18:00"))],
        kinds=[0, 1, 2],
        bookings=SCALE_BOOKINGS,
        clients=SCALE_CLIENTS,
        passes=SCALE_PASSES,
        blocks=SCALE_BUSY_BLOCKS,
        password=make_password(SCALE_PASSWORD),
        exact_zone=True,
        people=people,
        overrides=[
            (today - 200, None, None),
            (today - 100, None, None),
            (today + 10, None, None),
            (today + 24, None, None),
            (saturday, "10:00", "13:00"),
        ],
        reminder_configs=[0, 3, 1],
    )
    placed = _make_coach(p, rng, spec)
    assert placed == SCALE_BOOKINGS, placed
    coach_id = p.ids["coaching_coach"]
    for scope in ("read", "write"):
        key = TOKEN_PREFIX + hashlib.sha256(f"{seed}-{scope}-{rng.random()}".encode()).hexdigest()[:43]
        p.add(
            "coaching_apitoken",
            f"bench {scope}",
            scope,
            key[:10],
            api_token_hash(key),
            p.clock.ts(p.clock.now_s - DAY),
            N,
            N,
            coach_id,
        )
        p.api_keys[scope] = key


def _rest(p: Platform, counts: dict[str, int], seed: int) -> None:
    """Every other coach: bookings, busy blocks and passes shared out with a lognormal skew."""
    rng = random.Random(f"platform-{seed}")
    coaches = counts["coaches"]
    if not coaches:
        return
    weights = [rng.lognormvariate(0, 1.0) for _ in range(coaches)]
    bookings = _share(counts["bookings"], weights, cap=MAX_BOOKINGS_PER_COACH, rng=rng)
    blocks = _share(counts["busy_blocks"], [rng.lognormvariate(0, 0.8) for _ in range(coaches)], rng=rng)
    pass_weights = [k if k >= 5 else 0 for k in bookings]
    passes = _share(counts["passes"], pass_weights, rng=rng)
    pool = max(2_000, int(counts["bookings"] * 0.25))

    def people(rng: random.Random, count: int) -> list[tuple[str, str, str, bool]]:
        return [(*_person(q, "example.net"), q % 25 == 0) for q in rng.sample(range(pool), min(count, pool))]

    short = 0
    for index in range(coaches):
        want = bookings[index] + short
        hours = HOURS[rng.randrange(len(HOURS))] if want < 600 else HOURS[rng.randrange(3)]
        kinds = rng.sample(range(len(KINDS)), rng.choice((1, 2, 2, 3)))
        first_name, last_name = FIRST[index % len(FIRST)], LAST[(index * 7) % len(LAST)]
        spec = CoachSpec(
            index=index + 1,
            slug=f"coach-{index + 1:05d}",
            name=f"{first_name} {last_name}",
            email=f"coach-{index + 1:05d}@coaches.example.com",
            zone=ZONES[rng.randrange(len(ZONES))],
            hours=hours,
            kinds=kinds,
            bookings=min(want, MAX_BOOKINGS_PER_COACH),
            clients=max(2, round(min(want, MAX_BOOKINGS_PER_COACH) * 0.33)),
            passes=passes[index],
            blocks=blocks[index],
            password="!" + f"{rng.getrandbits(160):040x}",
            exact_zone=False,
            people=people,
        )
        short = want - _make_coach(p, rng, spec)
    if short:
        print(f"  note: {short} bookings could not be placed", file=sys.stderr)


def _share(total: int, weights: list[float], *, rng: random.Random, cap: int | None = None) -> list[int]:
    """``total`` split in proportion to ``weights`` (whole numbers summing to ``total``), at most ``cap`` each."""
    mass = sum(weights)
    if not total or not mass:
        return [0] * len(weights)
    shares = [math.floor(total * w / mass) for w in weights]
    if cap is not None:
        shares = [min(s, cap) for s in shares]
    eligible = [i for i, w in enumerate(weights) if w > 0 and (cap is None or shares[i] < cap)]
    missing = total - sum(shares)
    while missing > 0 and eligible:
        i = eligible[rng.randrange(len(eligible))]
        shares[i] += 1
        missing -= 1
        if cap is not None and shares[i] >= cap:
            eligible.remove(i)
    return shares


def build(factor: float, *, now: datetime, seed: int = 18) -> Platform:
    """Every row of the platform at ``factor`` (and the designated coach), ids given in creation order."""
    p = Platform(Clock(now))
    _designated(p, seed)
    _rest(p, scaled(factor), seed)
    for i, client in enumerate(sorted(p.clients, key=lambda c: c.created), start=1):
        client.id = i
    for i, pass_rec in enumerate(sorted(p.passes, key=lambda x: x.created), start=1):
        pass_rec.id = i
    p.bookings.sort(key=lambda b: b.created)
    for i, booking in enumerate(p.bookings, start=1):
        booking.id = i
    p.entries.sort(key=lambda e: e.at)
    return p


# ---------------------------------------------------------------------------
# Rows as COPY text
# ---------------------------------------------------------------------------
def booking_rows(p: Platform, counts: dict[str, int]) -> Iterator[str]:
    ts = p.clock.ts
    answers = [json.dumps({QUESTION: f"Topic {n}"}) for n in range(1000)]
    for b in p.bookings:
        o = b.offering
        c = b.client
        counts["booking_booking"] += 1
        yield (
            f"{b.id}\t{reference('BK-', b.id)}\t{c.name}\t{c.email}\t{c.zone}\t\t"
            f"{answers[b.answer] if o.intake else '{}'}\t{ts(b.start)}\t{ts(b.end)}\t"
            f"{ts(b.start - o.before * 60)}\t{ts(b.end + o.after * 60)}\t{b.status}\t"
            f"{0 if b.changed == b.created else 1}\t0\t{b.manage_key}\t\t{b.cancelled_by}\t"
            f"{ts(b.created)}\t{ts(b.changed)}\t{c.user_id if c.user_id else N}\t{b.coach_id}\t{o.id}\t"
            f"{b.locale}\t\t{b.room}\t{b.pass_rec.id if b.pass_rec else N}\t{c.id}\t"
            f"{o.cancel_notice}\t{o.grace}\t{o.late_credit}\t{N}\t{N}\n"
        )


def reminder_and_event_rows(p: Platform, counts: dict[str, int]) -> tuple[Iterator[str], Iterator[str]]:
    """The reminder rows and the event rows of every booking (two streams over one pass)."""
    return _reminder_rows(p, counts), _event_rows(p, counts)


def _reminder_rows(p: Platform, counts: dict[str, int]) -> Iterator[str]:
    ts = p.clock.ts
    now_s = p.clock.now_s
    row_id = 0
    for b in p.bookings:
        status = b.status
        if status in ("pending", "declined"):
            continue  # planned only once confirmed
        o = b.offering
        created = ts(b.created)
        planned = [(recipient, f"before-{m}", b.start - m * 60) for recipient, m in o.reminders]
        if o.follow_up:
            planned.append(("client", "follow-up", b.end + 3600))
        for recipient, kind, due in planned:
            if due <= b.created:
                continue
            if status == "cancelled" and due >= b.changed:
                state = "cancelled"
            elif kind == "follow-up" and status == "no_show":
                state = "no-follow-up"
            elif due > now_s:
                state = "scheduled"
            else:
                state = "sent"
            row_id += 1
            if state == "sent":
                yield (
                    f"{row_id}\t{recipient}\t{kind}\t{ts(due)}\tsent\t1\t1\t\t\t{ts(due + 20)}\t{ts(due + 22)}\t"
                    f"{created}\t{ts(due + 22)}\t{b.id}\n"
                )
            elif state == "scheduled":
                yield f"{row_id}\t{recipient}\t{kind}\t{ts(due)}\tscheduled\t1\t0\t\t\t{N}\t{N}\t{created}\t{created}\t{b.id}\n"
            elif state == "cancelled":
                yield (
                    f"{row_id}\t{recipient}\t{kind}\t{ts(due)}\tcancelled\t1\t0\t\t\t{N}\t{N}\t{created}\t"
                    f"{ts(b.changed)}\t{b.id}\n"
                )
            else:
                yield (
                    f"{row_id}\t{recipient}\t{kind}\t{ts(due)}\tcancelled\t1\t1\t"
                    f"No follow-up: the call did not take place.\t\t{ts(due + 20)}\t{N}\t{created}\t"
                    f"{ts(due + 21)}\t{b.id}\n"
                )
    counts["booking_reminder"] = row_id


_TERMINAL = {"cancelled": "cancelled", "declined": "declined", "completed": "completed", "no_show": "no_show"}


def _event_rows(p: Platform, counts: dict[str, int]) -> Iterator[str]:
    ts, iso = p.clock.ts, p.clock.iso
    row_id = 0
    for b in p.bookings:
        row_id += 1
        yield f'{row_id}\tcreated\t{b.by}\t{ts(b.created)}\t{{"start": "{iso(b.start)}"}}\t{b.id}\t{ts(b.created + 1)}\n'
        kind = _TERMINAL.get(b.status)
        if kind is not None:
            row_id += 1
            actor = b.cancelled_by if kind == "cancelled" else "coach"
            detail = '{"reason": ""}' if kind in ("cancelled", "declined") else "{}"
            yield f"{row_id}\t{kind}\t{actor}\t{ts(b.changed)}\t{detail}\t{b.id}\t{ts(b.changed + 1)}\n"
    counts["booking_bookingevent"] = row_id


def client_rows(p: Platform) -> Iterator[str]:
    ts = p.clock.ts
    for c in sorted(p.clients, key=lambda c: c.id):
        yield f"{c.id}\t{c.email}\t{c.name}\t\t{ts(c.created)}\t{ts(c.created)}\t{c.coach_id}\t{c.user_id or N}\n"


def pass_rows(p: Platform) -> Iterator[str]:
    ts = p.clock.ts
    for x in sorted(p.passes, key=lambda x: x.id):
        sent = ts(x.reminder_sent) if x.reminder_sent is not None else N
        yield (
            f"{x.id}\t{x.reference}\t{x.key}\t{x.package_name}\t{x.sessions}\t{x.remaining}\t{ts(x.expires)}\t"
            f"{sent}\t{ts(x.created)}\t{x.client.id}\t{x.coach_id}\t{x.package_id}\n"
        )


def entry_rows(p: Platform) -> Iterator[str]:
    ts = p.clock.ts
    for i, e in enumerate(p.entries, start=1):
        booking = e.booking.id if e.booking is not None else N
        notified = ts(e.at + 30) if e.kind == "grant" else N
        yield (
            f"{i}\t{e.kind}\t{e.amount}\t{e.actor}\t{e.reason}\t{'t' if e.late else 'f'}\t{ts(e.at)}\t"
            f"{notified}\t{booking}\t{e.pass_rec.id}\n"
        )


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------
def _columns_sql(table: str) -> str:
    return ", ".join(f'"{c}"' for c in COLUMNS[table].split())


def _check_columns(cur: Any) -> None:
    """Refuse to load when a table's NOT NULL columns without a default are not all ours (a new
    migration): COPY would fail on them, so say which."""
    for table in BIG_TABLES:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
            " AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'",
            [table],
        )
        missing = {row[0] for row in cur.fetchall()} - set(COLUMNS[table].split())
        if missing:
            raise RuntimeError(f"{table} has columns the generator does not fill: {sorted(missing)}")


def _copy(cur: Any, table: str, rows: Iterable[str]) -> int:
    """COPY ``rows`` (text lines) into ``table``; how many."""
    count = 0
    chunk: list[str] = []
    from psycopg.copy import QueuedLibpqWriter

    # The writer sends from a thread of its own: building the next rows overlaps the server's work.
    with cur.copy(f"COPY {table} ({_columns_sql(table)}) FROM STDIN", writer=QueuedLibpqWriter(cur)) as copy:
        for line in rows:
            chunk.append(line)
            if len(chunk) >= 4000:
                copy.write("".join(chunk))
                count += len(chunk)
                chunk.clear()
        if chunk:
            copy.write("".join(chunk))
            count += len(chunk)
    return count


def _detach(cur: Any) -> list[str]:
    """Drop the loaded tables' foreign keys, unique and exclusion constraints and secondary
    indexes; return the statements that make them again (the constraints last)."""
    tables = list(BIG_TABLES)
    cur.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint"
        " WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u', 'x') ORDER BY contype",
        [tables],
    )
    constraints = cur.fetchall()
    cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT EXISTS ("
        "   SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid"
        "   AND c.contype IN ('p', 'u', 'x'))",
        [tables],
    )
    indexes = cur.fetchall()
    for table, name, _definition, _kind in sorted(constraints, key=lambda c: c[3] != "f"):
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cur.execute(f"DROP INDEX {name}")
    restore = [definition for _name, definition in indexes]
    restore += [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, definition, kind in sorted(constraints, key=lambda c: c[3] == "f")
    ]
    return restore


def load(database_url: str, factor: float, *, now: datetime | None = None, seed: int = 18) -> dict[str, Any]:
    """Generate the platform at ``factor`` and load it into the (migrated, empty) database."""
    import psycopg
    from psycopg import sql

    now = now or datetime.now(UTC)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    p = build(factor, now=now, seed=seed)
    timings["build"] = time.perf_counter() - t0
    counts: dict[str, int] = {}
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET synchronous_commit = off")
        _check_columns(cur)
        t = time.perf_counter()
        restore = _detach(cur)
        for table in (
            "accounts_user",
            "account_emailaddress",
            "coaching_coach",
            "coaching_offering",
            "coaching_weeklyhours",
            "coaching_dateoverride",
            "coaching_busycalendar",
            "coaching_busyblock",
            "coaching_apitoken",
            "practice_package",
            "practice_package_offerings",
        ):
            counts[table] = _copy(cur, table, p.text[table])
            p.text[table] = []
        counts["practice_client"] = _copy(cur, "practice_client", client_rows(p))
        counts["practice_pass"] = _copy(cur, "practice_pass", pass_rows(p))
        counts["practice_passentry"] = _copy(cur, "practice_passentry", entry_rows(p))
        streamed: dict[str, int] = {"booking_booking": 0}
        _copy(cur, "booking_booking", booking_rows(p, streamed))
        reminders, events = reminder_and_event_rows(p, streamed)
        _copy(cur, "booking_reminder", reminders)
        _copy(cur, "booking_bookingevent", events)
        counts.update(streamed)
        timings["copy"] = time.perf_counter() - t
        t = time.perf_counter()
        for statement in restore:
            cur.execute(statement)
        timings["indexes and constraints"] = time.perf_counter() - t
        conn.commit()
    t = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        for table in BIG_TABLES:
            conn.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({name}, 'id'), GREATEST(MAX(id), 1), MAX(id) IS NOT NULL)"
                    " FROM {table}"
                ).format(name=sql.Literal(table), table=sql.Identifier(table))
            )
        timings["sequences"] = time.perf_counter() - t
        t = time.perf_counter()
        for table in BIG_TABLES:
            conn.execute(f"VACUUM (ANALYZE) {table}")
        timings["vacuum analyze"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    return {
        "factor": factor,
        "counts": counts,
        "timings": timings,
        "api_keys": p.api_keys,
        "now": now.isoformat(),
    }


def check(database_url: str) -> dict[str, int]:
    """Invariants the app relies on that no constraint states; every value should be 0."""
    import psycopg

    queries = {
        "passes whose remaining is not their ledger's sum": (
            "SELECT count(*) FROM practice_pass p LEFT JOIN (SELECT pass_id, sum(amount) s FROM practice_passentry"
            " GROUP BY pass_id) e ON e.pass_id = p.id WHERE p.remaining <> coalesce(e.s, 0)"
        ),
        "bookings paid by a pass without its use entry": (
            "SELECT count(*) FROM booking_booking b WHERE b.client_pass_id IS NOT NULL AND NOT EXISTS ("
            "SELECT 1 FROM practice_passentry e WHERE e.booking_id = b.id AND e.kind = 'use')"
        ),
        "bookings whose client record is another coach's or address's": (
            "SELECT count(*) FROM booking_booking b JOIN practice_client c ON c.id = b.client_record_id"
            " WHERE c.coach_id <> b.coach_id OR c.email <> lower(b.client_email)"
        ),
        "bookings without a client record": "SELECT count(*) FROM booking_booking WHERE client_record_id IS NULL",
        "scheduled reminders already due": (
            "SELECT count(*) FROM booking_reminder WHERE status = 'scheduled' AND due_at <= now() - interval '1 hour'"
        ),
        "scheduled reminders before calls not confirmed": (
            "SELECT count(*) FROM booking_reminder r JOIN booking_booking b ON b.id = r.booking_id"
            " WHERE r.status = 'scheduled' AND r.kind <> 'follow-up' AND b.status <> 'confirmed'"
        ),
        "active bookings of a coach that overlap (the exclusion constraint's job)": (
            "SELECT count(*) FROM booking_booking a JOIN booking_booking b ON a.coach_id = b.coach_id"
            " AND a.id < b.id AND a.blocked_start < b.blocked_end AND b.blocked_start < a.blocked_end"
            " WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')"
        ),
    }
    with psycopg.connect(database_url) as conn:
        return {name: conn.execute(sql).fetchone()[0] for name, sql in queries.items()}  # type: ignore[index]


def main(argv: list[str] | None = None) -> int:
    """Create a fresh database, migrate it, load a factor and print what was loaded."""
    import os
    import subprocess

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("factor", type=float)
    parser.add_argument("--database", default=f"{DATABASE_PREFIX}_manual")
    args = parser.parse_args(argv)
    if not args.database.startswith(DATABASE_PREFIX):
        parser.error(f"the database's name must start with {DATABASE_PREFIX}")
    from bench.server import ROOT, fresh_database, stack_env

    url = fresh_database(args.database)
    env = stack_env(url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"})
    os.environ.setdefault("DJANGO_SECRET_KEY", env["DJANGO_SECRET_KEY"])
    import django

    django.setup()
    report = load(url, args.factor)
    print(json.dumps({**report, "checks": check(url)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
