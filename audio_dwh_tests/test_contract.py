"""The raw event contract agrees with eventsim's own schemas and with what the simulator writes."""

import json
from pathlib import Path

from audio_dwh.doc_sections import replace_section
from audio_dwh.events import contract_table
from audio_dwh.events.contract import TOPICS, FieldType

AVRO_TOPIC = {"Auth": "auth_events", "Listen": "listen_events", "PageView": "page_view_events",
              "StatusChange": "status_change_events"}  # fmt: skip
AVRO_TYPES = {"long": FieldType.LONG, "int": FieldType.INT, "string": FieldType.STRING, "boolean": FieldType.BOOLEAN}


def test_four_topics_with_common_fields():
    assert set(TOPICS) == {"listen_events", "page_view_events", "auth_events", "status_change_events"}
    common = {"ts", "sessionId", "level", "itemInSession", "city", "zip", "state", "userAgent", "lon", "lat",
              "userId", "lastName", "firstName", "gender", "registration", "tag"}  # fmt: skip
    for topic in TOPICS.values():
        assert common <= set(topic.field_names), topic.name
        assert len(set(topic.field_names)) == len(topic.field_names), f"{topic.name} repeats a field"
        assert set(topic.identity) <= set(topic.required_fields)  # every event has its identity


def test_topic_specific_fields():
    assert {"artist", "song", "duration", "auth"} <= set(TOPICS["listen_events"].required_fields)
    assert {"page", "method", "status", "auth"} <= set(TOPICS["page_view_events"].required_fields)
    assert {"artist", "song", "duration"} <= set(TOPICS["page_view_events"].field_names) - set(
        TOPICS["page_view_events"].required_fields
    )
    assert "success" in TOPICS["auth_events"].required_fields
    assert "auth" in TOPICS["status_change_events"].required_fields
    for topic in TOPICS.values():  # guests and logged-out events carry no user
        assert not {"userId", "firstName", "lastName", "gender", "registration"} & set(topic.required_fields)


def test_contract_matches_eventsim_avro_schemas():
    path = Path(__file__).parent / "reference" / "eventsim_schemas.avsc"
    for record in json.loads(path.read_text()):
        topic = TOPICS[AVRO_TOPIC[record["name"]]]
        types = {f.name: f.type for f in topic.fields}
        for field in record["fields"]:
            avro_type = field["type"]
            if not isinstance(avro_type, str | list) or field["name"] not in types:
                continue  # nested records (userDetails, songProperties) are flattened in the JSON output
            base = [t for t in ([avro_type] if isinstance(avro_type, str) else avro_type) if t != "null"]
            if len(base) == 1 and base[0] in AVRO_TYPES:
                assert types[field["name"]] == AVRO_TYPES[base[0]], (topic.name, field["name"])
                nullable = isinstance(avro_type, list) and "null" in avro_type
                required = field["name"] in topic.required_fields
                assert required != nullable, (topic.name, field["name"])


def test_simulator_writes_contract_fields_in_contract_order(day_events):
    for topic, events in day_events.items():
        order = TOPICS[topic].field_names
        for event in events[:200]:
            keys = list(event)
            assert keys == [name for name in order if name in event], (topic, keys)
            assert set(TOPICS[topic].required_fields) <= set(keys)


def test_every_field_has_a_domain_the_simulator_keeps_to(day_events):
    for topic, events in day_events.items():
        fields = TOPICS[topic].fields
        for event in events[:500]:
            for f in fields:
                value = event.get(f.name)
                if value is None:
                    continue
                if f.bounds:
                    assert f.bounds.admits(value), (topic, f.name, value)
                if f.choice:
                    assert value in f.choice.values, (topic, f.name, value)
                if f.known:
                    assert value in f.known, (topic, f.name, value)  # the simulator sends only eventsim's values
                if f.not_after and event.get(f.not_after) is not None:
                    assert value <= event[f.not_after], (topic, f.name)
    assert all(f.bounds for t in TOPICS.values() for f in t.fields if f.type in (FieldType.LONG, FieldType.DOUBLE))


def test_the_raw_layer_page_lists_every_field_with_its_type_and_domain_as_the_contract_says():
    text = contract_table.PAGE.read_text(encoding="utf-8")
    assert replace_section(text, contract_table.SECTION, contract_table.render()) == text, (
        "docs/raw-layer.md's contract table drifted: python -m audio_dwh.events.contract_table"
    )
    assert "| `duration` | double | listen (required) | finite; 0..86400, 0 excluded |" in text
