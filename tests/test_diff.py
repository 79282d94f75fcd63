"""Tests for chanspec.codegen.diff (canonical view + semantic diff)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chanspec.codegen.diff import (
    Difference,
    SchemaPath,
    canonical_document,
    diff_documents,
    format_json,
    format_text,
    join_pointer,
    lookup,
    schema_path,
    split_pointer,
)

Doc = dict[str, Any]


def make_doc(
    *,
    payload: Any = None,
    reply_message: str = "pong",
    action: str = "send",
    chat_messages: bool = True,
) -> Doc:
    """A small resolved document with identity sharing, like the loader builds."""
    ping: Doc = {
        "name": "ping",
        "messageId": "ping",
        "payload": payload
        if payload is not None
        else {
            "type": "object",
            "title": "Ping",
            "properties": {"x": {"type": "integer"}, "note": {"type": "string"}},
            "required": ["x"],
        },
    }
    pong: Doc = {"name": "pong", "payload": {"type": "object"}}
    error: Doc = {"name": "error", "payload": {"type": "string"}}
    room: Doc = {"address": "rooms/{room_id}", "messages": {"ping": ping, "pong": pong}}
    room["messages"]["error"] = error
    chat: Doc = {"action": action, "channel": room, "reply": {"messages": []}}
    if chat_messages:
        chat["messages"] = [ping]
    chat["reply"]["messages"] = [room["messages"][reply_message]]
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Chat", "version": "1.0.0"},
        "channels": {"room": room},
        "operations": {"room_chat": chat},
        "components": {"messages": {"ping": ping, "pong": pong}, "schemas": {}},
    }


def pointers(diffs: list[Difference]) -> list[tuple[str, str]]:
    return [(d.pointer, d.change) for d in diffs]


def wrap_payload(schema: Any) -> Doc:
    return make_doc(payload=schema)


def payload_diffs(a: Any, b: Any) -> list[Difference]:
    return diff_documents(wrap_payload(a), wrap_payload(b))


# --------------------------------------------------------------------------- #
# Equivalences
# --------------------------------------------------------------------------- #


def test_identical_documents_have_no_differences() -> None:
    assert diff_documents(make_doc(), make_doc()) == []
    doc = make_doc()
    assert diff_documents(doc, doc) == []


def test_key_order_is_ignored() -> None:
    a = make_doc()
    b = make_doc()
    b["info"] = {"version": "1.0.0", "title": "Chat"}
    b["channels"]["room"]["messages"] = dict(reversed(b["channels"]["room"]["messages"].items()))
    b["operations"]["room_chat"] = dict(reversed(b["operations"]["room_chat"].items()))
    assert diff_documents(a, b) == []


def test_version_id_and_other_components_are_ignored() -> None:
    b = make_doc()
    b["asyncapi"] = "3.0.1"
    b["id"] = "urn:chat"
    b["components"]["schemas"] = {"Unused": {"type": "string"}}
    b["defaultContentType"] = None
    assert diff_documents(make_doc(), b) == []


def test_title_schema_and_comment_are_ignored() -> None:
    a = {"type": "object", "properties": {"x": {"type": "integer"}}}
    b = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "urn:x",
        "title": "X",
        "$comment": "c",
        "type": "object",
        "properties": {"x": {"type": "integer", "title": "The X"}},
    }
    assert payload_diffs(a, b) == []


def test_nullable_equals_any_of_null() -> None:
    spec = {
        "type": "object",
        "properties": {"n": {"type": "integer", "nullable": True, "description": "d"}},
    }
    pydantic_style = {
        "type": "object",
        "properties": {
            "n": {
                "anyOf": [{"type": "null"}, {"type": "integer"}],
                "default": None,
                "description": "d",
                "title": "N",
            }
        },
        "required": [],
    }
    type_list = {
        "type": "object",
        "properties": {"n": {"type": ["null", "integer"], "description": "d"}},
    }
    assert payload_diffs(spec, pydantic_style) == []
    assert payload_diffs(spec, type_list) == []


def test_default_null_kept_when_required() -> None:
    a = {"properties": {"n": {"type": ["integer", "null"]}}, "required": ["n"]}
    b = {"properties": {"n": {"type": ["integer", "null"], "default": None}}, "required": ["n"]}
    assert pointers(payload_diffs(a, b)) == [
        ("/channels/room/messages/ping/payload/properties/n/default", "added")
    ]


def test_nullable_type_change_is_one_difference() -> None:
    a = wrap_payload({"properties": {"n": {"type": "integer", "nullable": True}}})
    b = wrap_payload({"properties": {"n": {"type": "string", "nullable": True}}})
    diffs = diff_documents(a, b)
    assert diffs == [
        Difference(
            "/channels/room/messages/ping/payload/properties/n/anyOf/0/type",
            "changed",
            "integer",
            "string",
        )
    ]
    source = b["channels"]["room"]["messages"]["ping"]["payload"]["properties"]["n"]
    assert diffs[0].new_origin[0] is source and diffs[0].new_origin[1] == "type"


def test_const_equals_single_enum() -> None:
    assert payload_diffs({"type": "string", "const": "a"}, {"enum": ["a"]}) == []
    assert payload_diffs({"const": 1}, {"type": "integer", "enum": [1.0]}) == []


def test_other_schema_spellings() -> None:
    assert payload_diffs({"type": ["string"]}, {"type": "string"}) == []
    assert payload_diffs({"type": ["string", "integer"]}, {"type": ["integer", "string"]}) == []
    assert payload_diffs({"type": "object"}, {"type": "object", "additionalProperties": True}) == []
    assert payload_diffs({"type": "object"}, {"type": "object", "properties": {}}) == []
    assert payload_diffs({"deprecated": False, "readOnly": False}, {}) == []
    assert (
        payload_diffs(
            {"allOf": [{"type": "string"}], "description": "d"},
            {
                "type": "string",
                "description": "d",
            },
        )
        == []
    )
    assert payload_diffs({"oneOf": [{"type": "string"}]}, {"type": "string"}) == []
    assert (
        payload_diffs(
            {"anyOf": [{"type": "a"}, {"type": "b"}]},
            {"anyOf": [{"type": "b"}, {"anyOf": [{"type": "a"}]}]},
        )
        == []
    )
    assert payload_diffs({"required": ["a", "b"]}, {"required": ["b", "a", "b"]}) == []
    assert payload_diffs({"maximum": 1}, {"maximum": 1.0}) == []


def test_true_is_not_one() -> None:
    diffs = payload_diffs({"const": True}, {"const": 1})
    assert pointers(diffs) == [("/channels/room/messages/ping/payload/const", "changed")]
    assert (diffs[0].old, diffs[0].new) == (True, 1)


def test_message_id_traits_and_default_schema_format_dropped() -> None:
    b = make_doc()
    ping = b["channels"]["room"]["messages"]["ping"]
    ping["messageId"] = "other"
    ping["traits"] = [{"headers": {"type": "object"}}]
    ping["schemaFormat"] = "application/vnd.aai.asyncapi+json;version=3.0.0"
    assert diff_documents(make_doc(), b) == []
    ping["schemaFormat"] = "application/vnd.apache.avro;version=1.9.0"
    # A non-JSON-Schema format makes the payload opaque: its title now counts.
    assert pointers(diff_documents(make_doc(), b)) == [
        ("/channels/room/messages/ping/payload/title", "added"),
        ("/channels/room/messages/ping/schemaFormat", "added"),
    ]


def test_operation_messages_absent_means_all_channel_messages() -> None:
    a = make_doc(chat_messages=False)
    b = make_doc()
    room = b["channels"]["room"]
    b["operations"]["room_chat"]["messages"] = [
        room["messages"]["pong"],
        room["messages"]["error"],
        room["messages"]["ping"],
    ]
    assert diff_documents(a, b) == []
    assert canonical_document(a)["operations"]["room_chat"]["messages"] == [
        "error",
        "ping",
        "pong",
    ]


def test_channel_servers_absent_means_all_servers() -> None:
    a = make_doc()
    b = make_doc()
    for doc in (a, b):
        doc["servers"] = {"prod": {"host": "example.com", "protocol": "wss"}}
    b["channels"]["room"]["servers"] = [b["servers"]["prod"]]
    assert diff_documents(a, b) == []
    assert canonical_document(b)["channels"]["room"]["servers"] == ["prod"]


def test_security_by_scheme_name() -> None:
    def with_security() -> Doc:
        doc = make_doc()
        scheme = {"type": "httpApiKey", "name": "token", "in": "query"}
        doc["components"]["securitySchemes"] = {"token": scheme}
        doc["operations"]["room_chat"]["security"] = [scheme]
        return doc

    assert diff_documents(with_security(), with_security()) == []
    canon = canonical_document(with_security())
    assert canon["operations"]["room_chat"]["security"] == ["token"]


def test_tags_sorted_by_name() -> None:
    a = make_doc()
    b = make_doc()
    a["tags"] = [{"name": "b"}, {"name": "a", "description": "A"}]
    b["tags"] = [{"description": "A", "name": "a"}, {"name": "b"}]
    assert diff_documents(a, b) == []
    b["tags"].append({"name": "c"})
    diffs = diff_documents(a, b)
    assert pointers(diffs) == [("/tags", "changed")]
    assert diffs[0].new == [{"description": "A", "name": "a"}, {"name": "b"}, {"name": "c"}]


def test_unresolved_refs_are_kept() -> None:
    a = {"properties": {"x": {"$ref": "#/components/schemas/Missing"}}}
    assert payload_diffs(a, a) == []
    canon = canonical_document(wrap_payload(a))
    assert canon["channels"]["room"]["messages"]["ping"]["payload"] == {
        "properties": {"x": {"$ref": "#/components/schemas/Missing"}}
    }


# --------------------------------------------------------------------------- #
# Differences
# --------------------------------------------------------------------------- #


def test_added_channel_is_one_difference() -> None:
    b = make_doc()
    b["channels"]["lobby"] = {"address": "lobby", "messages": {"hi": {"payload": {}}}}
    diffs = diff_documents(make_doc(), b)
    assert pointers(diffs) == [("/channels/lobby", "added")]
    assert diffs[0].old is None
    assert diffs[0].new == {"address": "lobby", "messages": {"hi": {"payload": {}}}}
    assert diffs[0].old_origin is None
    assert diffs[0].new_origin == (b["channels"], "lobby")


def test_removed_operation() -> None:
    a = make_doc()
    b = make_doc()
    del b["operations"]["room_chat"]
    diffs = diff_documents(a, b)
    assert pointers(diffs) == [("/operations/room_chat", "removed")]
    assert diffs[0].old["channel"] == "room"
    assert diffs[0].new is None
    assert diffs[0].old_origin == (a["operations"], "room_chat")
    assert diffs[0].new_origin is None


def test_changed_reply_message() -> None:
    a = make_doc()
    b = make_doc(reply_message="error")
    diffs = diff_documents(a, b)
    assert diffs == [
        Difference("/operations/room_chat/reply/messages", "changed", ["pong"], ["error"])
    ]
    container, key = diffs[0].new_origin
    assert container is b["operations"]["room_chat"]["reply"] and key == "messages"


def test_changed_action() -> None:
    a = make_doc()
    b = make_doc(action="receive")
    diffs = diff_documents(a, b)
    assert diffs == [Difference("/operations/room_chat/action", "changed", "send", "receive")]
    assert diffs[0].old_origin == (a["operations"]["room_chat"], "action")


def test_payload_property_type_change() -> None:
    a = make_doc()
    b = make_doc()
    prop = b["channels"]["room"]["messages"]["ping"]["payload"]["properties"]["x"]
    prop["type"] = "string"
    diffs = diff_documents(a, b)
    assert diffs == [
        Difference(
            "/channels/room/messages/ping/payload/properties/x/type",
            "changed",
            "integer",
            "string",
        )
    ]
    origin = diffs[0].new_origin
    assert origin[0] is prop and origin[1] == "type"


def test_required_added() -> None:
    b = make_doc()
    b["channels"]["room"]["messages"]["ping"]["payload"]["required"].append("note")
    diffs = diff_documents(make_doc(), b)
    assert diffs == [
        Difference(
            "/channels/room/messages/ping/payload/required",
            "changed",
            ["x"],
            ["note", "x"],
        )
    ]


def test_index_wise_list_changes() -> None:
    a = {"examples": [1, 2]}
    b = {"examples": [1, 3, 4]}
    base = "/channels/room/messages/ping/payload/examples"
    assert pointers(payload_diffs(a, b)) == [(f"{base}/1", "changed"), (f"{base}/2", "added")]


def test_differences_sorted_by_pointer() -> None:
    b = make_doc(action="receive")
    b["info"]["version"] = "2"
    b["channels"]["a"] = {"address": "a"}
    diffs = diff_documents(make_doc(), b)
    assert [d.pointer for d in diffs] == [
        "/channels/a",
        "/info/version",
        "/operations/room_chat/action",
    ]


# --------------------------------------------------------------------------- #
# Schema-aware comparison
# --------------------------------------------------------------------------- #

PAYLOAD = "/channels/room/messages/ping/payload"


def test_type_list_is_a_set() -> None:
    diffs = payload_diffs({"type": ["integer", "string"]}, {"type": ["boolean", "integer"]})
    old, new = ["integer", "string"], ["boolean", "integer"]
    assert diffs == [Difference(f"{PAYLOAD}/type", "changed", old, new)]
    diffs = payload_diffs({"type": ["integer", "string"]}, {"type": "string"})
    assert diffs == [Difference(f"{PAYLOAD}/type", "changed", ["integer", "string"], "string")]


def test_nullability_change_is_one_difference() -> None:
    a = {"properties": {"n": {"type": "integer", "description": "d"}}}
    b = {"properties": {"n": {"type": ["integer", "null"], "description": "d"}}}
    added = Difference(f"{PAYLOAD}/properties/n/anyOf/1", "added", None, {"type": "null"})
    assert payload_diffs(a, b) == [added]
    removed = Difference(f"{PAYLOAD}/properties/n/anyOf/1", "removed", {"type": "null"}, None)
    assert payload_diffs(b, a) == [removed]
    # the null branch's origin is the nullable side's anyOf slot (or its schema)
    doc = wrap_payload(b)
    diff = diff_documents(wrap_payload(a), doc)[0]
    assert diff.new_origin is not None and diff.old_origin is None


def test_nullability_and_type_change_are_two_differences() -> None:
    a = {"properties": {"n": {"type": "integer"}}}
    b = {"properties": {"n": {"type": "string", "nullable": True}}}
    assert payload_diffs(a, b) == [
        Difference(f"{PAYLOAD}/properties/n/anyOf/1", "added", None, {"type": "null"}),
        Difference(f"{PAYLOAD}/properties/n/type", "changed", "integer", "string"),
    ]


def test_null_added_to_a_union() -> None:
    a = {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    b = {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}
    assert payload_diffs(a, b) == [
        Difference(f"{PAYLOAD}/anyOf/2", "added", None, {"type": "null"})
    ]


def test_union_members_match_as_sets() -> None:
    a = {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]}
    b = {"anyOf": [{"type": "string"}, {"type": "boolean"}]}
    # canonical order: boolean, integer, string; integer (A's index 1) is gone
    assert payload_diffs(a, b) == [
        Difference(f"{PAYLOAD}/anyOf/1", "removed", {"type": "integer"}, None)
    ]
    assert payload_diffs(b, a) == [
        Difference(f"{PAYLOAD}/anyOf/1", "added", None, {"type": "integer"})
    ]
    # as many left on each side: compared pairwise (B's index)
    c = {"oneOf": [{"type": "string"}, {"type": "integer", "maximum": 3}]}
    d = {"oneOf": [{"type": "string"}, {"type": "integer", "maximum": 5}]}
    assert pointers(payload_diffs(c, d)) == [(f"{PAYLOAD}/oneOf/0/maximum", "changed")]


def test_const_against_enum_is_one_change() -> None:
    a = {"properties": {"k": {"type": "string", "enum": ["a", "b"]}}}
    b = {"properties": {"k": {"type": "string", "enum": ["a"]}}}
    assert payload_diffs(a, b) == [
        Difference(f"{PAYLOAD}/properties/k/enum", "changed", ["a", "b"], ["a"])
    ]
    # a const introduced on a typed value: the dropped type is not a change
    c = {"properties": {"k": {"type": "string"}}}
    d = {"properties": {"k": {"type": "string", "const": "a"}}}
    assert payload_diffs(c, d) == [Difference(f"{PAYLOAD}/properties/k/const", "added", None, "a")]
    # canonical views themselves are untouched
    assert canonical_document(wrap_payload(b))["channels"]["room"]["messages"]["ping"][
        "payload"
    ] == {"properties": {"k": {"const": "a"}}}


def test_schema_aware_comparison_stays_out_of_non_schemas() -> None:
    a = make_doc()
    b = make_doc()
    for doc, members in ((a, [1, {"type": "null"}]), (b, [1])):
        doc["channels"]["room"]["x-data"] = {"anyOf": members}
    assert pointers(diff_documents(a, b)) == [("/channels/room/x-data/anyOf/1", "removed")]


def test_schema_path() -> None:
    where = schema_path(f"{PAYLOAD}/properties/a~1b/items/anyOf/2/type")
    assert where == SchemaPath(
        PAYLOAD, (("properties", "a/b"), ("items",), ("anyOf", "2")), ("type",)
    )
    assert where is not None
    assert where.schema_pointer == f"{PAYLOAD}/properties/a~1b/items/anyOf/2"
    assert schema_path(PAYLOAD) == SchemaPath(PAYLOAD, (), ())
    assert schema_path(f"{PAYLOAD}/properties") == SchemaPath(PAYLOAD, (), ("properties",))
    assert schema_path(f"{PAYLOAD}/examples/0/x") == SchemaPath(PAYLOAD, (), ("examples", "0", "x"))
    assert schema_path(f"{PAYLOAD}/items/0/not") == SchemaPath(
        PAYLOAD, (("items", "0"), ("not",)), ()
    )
    assert schema_path("/channels/room/bindings/ws/query/required") == SchemaPath(
        "/channels/room/bindings/ws/query", (), ("required",)
    )
    assert schema_path("/operations/o/x-events/0/payload/type") == SchemaPath(
        "/operations/o/x-events/0/payload", (), ("type",)
    )
    assert schema_path("/channels/room/address") is None
    assert schema_path("/channels/room/messages/ping/name") is None


def test_schema_path_with_schema_formats() -> None:
    doc = make_doc()
    ping = doc["channels"]["room"]["messages"]["ping"]
    ping["schemaFormat"] = "application/vnd.apache.avro;version=1.9.0"
    assert schema_path(f"{PAYLOAD}/type", canonical_document(doc)) is None
    ping.pop("schemaFormat")
    ping["payload"] = {
        "schemaFormat": "application/schema+json;version=draft-07",
        "schema": {"type": "string"},
    }
    canon = canonical_document(doc)
    # a JSON Schema in a Multi Format Schema Object is compared as the plain schema
    assert canon["channels"]["room"]["messages"]["ping"]["payload"] == {"type": "string"}
    assert schema_path(f"{PAYLOAD}/type", canon) == SchemaPath(PAYLOAD, (), ("type",))


def test_pointer_helpers() -> None:
    assert split_pointer("/a~1b/c~0d/0") == ["a/b", "c~d", "0"]
    assert join_pointer(["a/b", "c~d", "0"]) == "/a~1b/c~0d/0"
    assert split_pointer("") == [] and join_pointer([]) == ""
    canon = canonical_document(make_doc())
    assert lookup(canon, ["operations", "room_chat", "reply", "messages", "0"]) == "pong"
    assert lookup(canon, ["operations", "nope"]) is None


# --------------------------------------------------------------------------- #
# Cycles
# --------------------------------------------------------------------------- #


def tree_schema(child_type: str = "string") -> Doc:
    node: Doc = {"type": "object", "title": "Node", "properties": {"v": {"type": child_type}}}
    node["properties"]["children"] = {"type": "array", "items": node}
    node["properties"]["parent"] = {"anyOf": [node, {"type": "null"}], "default": None}
    return node


def test_cyclic_schemas_equal_and_terminate() -> None:
    a = wrap_payload(tree_schema())
    b = wrap_payload(tree_schema())
    assert diff_documents(a, b) == []
    payload = canonical_document(a)["channels"]["room"]["messages"]["ping"]["payload"]
    marker = {"$recursive": "/channels/room/messages/ping/payload"}
    assert payload["properties"]["children"]["items"] == marker
    assert payload["properties"]["parent"] == {"anyOf": [marker, {"type": "null"}]}
    json.dumps(payload)  # acyclic


def test_cyclic_schema_change_reported_once() -> None:
    diffs = diff_documents(wrap_payload(tree_schema()), wrap_payload(tree_schema("integer")))
    assert pointers(diffs) == [
        ("/channels/room/messages/ping/payload/properties/v/type", "changed")
    ]


def test_nullable_recursive_reference_equals_any_of() -> None:
    node_a: Doc = {"type": "object", "properties": {}}
    node_a["properties"]["next"] = {"allOf": [node_a], "nullable": True}
    node_b: Doc = {"type": "object", "properties": {}}
    node_b["properties"]["next"] = {"anyOf": [node_b, {"type": "null"}]}
    assert payload_diffs(node_a, node_b) == []


# --------------------------------------------------------------------------- #
# x-events
# --------------------------------------------------------------------------- #


def test_x_events_canonicalised() -> None:
    def with_events(order: list[int]) -> Doc:
        doc = make_doc()
        events = [
            {"name": "joined", "messageId": "j", "payload": {"type": "string", "title": "J"}},
            {"name": "left", "payload": {"enum": ["bye"]}},
        ]
        doc["operations"]["room_chat"]["x-events"] = [events[i] for i in order]
        return doc

    assert diff_documents(with_events([0, 1]), with_events([1, 0])) == []
    canon = canonical_document(with_events([1, 0]))
    assert canon["operations"]["room_chat"]["x-events"] == [
        {"name": "joined", "payload": {"type": "string"}},
        {"name": "left", "payload": {"const": "bye"}},
    ]
    b = with_events([1, 0])
    b["operations"]["room_chat"]["x-events"][0]["payload"] = {"const": "later"}
    assert diff_documents(with_events([0, 1]), b) == [
        Difference("/operations/room_chat/x-events/1/payload/const", "changed", "bye", "later")
    ]


# --------------------------------------------------------------------------- #
# Formatting
# --------------------------------------------------------------------------- #


def test_format_text_and_json() -> None:
    diffs = diff_documents(make_doc(), make_doc(reply_message="error", action="receive"))

    def locate(d: Difference) -> str | None:
        return "specs/chat.yaml:12:5" if d.pointer.endswith("action") else None

    assert format_text(diffs, old_label="spec", new_label="app", locate=locate) == (
        "spec -> app: 2 differences\n"
        '  changed /operations/room_chat/action: "send" -> "receive"  (specs/chat.yaml:12:5)\n'
        '  changed /operations/room_chat/reply/messages: ["pong"] -> ["error"]'
    )
    assert format_json(diffs) == (
        "[\n"
        "  {\n"
        '    "change": "changed",\n'
        '    "new": "receive",\n'
        '    "old": "send",\n'
        '    "pointer": "/operations/room_chat/action"\n'
        "  },\n"
        "  {\n"
        '    "change": "changed",\n'
        '    "new": [\n'
        '      "error"\n'
        "    ],\n"
        '    "old": [\n'
        '      "pong"\n'
        "    ],\n"
        '    "pointer": "/operations/room_chat/reply/messages"\n'
        "  }\n"
        "]"
    )


def test_format_text_no_differences_and_truncation() -> None:
    assert format_text([], old_label="a.yaml", new_label="app") == (
        "No differences between a.yaml and app."
    )
    assert format_json([]) == "[]"
    big = Difference("/x", "added", new="y" * 200)
    line = format_text([big], old_label="A", new_label="B").splitlines()[1]
    assert line == "  added /x: " + ('"' + "y" * 116) + "..."
    assert len(line) - len("  added /x: ") == 120


def test_non_dict_input_rejected() -> None:
    with pytest.raises(TypeError):
        canonical_document([])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        diff_documents({}, None)  # type: ignore[arg-type]
