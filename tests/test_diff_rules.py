"""Diff classification (chanspec.codegen.diff_rules), output formats and ``chanspec diff`` exits.

Every rule of the registry has a minimal before/after pair in :data:`PAIRS`; the parametrised
test fails for a rule without one, and asserts that the pair yields exactly that rule.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from chanspec.codegen.cli import main
from chanspec.codegen.diff import Difference, canonical_document, diff_documents
from chanspec.codegen.diff_format import (
    Location,
    render,
    render_github,
    render_json,
    render_markdown,
    render_text,
)
from chanspec.codegen.diff_rules import (
    FAIL_ON,
    LEVELS,
    RULES,
    RULES_BY_ID,
    Finding,
    classify,
    classify_documents,
    fails,
    rule,
    rules_markdown,
)
from chanspec.codegen.problems import Position
from click.testing import CliRunner, Result

from .servers import REPO

Doc = dict[str, Any]
Edit = Callable[[Doc], None]


# --------------------------------------------------------------------------- #
# A small resolved document (identity sharing, as the loader builds it)
# --------------------------------------------------------------------------- #


def _message(name: str) -> Doc:
    return {
        "name": name,
        "payload": {
            "type": "object",
            "properties": {"action": {"type": "string", "const": name}, "text": {"type": "string"}},
            "required": ["action"],
        },
    }


def base() -> Doc:
    """Channel ``chat`` with ``ask`` (request: received by ``chat_ask``), ``answer`` (response:
    its reply) and ``news`` (response: sent by ``chat_news``); server ``prod``; a token scheme."""
    prod: Doc = {"host": "example.com", "protocol": "wss"}
    ask, answer, news = _message("ask"), _message("answer"), _message("news")
    chat: Doc = {
        "address": "/ws/chat",
        "servers": [prod],
        "messages": {"ask": ask, "answer": answer, "news": news},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Chat", "version": "1.0.0"},
        "servers": {"prod": prod},
        "channels": {"chat": chat},
        "operations": {
            "chat_ask": {
                "action": "receive",
                "channel": chat,
                "messages": [ask],
                "reply": {"channel": chat, "messages": [answer]},
            },
            "chat_news": {"action": "send", "channel": chat, "messages": [news]},
        },
        "components": {
            "securitySchemes": {
                "token": {"type": "httpApiKey", "name": "token", "in": "query"},
                "basic": {"type": "userPassword"},
            }
        },
    }


def chat(doc: Doc) -> Doc:
    channel: Doc = doc["channels"]["chat"]
    return channel


def msg(doc: Doc, key: str) -> Doc:
    message: Doc = chat(doc)["messages"][key]
    return message


def op(doc: Doc, key: str) -> Doc:
    operation: Doc = doc["operations"][key]
    return operation


def scheme(doc: Doc, name: str) -> Doc:
    found: Doc = doc["components"]["securitySchemes"][name]
    return found


def add_lobby(doc: Doc) -> None:
    doc["channels"]["lobby"] = {
        "address": "/ws/lobby",
        "servers": [doc["servers"]["prod"]],
        "messages": {},
    }


def add_extra_message(doc: Doc) -> None:
    chat(doc)["messages"]["extra"] = _message("extra")


def add_dev_server(doc: Doc) -> None:
    doc["servers"]["dev"] = {"host": "localhost", "protocol": "ws"}


def pair(new: Edit, old: Edit | None = None, both: Edit | None = None) -> tuple[Doc, Doc]:
    """``(A, B)``: two fresh base documents, ``both`` applied to each, then ``old``/``new``."""
    a, b = base(), base()
    if both is not None:
        both(a)
        both(b)
    if old is not None:
        old(a)
    new(b)
    return a, b


def swap(p: tuple[Doc, Doc]) -> tuple[Doc, Doc]:
    return p[1], p[0]


def seq(*edits: Edit) -> Edit:
    def run(doc: Doc) -> None:
        for edit in edits:
            edit(doc)

    return run


def setter(path: Callable[[Doc], Any], key: Any, value: Any) -> Edit:
    def run(doc: Doc) -> None:
        path(doc)[key] = value

    return run


def deleter(path: Callable[[Doc], Any], key: Any) -> Edit:
    def run(doc: Doc) -> None:
        del path(doc)[key]

    return run


# --------------------------------------------------------------------------- #
# Payload schema pairs, generated for both directions
# --------------------------------------------------------------------------- #

MESSAGE_OF = {"request": "ask", "response": "answer"}


def field_pair(
    way: str,
    old: Any,
    new: Any,
    *,
    required: tuple[bool, bool] = (False, False),
    closed: bool = False,
) -> tuple[Doc, Doc]:
    """Property ``f`` of the request (``ask``) or response (``answer``) payload: ``old`` in A,
    ``new`` in B (None: absent); ``required`` per side; ``closed``: additionalProperties false."""

    def edit(schema: Any, needed: bool) -> Edit:
        def run(doc: Doc) -> None:
            payload = msg(doc, MESSAGE_OF[way])["payload"]
            if closed:
                payload["additionalProperties"] = False
            if schema is not None:
                payload["properties"]["f"] = json.loads(json.dumps(schema))
            if needed:
                payload["required"].append("f")

        return run

    return pair(edit(new, required[1]), edit(old, required[0]))


STRING: Doc = {"type": "string"}

#: (rule suffix, old schema of property f, new schema, keyword arguments of field_pair)
SCHEMA_CASES: list[tuple[str, Any, Any, dict[str, Any]]] = [
    ("property-added", None, STRING, {}),
    ("property-required-added", STRING, STRING, {"required": (False, True)}),
    ("property-required-removed", STRING, STRING, {"required": (True, False)}),
    ("type-narrowed", {"type": ["integer", "string"]}, STRING, {}),
    ("type-widened", {"type": "integer"}, {"type": "number"}, {}),
    ("type-changed", STRING, {"type": "integer"}, {}),
    ("enum-value-added", {"enum": ["a", "b"]}, {"enum": ["a", "b", "c"]}, {}),
    ("enum-value-removed", {"enum": ["a", "b", "c"]}, {"enum": ["a", "b"]}, {}),
    ("nullable-added", STRING, {"type": ["string", "null"]}, {}),
    ("nullable-removed", {"type": "string", "nullable": True}, STRING, {}),
    (
        "additional-properties-restricted",
        {"type": "object"},
        {"type": "object", "additionalProperties": False},
        {},
    ),
    (
        "additional-properties-allowed",
        {"type": "object", "additionalProperties": False},
        {"type": "object", "additionalProperties": True},
        {},
    ),
    (
        "union-branch-added",
        {"anyOf": [STRING, {"type": "integer"}]},
        {"anyOf": [STRING, {"type": "integer"}, {"type": "boolean"}]},
        {},
    ),
    (
        "union-branch-removed",
        {"oneOf": [STRING, {"type": "integer"}, {"type": "boolean"}]},
        {"oneOf": [STRING, {"type": "boolean"}]},
        {},
    ),
    (
        "length-tightened",
        {"type": "string", "maxLength": 10},
        {"type": "string", "maxLength": 5},
        {},
    ),
    ("length-relaxed", {"type": "string", "minLength": 3}, {"type": "string", "minLength": 1}, {}),
    ("range-tightened", {"type": "integer", "maximum": 10}, {"type": "integer", "maximum": 5}, {}),
    (
        "range-relaxed",
        {"type": "integer", "multipleOf": 4},
        {"type": "integer", "multipleOf": 2},
        {},
    ),
    ("items-tightened", {"type": "array"}, {"type": "array", "uniqueItems": True}, {}),
    ("items-relaxed", {"type": "array", "maxItems": 5}, {"type": "array", "maxItems": 10}, {}),
    ("pattern-tightened", STRING, {"type": "string", "pattern": "^a"}, {}),
    ("pattern-relaxed", {"type": "string", "pattern": "^a"}, STRING, {}),
    ("format-tightened", STRING, {"type": "string", "format": "email"}, {}),
    ("format-relaxed", {"type": "string", "format": "email"}, STRING, {}),
    ("constraint-tightened", {"type": "object"}, {"type": "object", "minProperties": 1}, {}),
    ("constraint-relaxed", {"type": "string", "not": {"const": "x"}}, STRING, {}),
]

PAIRS: dict[str, Callable[[], tuple[Doc, Doc]]] = {}

for _way in ("request", "response"):
    for _suffix, _old, _new, _kwargs in SCHEMA_CASES:
        PAIRS[f"{_way}-{_suffix}"] = lambda w=_way, o=_old, n=_new, k=_kwargs: field_pair(
            w, o, n, **k
        )

PAIRS.update(
    {
        "request-property-removed": lambda: field_pair("request", STRING, None),
        "request-property-removed-forbidden": lambda: field_pair(
            "request", STRING, None, closed=True
        ),
        "response-property-removed": lambda: field_pair("response", STRING, None),
        "discriminator-value-changed": lambda: pair(
            setter(lambda d: msg(d, "ask")["payload"]["properties"]["action"], "const", "ask2")
        ),
        "discriminator-changed": lambda: pair(
            setter(lambda d: msg(d, "ask")["payload"], "discriminator", "action")
        ),
        "default-added": lambda: field_pair("request", STRING, {"type": "string", "default": "x"}),
        "default-removed": lambda: field_pair(
            "request", {"type": "string", "default": "x"}, STRING
        ),
        "default-changed": lambda: field_pair(
            "request", {"type": "string", "default": "x"}, {"type": "string", "default": "y"}
        ),
        "read-write-only-changed": lambda: field_pair(
            "response", STRING, {"type": "string", "readOnly": True}
        ),
        "deprecated-changed": lambda: field_pair(
            "request", STRING, {"type": "string", "deprecated": True}
        ),
        # -- document, servers, security --------------------------------------------------- #
        "info-changed": lambda: pair(setter(lambda d: d["info"], "version", "2.0.0")),
        "server-added": lambda: pair(add_dev_server),
        "server-removed": lambda: swap(pair(add_dev_server)),
        "server-changed": lambda: pair(setter(lambda d: d["servers"]["prod"], "host", "x.org")),
        "content-type-changed": lambda: pair(
            setter(lambda d: msg(d, "ask"), "contentType", "application/cbor")
        ),
        "security-added": lambda: pair(
            lambda d: op(d, "chat_ask").__setitem__("security", [scheme(d, "token")])
        ),
        "security-removed": lambda: swap(
            pair(lambda d: op(d, "chat_ask").__setitem__("security", [scheme(d, "token")]))
        ),
        "security-alternative-added": lambda: pair(
            lambda d: op(d, "chat_ask").__setitem__(
                "security", [scheme(d, "token"), scheme(d, "basic")]
            ),
            lambda d: op(d, "chat_ask").__setitem__("security", [scheme(d, "token")]),
        ),
        "security-alternative-removed": lambda: pair(
            lambda d: op(d, "chat_ask").__setitem__("security", [scheme(d, "token")]),
            lambda d: op(d, "chat_ask").__setitem__(
                "security", [scheme(d, "token"), scheme(d, "basic")]
            ),
        ),
        "security-scheme-changed": lambda: pair(setter(lambda d: scheme(d, "token"), "name", "t")),
        # -- channels -------------------------------------------------------------------- #
        "channel-added": lambda: pair(add_lobby),
        "channel-removed": lambda: swap(pair(add_lobby)),
        "address-changed": lambda: pair(setter(chat, "address", "/ws/chat2")),
        "parameter-added": lambda: pair(
            setter(chat, "parameters", {"room": {"description": "Room."}}),
            both=setter(chat, "address", "/ws/{room}"),
        ),
        "parameter-removed": lambda: swap(
            pair(
                setter(chat, "parameters", {"room": {"description": "Room."}}),
                both=setter(chat, "address", "/ws/{room}"),
            )
        ),
        "parameter-enum-value-added": lambda: pair(
            setter(chat, "parameters", {"room": {"enum": ["a", "b"]}}),
            setter(chat, "parameters", {"room": {"enum": ["a"]}}),
            both=setter(chat, "address", "/ws/{room}"),
        ),
        "parameter-enum-value-removed": lambda: pair(
            setter(chat, "parameters", {"room": {"enum": ["a"]}}),
            setter(chat, "parameters", {"room": {"enum": ["a", "b"]}}),
            both=setter(chat, "address", "/ws/{room}"),
        ),
        "parameter-default-changed": lambda: pair(
            setter(chat, "parameters", {"room": {"default": "b"}}),
            setter(chat, "parameters", {"room": {"default": "a"}}),
            both=setter(chat, "address", "/ws/{room}"),
        ),
        "parameter-location-changed": lambda: pair(
            setter(chat, "parameters", {"room": {"location": "$message.payload#/b"}}),
            setter(chat, "parameters", {"room": {"location": "$message.payload#/a"}}),
            both=setter(chat, "address", "/ws/{room}"),
        ),
        "channel-server-added": lambda: pair(
            lambda d: chat(d)["servers"].append(d["servers"]["dev"]), both=add_dev_server
        ),
        "channel-server-removed": lambda: swap(
            pair(lambda d: chat(d)["servers"].append(d["servers"]["dev"]), both=add_dev_server)
        ),
        "channel-layer-changed": lambda: pair(setter(chat, "x-channel-layer", "chat")),
        "channel-groups-changed": lambda: pair(setter(chat, "x-groups", ["everyone"])),
        "bindings-changed": lambda: pair(setter(chat, "bindings", {"ws": {"method": "GET"}})),
        # -- messages -------------------------------------------------------------------- #
        "message-added": lambda: pair(add_extra_message),
        "message-removed": lambda: swap(pair(add_extra_message)),
        "message-name-changed": lambda: pair(setter(lambda d: msg(d, "ask"), "name", "question")),
        "schema-format-changed": lambda: pair(
            setter(lambda d: msg(d, "ask"), "schemaFormat", "application/vnd.apache.avro;v=1.10"),
            setter(lambda d: msg(d, "ask"), "schemaFormat", "application/vnd.apache.avro;v=1.9"),
        ),
        "opaque-payload-changed": lambda: pair(
            setter(lambda d: msg(d, "ask")["payload"], "type", "record"),
            both=setter(lambda d: msg(d, "ask"), "schemaFormat", "application/vnd.apache.avro"),
        ),
        "correlation-id-changed": lambda: pair(
            setter(lambda d: msg(d, "ask"), "correlationId", {"location": "$message.payload#/id"})
        ),
        # -- operations ------------------------------------------------------------------ #
        "operation-added": lambda: pair(
            lambda d: d["operations"].__setitem__(
                "chat_again", {"action": "receive", "channel": chat(d), "messages": [msg(d, "ask")]}
            )
        ),
        "operation-removed": lambda: pair(deleter(lambda d: d["operations"], "chat_news")),
        "operation-action-changed": lambda: pair(
            setter(lambda d: op(d, "chat_news"), "action", "receive")
        ),
        "operation-channel-changed": lambda: pair(
            lambda d: op(d, "chat_news").__setitem__("channel", d["channels"]["lobby"]),
            both=add_lobby,
        ),
        "request-message-added": lambda: pair(
            lambda d: op(d, "chat_ask")["messages"].append(msg(d, "extra")),
            both=add_extra_message,
        ),
        "request-message-removed": lambda: swap(
            pair(
                lambda d: op(d, "chat_ask")["messages"].append(msg(d, "extra")),
                both=add_extra_message,
            )
        ),
        "response-message-added": lambda: pair(
            lambda d: op(d, "chat_news")["messages"].append(msg(d, "extra")),
            both=add_extra_message,
        ),
        "response-message-removed": lambda: swap(
            pair(
                lambda d: op(d, "chat_news")["messages"].append(msg(d, "extra")),
                both=add_extra_message,
            )
        ),
        "reply-added": lambda: pair(
            lambda d: op(d, "chat_news").__setitem__(
                "reply", {"channel": chat(d), "messages": [msg(d, "ask")]}
            )
        ),
        "reply-removed": lambda: pair(deleter(lambda d: op(d, "chat_ask"), "reply")),
        "reply-message-added": lambda: pair(
            lambda d: op(d, "chat_ask")["reply"]["messages"].append(msg(d, "extra")),
            both=add_extra_message,
        ),
        "reply-message-removed": lambda: pair(
            lambda d: op(d, "chat_ask")["reply"].__setitem__("messages", [msg(d, "news")])
        ),
        "reply-channel-changed": lambda: pair(
            lambda d: op(d, "chat_ask")["reply"].__setitem__("channel", d["channels"]["lobby"]),
            both=add_lobby,
        ),
        "reply-address-changed": lambda: pair(
            setter(lambda d: op(d, "chat_ask")["reply"], "address", {"location": "$message#/r"})
        ),
        "event-added": lambda: pair(
            setter(lambda d: op(d, "chat_news"), "x-events", [{"name": "tick", "payload": STRING}])
        ),
        "event-removed": lambda: swap(
            pair(
                setter(
                    lambda d: op(d, "chat_news"), "x-events", [{"name": "tick", "payload": STRING}]
                )
            )
        ),
        "event-changed": lambda: pair(
            setter(
                lambda d: op(d, "chat_news"),
                "x-events",
                [{"name": "tick", "payload": {"type": "integer"}}],
            ),
            setter(lambda d: op(d, "chat_news"), "x-events", [{"name": "tick", "payload": STRING}]),
        ),
        # -- documentation anywhere -------------------------------------------------------- #
        "description-changed": lambda: pair(setter(chat, "description", "Talk.")),
        "summary-changed": lambda: pair(setter(lambda d: op(d, "chat_ask"), "summary", "Ask.")),
        "title-changed": lambda: pair(setter(lambda d: msg(d, "ask"), "title", "Ask")),
        "examples-changed": lambda: pair(
            setter(lambda d: msg(d, "ask"), "examples", [{"payload": {"action": "ask"}}])
        ),
        "tags-changed": lambda: pair(setter(lambda d: d, "tags", [{"name": "chat"}])),
        "external-docs-changed": lambda: pair(
            setter(lambda d: d, "externalDocs", {"url": "https://example.com"})
        ),
        "extension-changed": lambda: pair(setter(lambda d: d, "x-team", "core")),
        "unclassified-change": lambda: pair(setter(chat, "weird", 1)),
    }
)


def findings_of(a: Doc, b: Doc) -> list[Finding]:
    return classify(diff_documents(a, b), canonical_document(a), canonical_document(b))


def rule_ids(a: Doc, b: Doc) -> list[str]:
    return [f.rule.id for f in findings_of(a, b)]


# --------------------------------------------------------------------------- #
# The registry
# --------------------------------------------------------------------------- #


def test_registry_shape() -> None:
    assert len(RULES) >= 40
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids)) == len(RULES_BY_ID)
    for r in RULES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", r.id), r.id
        assert r.level in LEVELS
        assert r.summary and "\n" not in r.summary and r.summary.endswith("."), r.id
    assert rule("channel-removed").level == "breaking"
    with pytest.raises(KeyError):
        rule("no-such-rule")


def test_every_pair_names_a_rule() -> None:
    assert sorted(set(PAIRS) - set(RULES_BY_ID)) == []


@pytest.mark.parametrize("rule_id", [r.id for r in RULES])
def test_rule_has_a_minimal_pair(rule_id: str) -> None:
    make = PAIRS.get(rule_id)
    assert make is not None, f"rule {rule_id!r} has no before/after pair in PAIRS"
    a, b = make()
    found = [(f.rule.id, f.rule.level) for f in findings_of(a, b)]
    assert found == [(rule_id, RULES_BY_ID[rule_id].level)]


def test_catalogue_is_current() -> None:
    page = (REPO / "docs" / "diff-rules.md").read_text(encoding="utf-8")
    assert page == rules_markdown(), (
        "run: python -m chanspec.codegen.diff_rules > docs/diff-rules.md"
    )
    for r in RULES:
        assert f"| `{r.id}` | {r.level} |" in page


# --------------------------------------------------------------------------- #
# Direction
# --------------------------------------------------------------------------- #


def test_message_sent_by_a_send_operation_is_a_response() -> None:
    def require_text(doc: Doc) -> None:
        msg(doc, "news")["payload"]["required"].append("text")

    assert rule_ids(*pair(require_text)) == ["response-property-required-added"]


def test_reply_of_a_send_operation_is_a_request() -> None:
    def with_reply(required: bool) -> Edit:
        def run(doc: Doc) -> None:
            add_extra_message(doc)
            op(doc, "chat_news")["reply"] = {"channel": chat(doc), "messages": [msg(doc, "extra")]}
            if required:
                msg(doc, "extra")["payload"]["required"].append("text")

        return run

    assert rule_ids(*pair(with_reply(True), with_reply(False))) == [
        "request-property-required-added"
    ]


def test_message_used_both_ways_gets_the_stricter_rule() -> None:
    def share(doc: Doc) -> None:  # ``answer`` is also received
        op(doc, "chat_ask")["messages"].append(msg(doc, "answer"))

    def widen(doc: Doc) -> None:
        msg(doc, "answer")["payload"]["properties"]["text"] = {"type": ["string", "integer"]}

    # widening: info for a request, breaking for a response
    assert rule_ids(*pair(widen, both=share)) == ["response-type-widened"]

    def tighten(doc: Doc) -> None:
        msg(doc, "answer")["payload"]["properties"]["text"]["maxLength"] = 3

    # tightening: breaking for a request, info for a response
    assert rule_ids(*pair(tighten, both=share)) == ["request-length-tightened"]


def test_message_of_no_operation_is_judged_both_ways() -> None:
    def tighten(doc: Doc) -> None:
        msg(doc, "extra")["payload"]["properties"]["text"]["maxLength"] = 3

    assert rule_ids(*pair(tighten, both=add_extra_message)) == ["request-length-tightened"]


def test_direction_follows_the_other_side_too() -> None:
    """A message received only in B is still judged as a request."""

    def receive_news(doc: Doc) -> None:
        op(doc, "chat_ask")["messages"].append(msg(doc, "news"))
        msg(doc, "news")["payload"]["required"].append("text")

    ids = rule_ids(*pair(receive_news))
    assert ids == ["request-property-required-added", "request-message-added"]


def test_set_changes_take_the_stricter_rule() -> None:
    # one required property swapped for another in a request: added (breaking) wins
    def swap_required(doc: Doc) -> None:
        msg(doc, "ask")["payload"]["required"] = ["text"]

    assert rule_ids(*pair(swap_required)) == ["request-property-required-added"]
    # enum values exchanged in a response: added (warning) beats removed (info)
    a, b = field_pair("response", {"enum": ["a", "b"]}, {"enum": ["a", "c"]})
    assert rule_ids(a, b) == ["response-enum-value-added"]


def test_const_introduced_on_a_request_value_restricts_it() -> None:
    a, b = field_pair("request", STRING, {"type": "string", "const": "x"})
    assert [(f.difference.pointer, f.rule.id) for f in findings_of(a, b)] == [
        ("/channels/chat/messages/ask/payload/properties/f/const", "request-enum-value-removed")
    ]


def test_enum_narrowed_to_one_value_is_one_change() -> None:
    a, b = field_pair("response", {"type": "string", "enum": ["a", "b"]}, {"enum": ["a"]})
    found = findings_of(a, b)
    assert [(f.difference.pointer, f.rule.id) for f in found] == [
        ("/channels/chat/messages/answer/payload/properties/f/enum", "response-enum-value-removed")
    ]
    assert (found[0].difference.old, found[0].difference.new) == (["a", "b"], ["a"])


def test_nullable_with_a_type_change_is_two_findings() -> None:
    a, b = field_pair("response", {"type": "integer"}, {"type": ["string", "null"]})
    assert [(f.difference.pointer, f.rule.id) for f in findings_of(a, b)] == [
        ("/channels/chat/messages/answer/payload/properties/f/anyOf/1", "response-nullable-added"),
        ("/channels/chat/messages/answer/payload/properties/f/type", "response-type-changed"),
    ]


def test_websocket_query_schema_is_a_request() -> None:
    def query(required: list[str]) -> Edit:
        return setter(
            chat,
            "bindings",
            {
                "ws": {
                    "query": {
                        "type": "object",
                        "properties": {"token": STRING},
                        **({"required": required} if required else {}),
                    }
                }
            },
        )

    assert rule_ids(*pair(query(["token"]), query([]))) == ["request-property-required-added"]


def test_removed_property_under_closed_nullable_parent() -> None:
    def obj(props: dict[str, Any]) -> Doc:
        return {"type": ["object", "null"], "properties": props, "additionalProperties": False}

    a, b = field_pair("request", obj({"x": STRING, "y": STRING}), obj({"x": STRING}))
    assert rule_ids(a, b) == ["request-property-removed-forbidden"]


def test_changes_under_not_are_judged_both_ways() -> None:
    a, b = field_pair(
        "request",
        {"not": {"type": "string", "maxLength": 3}},
        {"not": {"type": "string", "maxLength": 5}},
    )
    assert rule_ids(a, b) == ["request-length-tightened"]


def test_multi_format_payload() -> None:
    def multi(fmt: str, max_length: int) -> Edit:
        def run(doc: Doc) -> None:
            schema = {"type": "object", "properties": {"t": {"type": "string"}}}
            schema["properties"]["t"]["maxLength"] = max_length
            msg(doc, "ask")["payload"] = {"schemaFormat": fmt, "schema": schema}

        return run

    json_fmt = "application/schema+json;version=draft-07"
    a, b = pair(multi(json_fmt, 5), multi(json_fmt, 10))
    assert [(f.difference.pointer, f.rule.id) for f in findings_of(a, b)] == [
        (
            "/channels/chat/messages/ask/payload/properties/t/maxLength",
            "request-length-tightened",
        )
    ]
    yaml_fmt = "application/schema+yaml;version=draft-07"
    # the same JSON Schema in another JSON Schema format: no difference
    assert rule_ids(*pair(multi(yaml_fmt, 10), multi(json_fmt, 10))) == []
    avro = "application/vnd.apache.avro;version=1.9.0"
    assert rule_ids(*pair(multi(avro, 5), multi(avro, 10))) == ["opaque-payload-changed"]


def test_classify_documents_and_unknown_pointer() -> None:
    a, b = pair(setter(chat, "address", "/x"))
    assert [f.rule.id for f in classify_documents(a, b)] == ["address-changed"]
    odd = Difference("/whatever/deep", "changed", 1, 2)
    assert [f.rule.id for f in classify([odd], {}, {})] == ["unclassified-change"]


def test_fails_thresholds() -> None:
    info = Finding(Difference("/info/version", "changed", "1", "2"), rule("info-changed"))
    breaking = Finding(Difference("/channels/c", "removed", {}), rule("channel-removed"))
    assert fails([breaking], "breaking") and not fails([info], "breaking")
    assert fails([info], "info") and not fails([info], "warning")
    assert not fails([breaking], "never") and not fails([], "info")
    assert FAIL_ON == ("breaking", "warning", "info", "never")
    with pytest.raises(ValueError):
        fails([], "sometimes")


# --------------------------------------------------------------------------- #
# Formats (exact output for a small case)
# --------------------------------------------------------------------------- #


def sample() -> list[Finding]:
    def edit(doc: Doc) -> None:
        chat(doc)["address"] = "/ws/chat2"
        doc["info"]["description"] = "Chat | talk"
        msg(doc, "answer")["payload"]["properties"]["mood"] = {"enum": ["ok", "sad"]}
        op(doc, "chat_news")["summary"] = "News"

    def before(doc: Doc) -> None:
        msg(doc, "answer")["payload"]["properties"]["mood"] = {"enum": ["ok"]}

    return findings_of(*pair(edit, before))


def locate(d: Difference) -> Location:
    if d.pointer == "/channels/chat/address":
        return Location(Position("old.yaml", 4, 14), Position("new, v2.yaml", 4, 14))
    if d.pointer.startswith("/info"):
        return Location(None, Position("new, v2.yaml", 3, 3))
    return Location()


def test_text_format() -> None:
    assert render_text(sample(), old_label="old.yaml", new_label="app:app", locate=locate) == (
        "old.yaml -> app:app: 4 differences (1 breaking, 1 warning, 2 info)\n"
        "\n"
        "document\n"
        '  added /info/description: "Chat | talk"  (new, v2.yaml:3:3)\n'
        "    info info-changed: The info object (title, version, description, ...) changed.\n"
        "\n"
        "channel chat\n"
        '  changed /channels/chat/address: "/ws/chat" -> "/ws/chat2"'
        "  (old.yaml:4:14, new, v2.yaml:4:14)\n"
        "    breaking address-changed: A channel's address changed; clients connect to the old"
        " address.\n"
        "\n"
        "message answer (channel chat)\n"
        '  changed /channels/chat/messages/answer/payload/properties/mood/enum: ["ok"] -> '
        '["ok", "sad"]\n'
        "    warning response-enum-value-added: A response value may take a value clients do not"
        " know (enum value added, const changed, or enum/const dropped).\n"
        "\n"
        "operation chat_news\n"
        '  added /operations/chat_news/summary: "News"\n'
        "    info summary-changed: A summary changed; documentation only."
    )
    assert render_text([], old_label="a", new_label="b") == "No differences between a and b."


def test_json_format() -> None:
    entries = json.loads(render_json(sample(), locate=locate))
    assert [(e["pointer"], e["change"], e["level"], e["rule"], e["location"]) for e in entries] == [
        ("/channels/chat/address", "changed", "breaking", "address-changed", "new, v2.yaml:4:14"),
        (
            "/channels/chat/messages/answer/payload/properties/mood/enum",
            "changed",
            "warning",
            "response-enum-value-added",
            None,
        ),
        ("/info/description", "added", "info", "info-changed", "new, v2.yaml:3:3"),
        ("/operations/chat_news/summary", "added", "info", "summary-changed", None),
    ]
    assert entries[0] == {
        "change": "changed",
        "level": "breaking",
        "location": "new, v2.yaml:4:14",
        "message": rule("address-changed").summary,
        "new": "/ws/chat2",
        "old": "/ws/chat",
        "pointer": "/channels/chat/address",
        "rule": "address-changed",
    }
    assert entries[1]["old"] == ["ok"] and entries[1]["new"] == ["ok", "sad"]
    assert render_json(sample()[:1], locate=locate) == (
        "[\n"
        "  {\n"
        '    "change": "changed",\n'
        '    "level": "breaking",\n'
        '    "location": "new, v2.yaml:4:14",\n'
        '    "message": "A channel\'s address changed; clients connect to the old address.",\n'
        '    "new": "/ws/chat2",\n'
        '    "old": "/ws/chat",\n'
        '    "pointer": "/channels/chat/address",\n'
        '    "rule": "address-changed"\n'
        "  }\n"
        "]"
    )
    assert render_json([]) == "[]"


def test_markdown_format() -> None:
    header = "| level | rule | change | pointer | old | new | location | explanation |\n"
    header += "|---|---|---|---|---|---|---|---|\n"
    assert render_markdown(sample(), old_label="old.yaml", new_label="app:app", locate=locate) == (
        "## chanspec diff: `old.yaml` -> `app:app`\n"
        "\n"
        "4 differences (1 breaking, 1 warning, 2 info).\n"
        "\n"
        "### document\n"
        "\n" + header + "| info | `info-changed` | added | `/info/description` |  | "
        '`"Chat \\| talk"` | `new, v2.yaml:3:3` | The info object (title, version, '
        "description, ...) changed. |\n"
        "\n"
        "### channel `chat`\n"
        "\n" + header + "| breaking | `address-changed` | changed | `/channels/chat/address` | "
        '`"/ws/chat"` | `"/ws/chat2"` | `old.yaml:4:14`, `new, v2.yaml:4:14` | A channel\'s '
        "address changed; clients connect to the old address. |\n"
        "\n"
        "### message `answer` (channel `chat`)\n"
        "\n" + header + "| warning | `response-enum-value-added` | changed | "
        '`/channels/chat/messages/answer/payload/properties/mood/enum` | `["ok"]` | '
        '`["ok", "sad"]` |  | A response value may take a value clients do not know (enum '
        "value added, const changed, or enum/const dropped). |\n"
        "\n"
        "### operation `chat_news`\n"
        "\n" + header + "| info | `summary-changed` | added | `/operations/chat_news/summary` |  "
        '| `"News"` |  | A summary changed; documentation only. |'
    )
    assert (
        render_markdown([], old_label="a", new_label="b") == "No differences between `a` and `b`."
    )


def test_github_format() -> None:
    assert render_github(sample(), locate=locate).splitlines() == [
        "::error file=new%2C v2.yaml,line=4,col=14,title=address-changed::A channel's address "
        'changed; clients connect to the old address. (changed /channels/chat/address: "/ws/chat"'
        ' -> "/ws/chat2")',
        "::warning title=response-enum-value-added::A response value may take a value clients do "
        "not know (enum value added, const changed, or enum/const dropped). (changed "
        '/channels/chat/messages/answer/payload/properties/mood/enum: ["ok"] -> ["ok", "sad"])',
        "::notice file=new%2C v2.yaml,line=3,col=3,title=info-changed::The info object (title, "
        'version, description, ...) changed. (added /info/description: "Chat | talk")',
        "::notice title=summary-changed::A summary changed; documentation only. (added "
        '/operations/chat_news/summary: "News")',
    ]
    assert render_github([]) == ""
    odd = Difference("/info/x-note", "added", new="50%")
    position = Position("a:b,c.yaml", 1, 2)
    assert render_github(
        [Finding(odd, rule("info-changed"))], locate=lambda d: Location(position)
    ) == (
        "::notice file=a%3Ab%2Cc.yaml,line=1,col=2,title=info-changed::The info object (title, "
        'version, description, ...) changed. (added /info/x-note: "50%25")'
    )


def test_render_dispatch_and_determinism() -> None:
    found = sample()
    for fmt in ("text", "json", "markdown", "github"):
        first = render(found, fmt, old_label="a", new_label="b", locate=locate)
        assert first == render(sample(), fmt, old_label="a", new_label="b", locate=locate)
    with pytest.raises(ValueError):
        render(found, "yaml", old_label="a", new_label="b")


# --------------------------------------------------------------------------- #
# The command: --format, --fail-on, exit codes, locations in referenced files
# --------------------------------------------------------------------------- #

SPEC = """\
asyncapi: 3.0.0
info:
  title: Chat
  version: 1.0.0
channels:
  chat:
    address: /ws/chat
    messages:
      ask:
        name: ask
        payload:
          type: object
          properties:
            action: {type: string, const: ask}
            text: {type: string, maxLength: 10}
          required: [action]
      answer:
        name: answer
        payload:
          type: object
          properties:
            action: {type: string, const: answer}
            mood: {type: string, enum: [ok, sad]}
          required: [action]
operations:
  chat_ask:
    action: receive
    channel: {$ref: '#/channels/chat'}
    messages: [{$ref: '#/channels/chat/messages/ask'}]
    reply:
      channel: {$ref: '#/channels/chat'}
      messages: [{$ref: '#/channels/chat/messages/answer'}]
"""

#: name -> (text replaced in SPEC, replacement, level of the one resulting finding)
VARIANTS = {
    "breaking": ("maxLength: 10", "maxLength: 5", "breaking"),
    "warning": ("enum: [ok, sad]", "enum: [ok, sad, mad]", "warning"),
    "info": ("  version: 1.0.0", "  version: 1.1.0", "info"),
}


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)


def exit_code(result: Result) -> int:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"CLI raised {result.exception!r}\n{result.output}")
    return result.exit_code


@pytest.fixture
def specs(tmp_path: Path) -> dict[str, Path]:
    paths = {"base": tmp_path / "base.yaml"}
    paths["base"].write_text(SPEC, encoding="utf-8")
    for name, (old, new, _) in VARIANTS.items():
        assert SPEC.count(old) == 1
        paths[name] = tmp_path / f"{name}.yaml"
        paths[name].write_text(SPEC.replace(old, new), encoding="utf-8")
    return paths


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("fail_on", FAIL_ON)
def test_fail_on_exit_codes(specs: dict[str, Path], variant: str, fail_on: str) -> None:
    level = VARIANTS[variant][2]
    result = run("diff", specs["base"], specs[variant], "--fail-on", fail_on, "--format", "json")
    entries = json.loads(result.stdout)
    assert [e["level"] for e in entries] == [level]
    expected = 0 if fail_on == "never" else int(LEVELS.index(level) >= LEVELS.index(fail_on))
    assert exit_code(result) == expected


def test_default_fail_on_is_breaking(specs: dict[str, Path]) -> None:
    assert exit_code(run("diff", specs["base"], specs["breaking"])) == 1
    assert exit_code(run("diff", specs["base"], specs["warning"])) == 0
    same = run("diff", specs["base"], specs["base"], "--fail-on", "info")
    assert exit_code(same) == 0
    assert same.stdout == f"No differences between {specs['base']} and {specs['base']}.\n"


def test_usage_errors_and_unloadable_sides_exit_2(specs: dict[str, Path], tmp_path: Path) -> None:
    assert exit_code(run("diff", specs["base"], specs["info"], "--fail-on", "sometimes")) == 2
    assert exit_code(run("diff", specs["base"], specs["info"], "--format", "yaml")) == 2
    assert exit_code(run("diff", specs["base"])) == 2
    missing = run("diff", specs["base"], tmp_path / "missing.yaml")
    assert exit_code(missing) == 2 and "cannot be loaded" in missing.stderr
    app = run("diff", specs["base"], "no_such_module_xyz:app")
    assert exit_code(app) == 2 and "cannot import" in app.output


def test_cli_formats(specs: dict[str, Path]) -> None:
    text = run("diff", specs["base"], specs["breaking"])
    line = SPEC.splitlines().index("            text: {type: string, maxLength: 10}") + 1
    assert text.stdout.splitlines()[2:] == [
        "message ask (channel chat)",
        "  changed /channels/chat/messages/ask/payload/properties/text/maxLength: 10 -> 5"
        f"  ({specs['base']}:{line}:45, {specs['breaking']}:{line}:45)",
        f"    breaking request-length-tightened: {rule('request-length-tightened').summary}",
    ]
    github = run("diff", specs["base"], specs["breaking"], "--format", "github")
    assert github.stdout.startswith(
        f"::error file={specs['breaking']},line={line},col=45,title=request-length-tightened::"
    )
    markdown = run("diff", specs["base"], specs["warning"], "--format", "markdown")
    assert "### message `answer` (channel `chat`)" in markdown.stdout
    assert "| warning | `response-enum-value-added` |" in markdown.stdout
    assert run("diff", specs["base"], specs["base"], "--format", "github").stdout == ""


def test_location_inside_a_referenced_file(tmp_path: Path) -> None:
    inline = SPEC[SPEC.index("        payload:\n") : SPEC.index("      answer:\n")]
    spec = SPEC.replace(inline, "        payload: {$ref: 'schemas.yaml#/Ask'}\n")
    schema = "Ask:\n  type: object\n  properties:\n    text:\n      type: string\n"
    for name, text in (("a", schema), ("b", schema.replace("type: string", "type: integer"))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "schemas.yaml").write_text(text, encoding="utf-8")
        (tmp_path / name / "spec.yaml").write_text(spec, encoding="utf-8")
    result = run(
        "diff", tmp_path / "a" / "spec.yaml", tmp_path / "b" / "spec.yaml", "--format", "json"
    )
    entries = json.loads(result.stdout)
    assert [(e["pointer"], e["rule"]) for e in entries] == [
        ("/channels/chat/messages/ask/payload/properties/text/type", "request-type-changed")
    ]
    assert entries[0]["location"] == f"{tmp_path / 'b' / 'schemas.yaml'}:5:13"
    assert exit_code(result) == 1


def test_app_side_has_no_location(tmp_path: Path) -> None:
    showcase = REPO / "specs" / "showcase.asyncapi.yaml"
    text = showcase.read_text(encoding="utf-8")
    changed = tmp_path / "changed.yaml"
    changed.write_text(text.replace("address: /ws/chat\n", "address: /ws/chat2\n"), "utf-8")
    line = text.splitlines().index("    address: /ws/chat") + 1
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "CHANSPEC_"))}
    app = "examples.showcase.main:app"
    outputs = {}
    for fmt in ("json", "github"):
        proc = subprocess.run(
            [sys.executable, "-m", "chanspec.codegen", "diff", app, str(changed), "--format", fmt],
            cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        outputs[fmt] = proc.stdout
    entries = json.loads(outputs["json"])
    assert [(e["pointer"], e["rule"], e["location"]) for e in entries] == [
        ("/channels/chat/address", "address-changed", f"{changed}:{line}:14")
    ]
    assert outputs["github"].startswith(f"::error file={changed},line={line},col=14,")
