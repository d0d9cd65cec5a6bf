"""The raw event contract: one schema per eventsim topic, each field with its type and its domain.

Field names, order and JSON types are those eventsim writes for its four Kafka topics (its JSON
output; schemas.avsc carries the same information in Avro form). Beside its type every field has a
domain: the values a real event can hold. A line outside a domain is rejected like any bad line; a
categorical value eventsim does not send (a new plan level) is inside the domain: it is loaded and
counted as new. The simulator writes this order, the loader validates and types against it, and
checks and documentation read it: nothing else restates it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class FieldType(StrEnum):
    LONG = "long"
    INT = "int"
    DOUBLE = "double"
    STRING = "string"
    BOOLEAN = "boolean"


NUMBER_TYPES = (FieldType.LONG, FieldType.INT, FieldType.DOUBLE)
INTEGER_LIMITS = {FieldType.LONG: (-(2**63), 2**63 - 1), FieldType.INT: (-(2**31), 2**31 - 1)}

# Longest text a field may hold; longer values are rejected rather than loaded (eventsim's longest
# names are a few hundred characters).
MAX_STRING_CHARS = 10_000

# What text is cleaned of, once, in staging (names: songs, artists, places, people, agents), and what
# leaves a required string blank in the loader: control and format characters anywhere (tabs,
# zero-width spaces, byte-order marks), then separators (Unicode spaces) at either end. RE2 syntax,
# which DuckDB and BigQuery both read; dbt's clean_text macro writes the same two patterns.
INVISIBLE_CHARACTERS = r"[\p{Cc}\p{Cf}]"
EDGE_SPACES = r"^\p{Z}+|\p{Z}+$"

# Epoch milliseconds that both engines hold as a TIMESTAMP: BigQuery's range, the narrower one.
EPOCH_MS_MIN = -62_135_596_800_000  # 0001-01-01T00:00:00Z
EPOCH_MS_MAX = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


def epoch_ms_text(ms: int) -> str:
    """An epoch-milliseconds bound as the UTC day it falls on (datetime cannot hold year 0 or 10000)."""
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).date().isoformat()


@dataclass(frozen=True)
class Bounds:
    """The numbers a field can hold: low..high, both ends included unless low_excluded."""

    low: int | float
    high: int | float
    low_excluded: bool = False
    epoch_ms: bool = False  # the bounds are instants: shown as days

    def text(self) -> str:
        show = epoch_ms_text if self.epoch_ms else (lambda n: f"{n:g}" if isinstance(n, float) else str(n))
        return f"{show(self.low)}..{show(self.high)}" + (f", {show(self.low)} excluded" if self.low_excluded else "")

    def admits(self, value: float) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False
        above_low = value > self.low if self.low_excluded else value >= self.low
        return above_low and value <= self.high


@dataclass(frozen=True)
class Choice:
    """A closed set of values, named as a person says it ("an HTTP method")."""

    label: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    required: bool
    description: str
    bounds: Bounds | None = None  # numbers are always finite; bounds narrow them further
    choice: Choice | None = None  # the only values the field may hold
    known: tuple[str, ...] = ()  # what eventsim sends; another value is loaded and counted as new
    not_after: str | None = None  # a field of the same event whose value this one may not exceed

    @property
    def documentation(self) -> str:
        """The description and the domain, as column docs show them (dbt's sources, Dagster's schema)."""
        return f"{self.description} Domain: {self.domain_text()}."

    def domain_text(self) -> str:
        """The field's domain in words, as the documentation shows it."""
        rules = []
        if self.type == FieldType.DOUBLE:
            rules.append("finite")
        if self.bounds:
            rules.append(self.bounds.text())
        if self.not_after:
            rules.append(f"not after `{self.not_after}`")
        if self.type == FieldType.STRING:
            if self.required:
                rules.append("not blank")
            rules.append(f"at most {MAX_STRING_CHARS:,} characters")
        if self.choice:
            rules.append(f"{self.choice.label}: {', '.join(self.choice.values)}")
        if self.known:
            rules.append(f"known: {', '.join(self.known)} (others loaded, counted as new)")
        return "; ".join(rules) or "any"


# What tells one event from another: eventsim numbers a session's events (itemInSession) and stamps
# each (ts); a session id is unique across the site. The time is part of it, so an event's identity
# names its day: replacing a day can never touch an event of another day.
EVENT_IDENTITY = ("sessionId", "itemInSession", "ts")


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    fields: tuple[Field, ...]
    # The fields whose values identify an event of the topic, in this order: the loader's duplicate
    # rule and the event id (the vault's hash key of every event-grained entity) are built from them.
    identity: tuple[str, ...] = EVENT_IDENTITY

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


LONG, INT, DOUBLE, STRING, BOOLEAN = FieldType

INSTANT = Bounds(EPOCH_MS_MIN, EPOCH_MS_MAX, epoch_ms=True)
IDENTIFIER = Bounds(0, INTEGER_LIMITS[LONG][1])
# A play lasts more than nothing and at most a day: eventsim's catalogue tops out near 45 minutes
# (2,594.9 s), and a longer "song" would end after the day that is loading it.
SONG_SECONDS = Bounds(0, 86_400, low_excluded=True)
# RFC 9110's methods and PATCH (RFC 5789); method names are case-sensitive.
HTTP_METHOD = Choice("an HTTP method", ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"))
# The pages of eventsim's state machine (reference/site.json).
PAGES = (
    "About", "Cancel", "Cancellation Confirmation", "Downgrade", "Error", "Help", "Home", "Login", "Logout",
    "NextSong", "Register", "Save Settings", "Settings", "Submit Downgrade", "Submit Registration",
    "Submit Upgrade", "Upgrade",
)  # fmt: skip

TS = Field("ts", LONG, True, "Event time, epoch milliseconds (UTC).", bounds=INSTANT)
SESSION_ID = Field("sessionId", LONG, True, "Session id, unique across the site.", bounds=IDENTIFIER)
AUTH = Field(
    "auth", STRING, True, "Auth state: Logged In, Logged Out, Guest or Cancelled.",
    known=("Logged In", "Logged Out", "Guest", "Cancelled"),
)  # fmt: skip
LEVEL = Field("level", STRING, True, "Subscription level at the event: free or paid.", known=("free", "paid"))
ITEM_IN_SESSION = Field(
    "itemInSession",
    INT,
    True,
    "Position of the event in its session, from 0.",
    bounds=Bounds(0, INTEGER_LIMITS[INT][1]),
)
PAGE = Field("page", STRING, True, "Page requested, e.g. NextSong, Home, Submit Upgrade.", known=PAGES)
METHOD = Field("method", STRING, True, "HTTP method: GET or PUT.", choice=HTTP_METHOD, known=("GET", "PUT"))
STATUS = Field("status", INT, True, "HTTP status: 200, 307 or 404.", bounds=Bounds(100, 599))
SUCCESS = Field("success", BOOLEAN, True, "Whether the login succeeded.")
ARTIST = Field("artist", STRING, True, "Artist name as eventsim emits it (some names double-encoded UTF-8).")
SONG = Field("song", STRING, True, "Song title as eventsim emits it.")
DURATION = Field("duration", DOUBLE, True, "Song length in seconds.", bounds=SONG_SECONDS)
OPTIONAL_ARTIST = Field("artist", STRING, False, "Artist name, on NextSong page views only.")
OPTIONAL_SONG = Field("song", STRING, False, "Song title, on NextSong page views only.")
OPTIONAL_DURATION = Field(
    "duration", DOUBLE, False, "Song length in seconds, on NextSong page views only.", bounds=SONG_SECONDS
)

# Location and device (present on every eventsim event; NULL for imported classic data).
LOCATION_AND_DEVICE = (
    Field("city", STRING, False, "City of the user's (or guest's) location."),
    Field("zip", STRING, False, "ZIP code as a string (leading zeros kept)."),
    Field("state", STRING, False, "State code; may hold several, e.g. NY-NJ-PA."),
    Field("userAgent", STRING, False, "Browser user agent, often wrapped in literal double quotes."),
    Field("lon", DOUBLE, False, "Longitude of the location.", bounds=Bounds(-180, 180)),
    Field("lat", DOUBLE, False, "Latitude of the location.", bounds=Bounds(-90, 90)),
)
# User details: absent for guests and logged-out events.
USER_DETAILS = (
    Field("userId", LONG, False, "User id; absent for guests and logged-out events.", bounds=IDENTIFIER),
    Field("lastName", STRING, False, "User's last name; absent when not logged in."),
    Field("firstName", STRING, False, "User's first name; absent when not logged in."),
    Field("gender", STRING, False, "User's gender, M or F; absent when not logged in.", known=("M", "F")),
    Field(
        "registration",
        LONG,
        False,
        "Registration time, epoch milliseconds; absent when not logged in.",
        bounds=INSTANT,
        not_after="ts",
    ),  # fmt: skip
)
TAG = Field("tag", STRING, False, "Optional tag eventsim adds when run with --tag.")

TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        Topic(
            "listen_events",
            "One event per song played (page NextSong).",
            (
                ARTIST,
                SONG,
                DURATION,
                TS,
                SESSION_ID,
                AUTH,
                LEVEL,
                ITEM_IN_SESSION,
                *LOCATION_AND_DEVICE,
                *USER_DETAILS,
                TAG,
            ),
        ),
        Topic(
            "page_view_events",
            "Every page request of the site.",
            (
                TS,
                SESSION_ID,
                PAGE,
                AUTH,
                METHOD,
                STATUS,
                LEVEL,
                ITEM_IN_SESSION,
                *LOCATION_AND_DEVICE,
                *USER_DETAILS,
                OPTIONAL_ARTIST,
                OPTIONAL_SONG,
                OPTIONAL_DURATION,
                TAG,
            ),
        ),
        Topic(
            "auth_events",
            "The request that follows a Login: success when the user ends up logged in.",
            (TS, SESSION_ID, LEVEL, ITEM_IN_SESSION, *LOCATION_AND_DEVICE, *USER_DETAILS, SUCCESS, TAG),
        ),
        Topic(
            "status_change_events",
            "Subscription changes (Submit Upgrade, Submit Downgrade), with the level before the change.",
            (TS, SESSION_ID, AUTH, LEVEL, ITEM_IN_SESSION, *LOCATION_AND_DEVICE, *USER_DETAILS, TAG),
        ),
    )
}
