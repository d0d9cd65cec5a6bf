"""The hostile-input corpus: every kind of bad line the loader must account for, on listen events of
2026-11-02. Shared by the loader's tests and the reliability tests that run it through Dagster."""

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


def line(**changes) -> bytes:
    return json.dumps(good_listen(**changes), ensure_ascii=False).encode()


# (raw line, expected reason fragment): every kind of bad line the loader must account for.
BAD_LINES: list[tuple[bytes, str]] = [
    (line(sessionId=100)[:-20], "invalid JSON"),  # truncated
    (b"this is not json at all", "invalid JSON"),
    (b"[1, 2, 3]", "not a JSON object"),
    (b"42", "not a JSON object"),
    (b"", "blank line"),
    (b"   ", "blank line"),
    (line(sessionId=101).replace(b"Smith", b"Sm\xffith"), "invalid UTF-8"),
    (line(sessionId=102, ts=...), "required field ts is missing"),
    (line(sessionId=None), "required field sessionId is missing or null"),
    (line(sessionId=103, ts="2026-11-02T01:00:00"), "field ts: expected long, got string"),
    (line(sessionId=104, itemInSession=1.5), "field itemInSession: expected int, got number"),
    (line(sessionId=105, itemInSession=2**40), "field itemInSession: expected int"),
    (line(sessionId=106, zip=2134), "field zip: expected string, got integer"),
    (line(sessionId=107, artist={"name": "x"}), "field artist: expected string, got object"),
    (line(sessionId=108, duration="long"), "field duration: expected double, got string"),
    (line(sessionId=109, userId=[7]), "field userId: expected long, got array"),
    (line(sessionId=110, ts=DAY_START_MS - 1), "outside partition day 2026-11-02"),
    (line(sessionId=111, ts=32_503_680_000_000), "outside partition day"),  # year 3000
    (line(sessionId=112, ts=0), "ts 0 outside partition day"),  # epoch zero
    (line(sessionId=113, ts=99999999999999999999999), "field ts: expected long"),  # overflows BIGINT
    (line(sessionId=114, song="x" * 1_000_000), "field song: 1000000 characters, over the 10000 limit"),
    (line(sessionId=1), "duplicate event"),  # same key as the first good line
    (line(sessionId=115).replace(b'"Ann"', b'"A\x00nn"'), "invalid JSON"),  # raw NUL byte
    (line(sessionId=116, level=None), "required field level is missing or null"),
]
