"""Avro payloads: converted to JSON Schema for typed models; the spec's Avro stays in the
emitted document (round trip), and what cannot be converted becomes ``Any`` with a warning
that names the message."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from chanspec.codegen.avro import AvroError, avro_to_json_schema, is_avro_format
from chanspec.codegen.diff_rules import classify_documents
from chanspec.codegen.load import load_text
from chanspec.codegen.pipeline import analyse, generate
from chanspec.codegen.spec import load_spec
from chanspec.runtime.app import document_of
from chanspec.runtime.asyncapi import dump_json
from pydantic import ValidationError

USER = {
    "type": "record",
    "name": "User",
    "namespace": "com.example",
    "doc": "A user of the chat.",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "nick", "type": ["null", "string"], "default": None, "doc": "Shown name."},
        {"name": "role", "type": {"type": "enum", "name": "Role", "symbols": ["admin", "member"]}},
        {"name": "backup_role", "type": "Role", "default": "member"},
        {"name": "tags", "type": {"type": "map", "values": "string"}},
        {"name": "friends", "type": {"type": "array", "items": "com.example.User"}},
        {"name": "key", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "digest", "type": {"type": "fixed", "name": "Md5", "size": 16}},
        {"name": "score", "type": ["int", "double", "null"]},
    ],
}


def test_record_mapping() -> None:
    out = avro_to_json_schema(USER)
    props = out["properties"]
    assert out["type"] == "object" and out["title"] == "User"
    assert out["description"] == "A user of the chat."
    assert out["required"] == ["id", "role", "tags", "friends", "key", "digest", "score"]
    assert props["id"] == {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1}
    assert props["nick"] == {
        "type": ["string", "null"],
        "default": None,
        "description": "Shown name.",
    }
    assert props["role"] == {"type": "string", "title": "Role", "enum": ["admin", "member"]}
    assert props["backup_role"] is props["role"]  # a named type is one schema everywhere
    assert props["tags"] == {"type": "object", "additionalProperties": {"type": "string"}}
    assert props["friends"]["items"] == {
        "type": "object",
        "description": "a com.example.User (recursive)",
    }
    assert props["key"] == {"type": "string", "format": "uuid"}
    assert props["digest"] == {"type": "string", "minLength": 16, "maxLength": 16}
    assert props["score"] == {
        "oneOf": [
            {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
            {"type": "number"},
            {"type": "null"},
        ]
    }


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("decimal128", "schema: unknown Avro type 'decimal128'"),
        ({"type": "record", "name": "R"}, "schema: record 'R' needs a 'fields' list"),
        ({"type": "record", "fields": []}, "schema: a named type needs a 'name'"),
        (
            {"type": "enum", "name": "E", "symbols": [1]},
            "schema: enum 'E' needs a 'symbols' list of strings",
        ),
        (
            {"type": "record", "name": "R", "fields": [{"name": "x", "type": "Nope"}]},
            "schema.x: unknown Avro type 'Nope'",
        ),
        ([], "schema: an empty union has no values"),
    ],
)
def test_unconvertible_schemas_say_where(schema: object, message: str) -> None:
    with pytest.raises(AvroError) as info:
        avro_to_json_schema(schema)
    assert str(info.value) == message


def test_avro_formats() -> None:
    assert is_avro_format("application/vnd.apache.avro;version=1.9.0")
    assert is_avro_format("application/vnd.apache.avro+json;version=1.9.0")
    assert not is_avro_format("application/vnd.google.protobuf;version=3")


SPEC = """\
asyncapi: 3.0.0
info: {title: avro chat, version: 1.0.0}
channels:
  users:
    address: /ws/users
    messages:
      register:
        $ref: '#/components/messages/register'
      registered:
        $ref: '#/components/messages/registered'
      proto:
        $ref: '#/components/messages/proto'
operations:
  register:
    action: receive
    channel: {$ref: '#/channels/users'}
    messages: [{$ref: '#/channels/users/messages/register'}]
    reply:
      channel: {$ref: '#/channels/users'}
      messages: [{$ref: '#/channels/users/messages/registered'}]
  push_proto:
    action: send
    channel: {$ref: '#/channels/users'}
    messages: [{$ref: '#/channels/users/messages/proto'}]
components:
  messages:
    register:
      payload:
        schemaFormat: application/vnd.apache.avro;version=1.9.0
        schema:
          type: record
          name: Register
          fields:
          - {name: action, type: {type: enum, name: RegisterAction, symbols: [register]}}
          - {name: nick, type: string}
          - {name: age, type: ['null', int], default: null}
    registered:
      payload:
        schemaFormat: application/vnd.apache.avro;version=1.9.0
        schema:
          type: record
          name: Registered
          fields:
          - {name: action, type: {type: enum, name: RegisteredAction, symbols: [registered]}}
          - {name: id, type: long}
    proto:
      payload:
        schemaFormat: application/vnd.google.protobuf;version=3
        schema: 'message Ping { string id = 1; }'
"""


def test_avro_messages_get_typed_models_and_round_trip(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    result = generate(spec, tmp_path / "avroapp", package="avroapp")
    assert not result.failed, [p.format() for p in result.problems]
    assert [p.code for p in result.problems] == ["N050"]
    assert result.problems[0].message == (
        "message ProtoMessage: payload uses schemaFormat "
        "'application/vnd.google.protobuf;version=3'"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        messages = importlib.import_module("avroapp.generated.messages")
        main = importlib.import_module("avroapp.main")
        register = messages.RegisterMessage.model_validate({"action": "register", "nick": "ada"})
        assert register.age is None
        with pytest.raises(ValidationError):
            messages.RegisterMessage.model_validate(
                {"action": "register", "nick": "ada", "age": 2**31}
            )
        emitted = load_text(dump_json(document_of(main.app)), "avroapp.main:app")
        assert classify_documents(load_spec(spec).resolved, emitted.resolved) == []
        # the emitted document carries the spec's Avro schema, not the converted one
        payload = emitted.resolved["channels"]["users"]["messages"]["register"]["payload"]
        assert payload["schemaFormat"] == "application/vnd.apache.avro;version=1.9.0"
        assert payload["schema"]["name"] == "Register"
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("avroapp")]:
            del sys.modules[name]


def test_unconvertible_avro_is_any_with_a_warning_naming_the_message(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("type: long}", "type: uint64}"))
    _, problems = analyse(spec)
    n053 = [p for p in problems if p.code == "N053"]
    assert len(n053) == 1
    assert n053[0].message == (
        "message RegisteredMessage: Avro schema not converted: schema.id: unknown Avro type "
        "'uint64'"
    )
    assert n053[0].pointer == "/channels/users/messages/registered/payload/schema"
    assert str(n053[0].position) == f"{spec}:10:9"  # where the channel uses the message
