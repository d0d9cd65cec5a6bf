"""Hypothesis strategies derived from the event contract: event lines whose fields take values at and
beyond every edge of their type and domain, each line with the verdict the loader must give it.

Nothing here lists a field: every strategy is built from a Field's type, requiredness, bounds,
choices and known values, so a new field or a changed domain is generated without a change here.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

from audio_dwh.events.contract import (
    INTEGER_LIMITS,
    MAX_STRING_CHARS,
    NUMBER_TYPES,
    TOPICS,
    Field,
    FieldType,
    Topic,
)

# Where in the loader's order a rule is judged: each field's own rules in field order, then the day of
# ts, then the rules between fields. The reason a line gets is its first broken rule in that order.
OWN, DAY, BETWEEN = 0, 1, 2
EXACT_FLOATS = 2**53  # integral doubles up to here are exact: "5.0" is the long 5


@dataclass(frozen=True)
class Value:
    """A field's JSON text (None: the key is absent), the value raw must hold, and the stage at
    which the loader rejects it (None: it is inside the field's type and domain)."""

    text: str | None
    typed: object = None
    fault: int | None = None


@dataclass(frozen=True)
class Line:
    """A generated line and what the loader must make of it: admitted (reason None) or rejected
    with a reason that starts with `reason`."""

    data: bytes
    reason: str | None
    values: dict[str, object]  # typed value per field, for an admitted line
    key: tuple | None = None  # (sessionId, itemInSession, ts) of a line that passes every rule


def _text(value: object) -> st.SearchStrategy[str]:
    """JSON for a value, with non-ASCII written raw or as \\u escapes."""
    return st.booleans().map(lambda ascii: json.dumps(value, ensure_ascii=ascii))


def _valued(strategy: st.SearchStrategy, fault: int | None = None, typed=True) -> st.SearchStrategy[Value]:
    return strategy.flatmap(lambda v: _text(v).map(lambda t: Value(t, v if typed and fault is None else None, fault)))


def _raw(texts: list[str], fault: int | None = OWN) -> st.SearchStrategy[Value]:
    return st.sampled_from(texts).map(lambda t: Value(t, None, fault))


SPECIAL_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"]  # JSON's non-standard literals
OTHER_JSON = {
    FieldType.STRING: ["0", "1.5", "true", "[]", "{}", '["a"]'],
    FieldType.BOOLEAN: ["0", "1", '"true"', '"false"', "[]", "{}"],
}
NUMBER_AS_OTHER = ['"12"', '""', "true", "false", "[]", "{}", '{"n": 1}']


def _limits(f: Field) -> tuple[int | float, int | float]:
    """The field's numbers: its bounds, cut to what its type holds."""
    low, high = INTEGER_LIMITS.get(f.type, (-sys.float_info.max, sys.float_info.max))
    if f.bounds:
        low, high = max(low, f.bounds.low), min(high, f.bounds.high)
    return low, high


def valid_values(f: Field, day: date) -> st.SearchStrategy[Value]:
    """Values inside the field's type and domain, its edges weighted in."""
    options = []
    if not f.required:
        options += [st.just(Value(None)), st.just(Value("null"))]
    if f.type in (FieldType.LONG, FieldType.INT):
        low, high = _limits(f)
        if f.name == "ts":
            low, high = max(low, _day_ms(day)), min(high, _day_ms(day + timedelta(days=1)) - 1)
        edges = st.sampled_from(sorted({low, high, min(low + 1, high), max(high - 1, low)}))
        options += [_valued(edges), _valued(st.integers(low, high))]
        exact_low, exact_high = max(low, -EXACT_FLOATS), min(high, EXACT_FLOATS)
        options.append(st.integers(exact_low, exact_high).map(lambda n: Value(f"{n}.0", n)))
    elif f.type == FieldType.DOUBLE:
        low, high = _limits(f)
        excluded = bool(f.bounds and f.bounds.low_excluded)
        floats = st.floats(low, high, exclude_min=excluded, allow_nan=False, allow_infinity=False)
        options += [_valued(floats), _valued(st.sampled_from([high] if excluded else [low, high]))]
        whole = st.integers(max(-EXACT_FLOATS, int(low) + 1), min(EXACT_FLOATS, int(high)))
        options.append(whole.map(lambda n: Value(str(n), float(n))))  # a JSON integer is a double too
    elif f.type == FieldType.BOOLEAN:
        options.append(_valued(st.booleans()))
    else:
        options.append(_valued(_strings(f)))
    return st.one_of(options)


INVISIBLE = ["Cc", "Cf", "Zs", "Zl", "Zp"]  # the contract's INVISIBLE_CHARACTERS and separators


def blank(text: str) -> bool:
    """What the loader calls blank: nothing but control and format characters and separators."""
    return all(unicodedata.category(c) in INVISIBLE for c in text)


def _strings(f: Field) -> st.SearchStrategy[str]:
    if f.choice:
        return st.sampled_from(f.choice.values)
    any_text = st.one_of(
        st.text(max_size=40),
        st.sampled_from(f.known) if f.known else st.text(max_size=3),
        st.characters(codec="utf-8").map(lambda c: c * MAX_STRING_CHARS),  # at the limit
    )
    if not f.required:
        return any_text
    # Built not blank rather than filtered: a filter on every required string of every line rejects
    # whole examples (Hypothesis draws control characters often).
    visible = st.characters(codec="utf-8", exclude_categories=INVISIBLE)
    not_blank = st.tuples(st.text(max_size=20), visible, st.text(max_size=20)).map("".join)
    made_visible = st.tuples(any_text, visible).map(lambda t: t[0][:-1] + t[1] if blank(t[0]) else t[0])
    return st.one_of(not_blank, made_visible)


def invalid_values(f: Field, day: date) -> st.SearchStrategy[Value]:
    """Values outside the field's type or domain: the loader rejects the line naming this field."""
    options = []
    if f.required:
        options += [st.just(Value(None, fault=OWN)), st.just(Value("null", fault=OWN))]
    if f.type in NUMBER_TYPES:
        options += [_raw(SPECIAL_NUMBERS), _raw(NUMBER_AS_OTHER), _raw(["1e308", "-1e308"])]
    if f.type in (FieldType.LONG, FieldType.INT):
        low, high = _limits(f)
        type_low, type_high = INTEGER_LIMITS[f.type]
        beyond_type = [type_high + 1, type_low - 1, 10**30, -(10**30), 2**64]
        options += [_valued(st.sampled_from(beyond_type), OWN), _raw(["1.5", "-0.25", "1e-9"])]
        if low > type_low:
            options.append(_valued(st.integers(type_low, low - 1), OWN))
        if high < type_high:
            options.append(_valued(st.integers(high + 1, type_high), OWN))
        if f.name == "ts":  # a time a timestamp holds, on another day: judged after the fields
            outside_day = st.one_of(
                st.integers(low, _day_ms(day) - 1), st.integers(_day_ms(day + timedelta(days=1)), high)
            )
            options.append(_valued(outside_day, DAY))
    elif f.type == FieldType.DOUBLE:
        low, high = _limits(f)
        if f.bounds:
            excluded = f.bounds.low_excluded
            below = st.floats(max_value=low, exclude_max=not excluded, allow_nan=False, allow_infinity=False)
            above = st.floats(min_value=high, exclude_min=True, allow_nan=False, allow_infinity=False)
            options += [_valued(below, OWN), _valued(above, OWN)]
    elif f.type == FieldType.BOOLEAN:
        options.append(_raw(OTHER_JSON[FieldType.BOOLEAN]))
    else:
        options += [
            _raw(OTHER_JSON[FieldType.STRING]),
            _valued(st.characters(codec="utf-8").map(lambda c: c * 10_001), OWN),
        ]
        if f.required:
            spaces = st.text(st.characters(categories=INVISIBLE, codec="utf-8"), max_size=5)
            options.append(_valued(spaces, OWN))
        if f.choice:
            options.append(_valued(st.text(max_size=10).filter(lambda s: s not in f.choice.values), OWN))
    return st.one_of(options)


def _day_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


# Lines broken as a whole, and the reason each must get.
BROKEN_LINES = [
    (b"", "blank line"),
    (b"   ", "blank line"),
    (b"[1, 2]", "not a JSON object"),
    (b"42", "not a JSON object"),
    (b"null", "not a JSON object"),
    (b'"text"', "not a JSON object"),
    (b"{'ts': 1}", "invalid JSON"),
    (b'{"ts": 1', "invalid JSON"),
    (b'{"song": "\\ud800"}', "invalid JSON"),  # a lone surrogate escape
    (b'{"song": "a\xffb"}', "invalid UTF-8"),
]


@st.composite
def lines(draw, topic: Topic, day: date) -> Line:
    """One line of the topic for the day: mostly whole events with every field valid, some with a
    few fields broken, some broken as a whole."""
    kind = draw(st.sampled_from(["valid", "valid", "valid", "broken fields", "broken line"]))
    if kind == "broken line":
        data, reason = draw(st.sampled_from(BROKEN_LINES))
        return Line(data, reason, {})
    broken = set() if kind == "valid" else draw(st.sets(st.sampled_from(topic.field_names), min_size=1, max_size=3))
    values = {f.name: draw(invalid_values(f, day) if f.name in broken else valid_values(f, day)) for f in topic.fields}
    for f in topic.fields:  # a field not after another: mostly before it, some at its very value, some after
        limit = values[f.not_after] if f.not_after else None
        if limit and f.name not in broken and isinstance(limit.typed, int) and isinstance(values[f.name].typed, int):
            low = _limits(f)[0]
            choice = draw(st.sampled_from(["before", "before", "at", "as drawn"]))
            if choice != "as drawn":
                value = draw(st.integers(low, limit.typed)) if choice == "before" else limit.typed
                values[f.name] = Value(str(value), value)
    reason = _first_fault(topic, values)
    pairs = [(name, v.text) for name, v in values.items() if v.text is not None]
    if draw(st.booleans()):
        pairs.append(("extraField", draw(_text(draw(st.integers() | st.text(max_size=5))))))
    pairs = draw(st.permutations(pairs)) if draw(st.booleans()) else pairs
    text = "{" + ", ".join(f"{json.dumps(name)}: {value}" for name, value in pairs) + "}"
    typed = {name: v.typed for name, v in values.items()}
    key = None if reason else tuple(typed[k] for k in ("sessionId", "itemInSession", "ts"))
    return Line((" " if draw(st.booleans()) else "").encode() + text.encode(), reason, typed, key)


def _first_fault(topic: Topic, values: dict[str, Value]) -> str | None:
    """The field the loader's reason names: the first broken rule in the loader's order."""
    faults = [(v.fault, i, name) for i, (name, v) in enumerate(values.items()) if v.fault is not None]
    for f in topic.fields:
        mine, limit = values[f.name], values.get(f.not_after) if f.not_after else None
        if limit and mine.fault is None and limit.fault is None and None not in (mine.typed, limit.typed):
            if mine.typed > limit.typed:
                faults.append((BETWEEN, 0, f.name))
    return f"{min(faults)[2]}:" if faults else None


@st.composite
def day_files(
    draw, topic: Topic, day: date, min_lines: int = 0, max_lines: int = 60
) -> list[tuple[str, bytes, list[Line]]]:
    """A topic's day as 1-3 landing files: (name, bytes, lines); some gzip-compressed, some with
    CRLF or mixed line endings, some without a final newline."""
    generated = draw(st.lists(lines(topic, day), min_size=min_lines, max_size=max_lines))
    cuts = sorted(draw(st.lists(st.integers(0, len(generated)), max_size=2)))
    parts = [generated[a:b] for a, b in zip([0, *cuts], [*cuts, len(generated)], strict=True)]
    files = []
    for i, part in enumerate(parts):
        endings = draw(st.sampled_from(["lf", "crlf", "mixed"]))
        ends = [draw(st.sampled_from([b"\n", b"\r\n"])) if endings == "mixed" else
                (b"\r\n" if endings == "crlf" else b"\n") for _ in part]  # fmt: skip
        data = b"".join(line.data + end for line, end in zip(part, ends, strict=True))
        if part and part[-1].data and draw(st.booleans()):
            data = data.removesuffix(ends[-1])  # no newline after the last line
        name = f"part{i}.json.gz" if draw(st.booleans()) else f"part{i}.json"
        files.append((name, data, part))
    return files


def all_topics(day: date, **sizes) -> st.SearchStrategy[dict[str, list[tuple[str, bytes, list[Line]]]]]:
    return st.fixed_dictionaries({name: day_files(topic, day, **sizes) for name, topic in TOPICS.items()})


Landed = dict[str, list[tuple[str, bytes, list[Line]]]]


def _corrected(draw, topic: Topic, day: date, line: Line) -> Line:
    """An admitted line with one field other than its identity given another value of its domain
    (the rules between fields left out: a corrected line stays admitted)."""
    editable = [f for f in topic.fields if f.name not in topic.identity and not f.not_after]
    field_ = draw(st.sampled_from(editable))
    value = draw(valid_values(field_, day))
    texts = {name: json.dumps(typed) for name, typed in line.values.items() if typed is not None}
    texts.pop(field_.name, None)
    if value.text is not None:
        texts[field_.name] = value.text
    data = ("{" + ", ".join(f"{json.dumps(name)}: {text}" for name, text in texts.items()) + "}").encode()
    return Line(data, None, {**line.values, field_.name: value.typed}, line.key)


@st.composite
def sent_again(draw, day: date, **sizes) -> tuple[Landed, Landed]:
    """A day as first sent, and the same day sent again: each line kept, dropped or corrected (one field
    other than its identity changed), new lines added, and admitted lines repeated with their identity,
    some with the same values (sent twice), some with others (a conflict no order settles)."""
    first = draw(all_topics(day, **sizes))
    final: Landed = {}
    for name, files in first.items():
        topic = TOPICS[name]
        kept = []
        for line in (line for _, _, part in files for line in part):
            action = draw(st.sampled_from(["keep", "keep", "keep", "drop", "correct"]))
            if action == "correct" and line.reason is None:
                line = _corrected(draw, topic, day, line)
            if action != "drop":
                kept.append(line)
        kept += draw(st.lists(lines(topic, day), max_size=5))
        admitted = [line for line in kept if line.reason is None]
        for _ in range(draw(st.integers(0, 3)) if admitted else 0):
            line = draw(st.sampled_from(admitted))
            again = line if draw(st.booleans()) else _corrected(draw, topic, day, line)
            kept.insert(draw(st.integers(0, len(kept))), again)
        final[name] = [("sent-again.json", b"".join(line.data + b"\n" for line in kept), kept)]
    return first, final
