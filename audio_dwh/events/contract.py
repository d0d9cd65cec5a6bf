"""The raw event contract: one schema per eventsim topic.

Field names, order and JSON types are those eventsim writes for its four Kafka topics (its JSON
output; schemas.avsc carries the same information in Avro form). The simulator writes this order,
the loader validates and types against it, and checks and documentation read it: nothing else
restates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FieldType(StrEnum):
    LONG = "long"
    INT = "int"
    DOUBLE = "double"
    STRING = "string"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    required: bool
    description: str


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    fields: tuple[Field, ...]

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


def _f(name: str, type_: FieldType, required: bool, description: str) -> Field:
    return Field(name, type_, required, description)


LONG, INT, DOUBLE, STRING, BOOLEAN = FieldType

TS = _f("ts", LONG, True, "Event time, epoch milliseconds (UTC).")
SESSION_ID = _f("sessionId", LONG, True, "Session id, unique across the site.")
AUTH = _f("auth", STRING, True, "Auth state: Logged In, Logged Out, Guest or Cancelled.")
LEVEL = _f("level", STRING, True, "Subscription level at the event: free or paid.")
ITEM_IN_SESSION = _f("itemInSession", INT, True, "Position of the event in its session, from 0.")
PAGE = _f("page", STRING, True, "Page requested, e.g. NextSong, Home, Submit Upgrade.")
METHOD = _f("method", STRING, True, "HTTP method: GET or PUT.")
STATUS = _f("status", INT, True, "HTTP status: 200, 307 or 404.")
SUCCESS = _f("success", BOOLEAN, True, "Whether the login succeeded.")
ARTIST = _f("artist", STRING, True, "Artist name as eventsim emits it (some names double-encoded UTF-8).")
SONG = _f("song", STRING, True, "Song title as eventsim emits it.")
DURATION = _f("duration", DOUBLE, True, "Song length in seconds.")
OPTIONAL_ARTIST = _f("artist", STRING, False, "Artist name, on NextSong page views only.")
OPTIONAL_SONG = _f("song", STRING, False, "Song title, on NextSong page views only.")
OPTIONAL_DURATION = _f("duration", DOUBLE, False, "Song length in seconds, on NextSong page views only.")

# Location and device (present on every eventsim event; NULL for imported classic data).
LOCATION_AND_DEVICE = (
    _f("city", STRING, False, "City of the user's (or guest's) location."),
    _f("zip", STRING, False, "ZIP code as a string (leading zeros kept)."),
    _f("state", STRING, False, "State code; may hold several, e.g. NY-NJ-PA."),
    _f("userAgent", STRING, False, "Browser user agent, often wrapped in literal double quotes."),
    _f("lon", DOUBLE, False, "Longitude of the location."),
    _f("lat", DOUBLE, False, "Latitude of the location."),
)
# User details: absent for guests and logged-out events.
USER_DETAILS = (
    _f("userId", LONG, False, "User id; absent for guests and logged-out events."),
    _f("lastName", STRING, False, "User's last name; absent when not logged in."),
    _f("firstName", STRING, False, "User's first name; absent when not logged in."),
    _f("gender", STRING, False, "User's gender, M or F; absent when not logged in."),
    _f("registration", LONG, False, "Registration time, epoch milliseconds; absent when not logged in."),
)
TAG = _f("tag", STRING, False, "Optional tag eventsim adds when run with --tag.")

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

# Fields that identify one event of a topic; the raw event id is an MD5 over them.
EVENT_KEY = ("sessionId", "itemInSession", "ts")

# Longest text a field may hold; longer values are rejected rather than loaded (eventsim's longest
# names are a few hundred characters).
MAX_STRING_CHARS = 10_000
