"""The hostile-input corpora of 2026-11-02: every kind of bad line the loader must account for (on listen
events), and lines of the contract's types whose values no real event can hold (on every topic that
has the field). Shared by the loader's tests and the reliability tests that run them through Dagster."""

import json

DAY_START_MS = 1_793_577_600_000  # 2026-11-02T00:00:00Z


def good_listen(**changes) -> dict:
    event = {"artist": "Björk", "song": "Undo", "duration": 348.57751, "ts": DAY_START_MS + 3_600_000,
             "sessionId": 1, "auth": "Logged In", "level": "paid", "itemInSession": 0, "city": "Boston",
             "zip": "02134", "state": "MA", "userAgent": "Mozilla/5.0", "lon": -71.1, "lat": 42.35,
             "userId": 7, "lastName": "Smith", "firstName": "Ann", "gender": "F",
             "registration": 1_700_000_000_000}  # fmt: skip
    event.update(changes)
    return {k: v for k, v in event.items() if v is not ...}


def good_page_view(**changes) -> dict:
    event = {"ts": DAY_START_MS + 7_200_000, "sessionId": 2, "page": "Home", "auth": "Logged In", "method": "GET",
             "status": 200, "level": "free", "itemInSession": 3, "city": "Boston", "zip": "02134", "state": "MA",
             "userAgent": "Mozilla/5.0", "lon": -71.1, "lat": 42.35, "userId": 8, "lastName": "Jones",
             "firstName": "Bo", "gender": "M", "registration": 1_700_000_000_000}  # fmt: skip
    event.update(changes)
    return {k: v for k, v in event.items() if v is not ...}


def line(**changes) -> bytes:
    return json.dumps(good_listen(**changes), ensure_ascii=False).encode()


def page_view(**changes) -> bytes:
    return json.dumps(good_page_view(**changes), ensure_ascii=False).encode()


# (raw line, expected reason fragment): every kind of bad line the loader must account for.
BAD_LINES: list[tuple[bytes, str]] = [
    (line(sessionId=100)[:-20], "invalid JSON"),  # truncated
    (b"this is not json at all", "invalid JSON"),
    (b"[1, 2, 3]", "not a JSON object"),
    (b"42", "not a JSON object"),
    (b"", "blank line"),
    (b"   ", "blank line"),
    (line(sessionId=101).replace(b"Smith", b"Sm\xffith"), "invalid UTF-8"),
    (line(sessionId=102, ts=...), "ts: missing or null (required)"),
    (line(sessionId=None), "sessionId: missing or null (required)"),
    (line(sessionId=103, ts="2026-11-02T01:00:00"), "ts: expected long, got string"),
    (line(sessionId=104, itemInSession=1.5), "itemInSession: expected int, got number"),
    (line(sessionId=105, itemInSession=2**40), "itemInSession: expected int"),
    (line(sessionId=106, zip=2134), "zip: expected string, got integer"),
    (line(sessionId=107, artist={"name": "x"}), "artist: expected string, got object"),
    (line(sessionId=108, duration="long"), "duration: expected double, got string"),
    (line(sessionId=109, userId=[7]), "userId: expected long, got array"),
    (line(sessionId=110, ts=DAY_START_MS - 1), "ts: outside partition day 2026-11-02"),
    (line(sessionId=111, ts=32_503_680_000_000), "outside partition day"),  # year 3000
    (line(sessionId=112, ts=0), "ts: outside partition day"),  # epoch zero
    (line(sessionId=113, ts=99999999999999999999999), "ts: expected long"),  # overflows BIGINT
    (line(sessionId=114, song="x" * 1_000_000), "song: over 10000 characters"),
    (line(sessionId=1), "duplicate event"),  # same key as the first good line
    (line(sessionId=115).replace(b'"Ann"', b'"A\x00nn"'), "invalid JSON"),  # raw NUL byte
    (line(sessionId=116, level=None), "level: missing or null (required)"),
]


# (topic, line, reason): valid JSON of the contract's types, values outside their domain.
DOMAIN_LINES: list[tuple[str, bytes, str]] = [
    ("listen_events", line(sessionId=200, duration=float("nan")), "duration: not a finite number"),
    ("listen_events", line(sessionId=201, duration=float("inf")), "duration: not a finite number"),
    ("listen_events", line(sessionId=202, duration=float("-inf")), "duration: not a finite number"),
    ("listen_events", line(sessionId=203).replace(b'"duration": 348.57751', b'"duration": 1e400'),
     "duration: not a finite number"),  # past a double's range: read as Infinity
    ("listen_events", line(sessionId=204, duration=1e300), "duration: outside 0..86400, 0 excluded"),
    ("listen_events", line(sessionId=205, duration=0), "duration: outside 0..86400, 0 excluded"),
    ("listen_events", line(sessionId=206, duration=-1.5), "duration: outside 0..86400, 0 excluded"),
    ("listen_events", line(sessionId=207, registration=9_000_000_000_000_000_000),
     "registration: outside 0001-01-01..9999-12-31"),
    ("listen_events", line(sessionId=208, registration=DAY_START_MS + 3_600_001), "registration: after ts"),
    ("listen_events", line(sessionId=209, lat=1e308), "lat: outside -90..90"),
    ("listen_events", line(sessionId=210, lat=-90.5), "lat: outside -90..90"),
    ("listen_events", line(sessionId=211, lon=180.000001), "lon: outside -180..180"),
    ("listen_events", line(sessionId=212, lon=float("nan")), "lon: not a finite number"),
    ("listen_events", line(sessionId=-1), "sessionId: outside 0..9223372036854775807"),
    ("listen_events", line(sessionId=213, itemInSession=-1), "itemInSession: outside 0..2147483647"),
    ("listen_events", line(sessionId=214, userId=-7), "userId: outside 0..9223372036854775807"),
    ("listen_events", line(sessionId=215, ts=float("inf")), "ts: not a finite number"),
    ("listen_events", line(sessionId=216, song="   "), "song: blank (required)"),
    ("listen_events", line(sessionId=217, level=""), "level: blank (required)"),
    ("page_view_events", page_view(sessionId=300, status=700), "status: outside 100..599"),
    ("page_view_events", page_view(sessionId=301, status=99), "status: outside 100..599"),
    ("page_view_events", page_view(sessionId=302, method="FETCH"), "method: not an HTTP method"),
    ("page_view_events", page_view(sessionId=303, method="get"), "method: not an HTTP method"),
    ("page_view_events", page_view(sessionId=304, page="NextSong", duration=float("nan")),
     "duration: not a finite number"),
    ("page_view_events", page_view(sessionId=305, page=""), "page: blank (required)"),
]  # fmt: skip
# Values eventsim does not send but a real event can hold: loaded, and counted as new.
NEW_VALUE_LINES: list[tuple[str, bytes]] = [
    ("listen_events", line(sessionId=400, level="premium")),
    ("listen_events", line(sessionId=401, auth="Suspended")),
    ("page_view_events", page_view(sessionId=402, page="Podcast", method="POST")),
    ("page_view_events", page_view(sessionId=403, gender="X")),
]
