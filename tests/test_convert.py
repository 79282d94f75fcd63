"""Tests of the AsyncAPI 2.x -> 3.0.0 conversion (codegen/convert.py), corpus included."""

from __future__ import annotations

import collections
import csv
import json
import textwrap
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from chanspec.codegen.convert import (
    CONVERT_CODES,
    bundle_v3,
    channel_id,
    convert_document,
    convert_to_v3,
    split_server_url,
)
from chanspec.codegen.load import LoadedDocument, load_document, load_text
from chanspec.codegen.problems import Problem, Severity
from chanspec.codegen.traits import apply_traits

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SCHEMA_300 = CORPUS / "_schemas" / "3.0.0-without-$id.json"
CONVERTER = CORPUS / "asyncapi-converter-js"
needs_corpus = pytest.mark.skipif(
    not (CORPUS / "MANIFEST.tsv").is_file(), reason="shared corpus absent (../shared/corpus)"
)


def _load(src: str, name: str = "spec.yaml") -> LoadedDocument:
    return load_text(textwrap.dedent(src), name)


def _convert(src: str) -> tuple[LoadedDocument, dict[str, Any], list[Problem]]:
    doc = _load(src)
    assert doc.problems == [], doc.problems
    resolved, problems = convert_to_v3(doc)
    return doc, resolved, problems


def _codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA_300.read_text(encoding="utf-8")))


HEAD = """\
    asyncapi: 2.6.0
    info: {title: Chat, version: '1.0.0'}
"""


# -- directions, ids, messages ----------------------------------------------------------------


def test_publish_is_receive_and_subscribe_is_send() -> None:
    _, out, problems = _convert(
        HEAD
        + """\
    channels:
      /ws/room/{room}:
        parameters:
          room: {schema: {type: string}}
        publish:
          operationId: sendChat
          message: {name: chat, payload: {type: object}}
        subscribe:
          message: {name: joined, payload: {type: object}}
    """
    )
    assert problems == []
    assert out["asyncapi"] == "3.0.0"
    assert list(out["channels"]) == ["ws_room_room"]
    channel = out["channels"]["ws_room_room"]
    assert channel["address"] == "/ws/room/{room}"
    ops = out["operations"]
    assert list(ops) == ["sendChat", "subscribe_ws_room_room"]
    assert ops["sendChat"]["action"] == "receive"  # the client publishes, the server receives
    assert ops["subscribe_ws_room_room"]["action"] == "send"
    assert (
        ops["sendChat"]["channel"] is channel
        and ops["subscribe_ws_room_room"]["channel"] is channel
    )
    assert list(channel["messages"]) == ["chat", "joined"]
    assert ops["sendChat"]["messages"] == [channel["messages"]["chat"]]
    assert ops["sendChat"]["messages"][0] is channel["messages"]["chat"]
    assert "operationId" not in ops["sendChat"] and "message" not in ops["sendChat"]


def test_one_of_messages_become_channel_messages() -> None:
    doc, out, problems = _convert(
        HEAD
        + """\
    channels:
      chat:
        subscribe:
          message:
            oneOf:
              - $ref: '#/components/messages/said'
              - messageId: leftId
                payload: {type: object, properties: {who: {type: string}}}
              - payload: {type: string}
              - $ref: '#/components/messages/said'
    components:
      messages:
        said:
          payload: {type: object}
    """
    )
    assert problems == []
    channel = out["channels"]["chat"]
    assert list(channel["messages"]) == ["said", "leftId", "subscribe_message_2"]
    op = out["operations"]["subscribe_chat"]
    assert [id(m) for m in op["messages"]] == [id(m) for m in channel["messages"].values()]
    said = doc.resolved["components"]["messages"]["said"]
    assert channel["messages"]["said"] is said is out["components"]["messages"]["said"]
    assert "messageId" not in channel["messages"]["leftId"]


def test_message_key_preference_and_generated_keys() -> None:
    _, out, _ = _convert(
        HEAD
        + """\
    channels:
      a:
        publish:
          operationId: talk
          message:
            oneOf:
              - {name: byName, messageId: byId, payload: {type: string}}
              - {messageId: byId2, payload: {type: string}}
              - $ref: '#/components/messages/byKey'
              - {payload: {type: integer}}
              - {name: byName, payload: {type: boolean}}
        subscribe:
          message: {payload: {type: number}}
    components:
      messages:
        byKey: {payload: {type: object}}
    """
    )
    keys = list(out["channels"]["a"]["messages"])
    # name, then messageId, then the components key, then <operationId|kind>_message[_<i>]
    assert keys == ["byName", "byId2", "byKey", "talk_message_3", "byName_2", "subscribe_message"]


def test_channel_ids_are_sanitised_stable_and_unique() -> None:
    assert channel_id("/ws/room/{room}") == "ws_room_room"
    assert channel_id("user.signed-up") == "user_signed_up"
    assert channel_id("/") == "channel"
    doc, out, problems = _convert(
        HEAD
        + """\
    channels:
      /a-b: {subscribe: {message: {payload: {type: string}}}}
      /a_b: {subscribe: {message: {payload: {type: string}}}}
      /x/{id}:
        x-channelId: custom
        subscribe: {message: {payload: {type: string}}}
      /y:
        x-channelId: custom
        subscribe: {message: {payload: {type: string}}}
      custom: {subscribe: {message: {payload: {type: string}}}}
    """
    )
    assert list(out["channels"]) == ["a_b", "a_b_2", "custom", "y", "custom_2"]
    assert [c["address"] for c in out["channels"].values()] == [
        "/a-b",
        "/a_b",
        "/x/{id}",
        "/y",
        "custom",
    ]
    assert list(out["operations"]) == [
        "subscribe_a_b",
        "subscribe_a_b_2",
        "subscribe_custom",
        "subscribe_y",
        "subscribe_custom_2",
    ]
    assert _codes(problems) == ["C011"]
    assert problems[0].severity is Severity.WARNING
    assert problems[0].position is not None and problems[0].position.line == 10


def test_duplicate_operation_ids_and_missing_messages() -> None:
    _, out, problems = _convert(
        HEAD
        + """\
    channels:
      a: {publish: {operationId: go, message: {payload: {type: string}}}}
      b:
        publish: {operationId: go, message: {payload: {type: string}}}
        subscribe: {summary: no message}
    """
    )
    assert list(out["operations"]) == ["go", "go_2", "subscribe_b"]
    assert out["operations"]["subscribe_b"]["messages"] == []  # not "all messages"
    assert _codes(problems) == ["C032", "C030"]


# -- parameters, servers, security ------------------------------------------------------------


def test_parameters_lose_their_schema() -> None:
    doc, out, problems = _convert(
        HEAD
        + """\
    channels:
      /rooms/{room}/{level}/{id}:
        parameters:
          room: {$ref: '#/components/parameters/room'}
          level:
            description: the level
            location: $message.payload#/level
            schema: {type: integer, enum: [1, 2], default: 1, minimum: 1}
          id:
            schema: {type: string, pattern: '^[a-z]+$', examples: [abc], description: from schema}
        subscribe: {message: {payload: {type: string}}}
      /other/{room}:
        parameters:
          room: {$ref: '#/components/parameters/room'}
        subscribe: {message: {payload: {type: string}}}
    components:
      parameters:
        room:
          description: The room.
          schema: {type: string, enum: [lobby, games], default: lobby}
    """
    )
    params = out["channels"]["rooms_room_level_id"]["parameters"]
    room = doc.resolved["components"]["parameters"]["room"]
    assert params["room"] is room is out["channels"]["other_room"]["parameters"]["room"]
    assert room == {"description": "The room.", "enum": ["lobby", "games"], "default": "lobby"}
    assert params["level"] == {
        "description": "the level",
        "location": "$message.payload#/level",
        "enum": ["1", "2"],  # 3.0 parameters are strings
        "default": "1",
    }
    assert params["id"] == {"examples": ["abc"], "description": "from schema"}
    assert _codes(problems) == ["C040", "C040"]
    assert 'type: "integer", minimum: 1' in problems[0].message
    assert "pattern" in problems[1].message
    assert problems[0].pointer == "/channels/~1rooms~1{room}~1{level}~1{id}/parameters/level/schema"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ws://example.com/ws", ("ws", "example.com", "/ws")),
        (
            "wss://api.example.com:{port}/v1/{stage}",
            ("wss", "api.example.com:{port}", "/v1/{stage}"),
        ),
        ("api.example.com:{port}", (None, "api.example.com:{port}", None)),
        ("localhost", (None, "localhost", None)),
        ("{host}:{port}/", (None, "{host}:{port}", "/")),
        ("/relative", (None, "", "/relative")),
    ],
)
def test_split_server_url(url: str, expected: tuple[str | None, str, str | None]) -> None:
    assert split_server_url(url) == expected


def test_servers_url_split_and_security() -> None:
    doc, out, problems = _convert(
        HEAD
        + """\
    servers:
      prod:
        url: wss://chat.example.com:{port}/ws
        protocol: wss
        variables: {port: {default: '443'}}
        security:
          - oauth: [chat:write]
          - key: []
          - key: []
            oauth: []
          - unknown: []
          - key: [not-a-scope]
      dev:
        url: ws://localhost:8000
      rel:
        url: /ws
        protocol: ws
    channels:
      chat:
        servers: [prod, dev, nope]
        subscribe:
          message: {payload: {type: string}}
          security:
            - oauth: [chat:write]
    components:
      securitySchemes:
        key: {type: apiKey, in: user}
        oauth:
          type: oauth2
          flows:
            implicit:
              authorizationUrl: https://example.com/auth
              scopes: {chat:write: write, chat:read: read}
    """
    )
    servers = out["servers"]
    prod = servers["prod"]
    assert prod is doc.resolved["servers"]["prod"]  # converted in place
    assert list(prod)[:4] == ["host", "pathname", "protocol", "variables"]
    assert (prod["host"], prod["pathname"], prod["protocol"]) == (
        "chat.example.com:{port}",
        "/ws",
        "wss",
    )
    assert "url" not in prod
    assert servers["dev"] == {"host": "localhost:8000", "protocol": "ws"}  # from the scheme
    schemes = out["components"]["securitySchemes"]
    oauth = schemes["oauth"]
    assert oauth["flows"]["implicit"]["availableScopes"] == {
        "chat:write": "write",
        "chat:read": "read",
    }
    assert "scopes" not in oauth["flows"]["implicit"]
    scoped, key = prod["security"][0], prod["security"][1]
    assert scoped["scopes"] == ["chat:write"] and scoped["flows"] is oauth["flows"]
    assert key is schemes["key"] and oauth in prod["security"]
    assert len(prod["security"]) == 3  # duplicates collapse; unknown dropped
    op_security = out["operations"]["subscribe_chat"]["security"]
    assert op_security[0] is scoped  # the same scoped requirement is one object
    channel = out["channels"]["chat"]
    assert channel["servers"] == [prod, servers["dev"]] and channel["servers"][0] is prod
    assert sorted(_codes(problems)) == ["C020", "C051", "C060", "C061", "C062"]
    c051 = next(p for p in problems if p.code == "C051")
    assert c051.position is not None and c051.position.line == 18  # the url


# -- traits, identity, cycles -----------------------------------------------------------------


def test_traits_v2_precedence_applied_before_conversion() -> None:
    _, out, _ = _convert(
        HEAD
        + """\
    channels:
      chat:
        publish:
          summary: own
          traits: [{summary: trait, operationId: fromTrait}]
          message: {$ref: '#/components/messages/m'}
    components:
      messages:
        m:
          name: own
          payload: {type: object}
          traits: [{$ref: '#/components/messageTraits/t'}]
      messageTraits:
        t: {name: fromTrait, messageId: traitId, description: trait}
    """
    )
    op = out["operations"]["fromTrait"]  # the trait's operationId won
    assert op["summary"] == "trait" and "traits" not in op
    channel = out["channels"]["chat"]
    assert list(channel["messages"]) == ["fromTrait"]
    msg = channel["messages"]["fromTrait"]
    assert msg["name"] == "fromTrait" and msg["description"] == "trait"
    assert "traits" not in msg and "messageId" not in msg  # applied, then dropped
    trait = out["components"]["messageTraits"]["t"]
    assert "messageId" not in trait  # 3.0 message traits have no messageId


def test_v3_documents_are_returned_unchanged_and_keep_3_0_precedence() -> None:
    doc = _load(
        """\
        asyncapi: 3.0.0
        info: {title: t, version: '1'}
        channels:
          c:
            address: c
            messages:
              m: {summary: own, traits: [{summary: trait, title: trait}]}
        """
    )
    out, problems = convert_to_v3(doc)
    assert out is doc.resolved and problems == []
    assert convert_document(doc) is doc
    apply_traits(out, doc.version)
    assert out["channels"]["c"]["messages"]["m"]["summary"] == "own"
    assert out["channels"]["c"]["messages"]["m"]["title"] == "trait"
    doc31 = _load("asyncapi: 3.1.0\ninfo: {title: t, version: '1'}\n")
    assert convert_to_v3(doc31) == (doc31.resolved, [])


def test_component_message_from_two_channels_is_one_object() -> None:
    doc, out, _ = _convert(
        HEAD
        + """\
    channels:
      a: {subscribe: {message: {$ref: '#/components/messages/news'}}}
      b:
        publish: {message: {$ref: '#/components/messages/news'}}
        subscribe: {message: {$ref: '#/components/messages/news'}}
    components:
      schemas:
        news: {type: object, properties: {text: {type: string}}}
      messages:
        news:
          payload: {$ref: '#/components/schemas/news'}
    """
    )
    news = doc.resolved["components"]["messages"]["news"]
    assert out["channels"]["a"]["messages"]["news"] is news
    assert out["channels"]["b"]["messages"] == {"news": news}
    assert out["channels"]["b"]["messages"]["news"] is news
    assert out["operations"]["publish_b"]["messages"][0] is news
    assert out["operations"]["subscribe_b"]["messages"][0] is news
    assert news["payload"] is out["components"]["schemas"]["news"]
    assert doc.source.position_of(news) is not None  # positions survive by identity


def test_cycles_do_not_hang() -> None:
    doc, out, problems = _convert(
        HEAD
        + """\
    channels:
      tree:
        publish:
          message:
            payload:
              type: object
              properties:
                self: {$ref: '#/channels/tree/publish/message/payload'}
                node: {$ref: '#/components/schemas/node'}
    components:
      schemas:
        node:
          type: object
          properties:
            children: {type: array, items: {$ref: '#/components/schemas/node'}}
    """
    )
    payload = out["channels"]["tree"]["messages"]["publish_message"]["payload"]
    assert payload["properties"]["self"] is payload
    bundled = bundle_v3(out)
    json.dumps(bundled)  # no cycles left
    msg = bundled["channels"]["tree"]["messages"]["publish_message"]
    assert msg["payload"]["properties"]["self"] == {
        "$ref": "#/channels/tree/messages/publish_message/payload"
    }
    assert msg["payload"]["properties"]["node"] == {"$ref": "#/components/schemas/node"}
    node = bundled["components"]["schemas"]["node"]
    assert node["properties"]["children"]["items"] == {"$ref": "#/components/schemas/node"}


def test_bundle_is_not_limited_by_nesting_depth() -> None:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(5000):
        node = {"type": "object", "properties": {"x": node}}
    doc: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "channels": {"c": {"address": "c", "messages": {"m": {}}}},
    }
    doc["channels"]["c"]["messages"]["m"]["payload"] = node
    out = bundle_v3(doc)
    depth, cur = 0, out["channels"]["c"]["messages"]["m"]["payload"]
    while "properties" in cur:
        cur, depth = cur["properties"]["x"], depth + 1
    assert depth == 5000 and cur == {"type": "string"}


def test_schema_format_becomes_a_multi_format_schema() -> None:
    _, out, _ = _convert(
        HEAD
        + """\
    channels:
      a:
        subscribe:
          message:
            oneOf:
              - schemaFormat: application/vnd.apache.avro;version=1.9.0
                payload: {type: record, name: User, fields: [{name: id, type: string}]}
              - schemaFormat: application/vnd.aai.asyncapi+json;version=2.6.0
                payload: {type: string}
    """
    )
    first, second = out["channels"]["a"]["messages"].values()
    assert first["payload"]["schemaFormat"] == "application/vnd.apache.avro;version=1.9.0"
    assert first["payload"]["schema"]["type"] == "record"
    assert "schemaFormat" not in first
    assert second["payload"] == {"type": "string"}  # AsyncAPI/JSON Schema: no wrapper needed


def test_root_fields_and_components() -> None:
    doc, out, _ = _convert(
        """\
    asyncapi: 2.3.0
    id: urn:chat
    info: {title: Chat, version: '1.0.0'}
    defaultContentType: application/json
    tags: [{name: chat}]
    externalDocs: {url: https://example.com}
    x-owner: team
    channels:
      /used:
        $ref: '#/components/channels/shared'
    components:
      channels:
        shared:
          subscribe: {operationId: push, message: {payload: {type: string}}}
        spare:
          publish: {message: {payload: {type: string}}}
      correlationIds:
        cid: {location: $message.header#/id}
    """
    )
    assert list(out)[:4] == ["asyncapi", "id", "info", "defaultContentType"]
    assert out["id"] == "urn:chat" and out["x-owner"] == "team"
    assert "tags" not in out and "externalDocs" not in out
    assert out["info"]["tags"] == [{"name": "chat"}]
    assert out["info"]["externalDocs"] == {"url": "https://example.com"}
    comps = out["components"]
    assert comps["channels"]["shared"] is out["channels"]["used"]  # the root use
    assert "address" not in comps["channels"]["spare"]  # unused: address unknown
    assert list(out["operations"]) == ["push"]
    assert list(comps["operations"]) == ["publish_spare"]
    assert comps["operations"]["publish_spare"]["channel"] is comps["channels"]["spare"]
    assert comps["correlationIds"] is doc.resolved["components"]["correlationIds"]
    bundled = bundle_v3(out)
    assert bundled["components"]["channels"]["shared"] == {"$ref": "#/channels/used"}
    assert bundled["components"]["operations"]["publish_spare"]["channel"] == {
        "$ref": "#/components/channels/spare"
    }


# -- problems, repeat calls, the 3.0 document for the pipeline --------------------------------


def test_problem_codes_documented_and_located() -> None:
    assert all(code.startswith("C0") and title for code, title in CONVERT_CODES.items())
    doc = _load("asyncapi: 1.2.0\ninfo: {title: t, version: '1'}\n")
    out, problems = convert_to_v3(doc)
    assert out is doc.resolved and _codes(problems) == ["C001"]
    assert problems[0].severity is Severity.ERROR and problems[0].position is not None
    assert set(_codes(problems)) <= set(CONVERT_CODES)


def test_problem_table_in_docs_is_current() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "asyncapi-2-conversion.md").read_text(
        encoding="utf-8"
    )
    for code in CONVERT_CODES:
        assert f"| {code} |" in page, code


def test_second_call_returns_the_same_conversion() -> None:
    doc = _load(
        HEAD
        + """\
    servers: {s: {url: 'ws://h/p', protocol: ws}}
    channels:
      a: {subscribe: {message: {messageId: hello, payload: {type: string}}}}
    """
    )
    first = convert_to_v3(doc)
    second = convert_to_v3(doc)
    assert second[0] is first[0] and second[1] == first[1]
    assert list(first[0]["channels"]["a"]["messages"]) == ["hello"]


def test_convert_document_gives_a_positioned_3_0_document() -> None:
    doc = _load(
        HEAD
        + """\
    channels:
      /chat:
        publish:
          operationId: say
          message: {$ref: '#/components/messages/said'}
    components:
      schemas:
        said: {type: object, properties: {text: {type: string}}}
      messages:
        said: {payload: {$ref: '#/components/schemas/said'}}
    """
    )
    v3 = convert_document(doc)
    assert v3.version == "3.0.0" and v3.problems == []
    assert v3.resolved["operations"]["say"]["channel"] is v3.resolved["channels"]["chat"]
    raw = v3.raw
    assert raw["operations"]["say"]["messages"] == [{"$ref": "#/channels/chat/messages/said"}]
    assert raw["components"]["messages"]["said"]["payload"] == {"$ref": "#/components/schemas/said"}
    # pointers into the 3.0 document land on the 2.x text
    pos = v3.position_at("/operations/say")
    assert pos is not None and pos.line == 6
    pos = v3.position_at("/channels/chat/address")
    assert pos is not None and pos.line == 5
    pos = v3.position_at("/components/schemas/said/properties/text")
    assert pos is not None and pos.line == 10


def test_converted_document_normalises() -> None:
    from chanspec.codegen.normalise import normalise

    doc = _load(
        HEAD
        + """\
    servers:
      local: {url: 'ws://localhost:8000', protocol: ws}
    channels:
      /ws/chat/{room}:
        parameters:
          room: {schema: {type: string}}
        publish:
          operationId: sendMessage
          message:
            name: say
            payload:
              type: object
              required: [action]
              properties: {action: {const: say}, text: {type: string}}
        subscribe:
          message:
            name: said
            payload:
              type: object
              properties: {action: {const: said}, text: {type: string}}
    """
    )
    model, problems = normalise(convert_document(doc))
    assert model is not None, [p.format() for p in problems]
    assert not [p for p in problems if p.severity is Severity.ERROR]
    (channel,) = model.channels
    assert channel.route == "/ws/chat/{room}" and channel.parameters == ("room",)


# -- corpus -----------------------------------------------------------------------------------


def _canon(value: Any) -> str:
    """JSON text of ``value`` with back edges of cycles written as "<cycle>"."""

    def cut(node: Any, stack: frozenset[int]) -> Any:
        if isinstance(node, dict | list):
            if id(node) in stack:
                return "<cycle>"
            inner = stack | {id(node)}
            if isinstance(node, dict):
                return {str(k): cut(v, inner) for k, v in node.items()}
            return [cut(v, inner) for v in node]
        return node

    return json.dumps(cut(value, frozenset()), sort_keys=True)


def _summary(resolved: dict[str, Any], official: bool) -> tuple[dict[Any, set[str]], Any]:
    """Per channel address, the set of its message payloads; and the operations' actions."""
    comps = resolved.get("components") or {}
    component_channels = {id(c) for c in (comps.get("channels") or {}).values()}
    channels: dict[Any, set[str]] = {}
    for key, channel in (resolved.get("channels") or {}).items():
        if not isinstance(channel, dict) or "$ref" in channel:
            continue
        address = channel.get("address")
        if official and id(channel) in component_channels:
            address = key  # converter-js writes the component's name as the address
        messages = (channel.get("messages") or {}).values()
        channels[address] = {_canon(m.get("payload")) for m in messages if isinstance(m, dict)}
    actions = collections.Counter(
        op.get("action") for op in (resolved.get("operations") or {}).values()
    )
    return channels, actions


def _pairs() -> list[tuple[Path, Path]]:
    if not CONVERTER.is_dir():
        return []
    pairs = []
    for source in sorted((CONVERTER / "input" / "2.6.0").glob("for-3.0.0*.yml")):
        suffix = source.name.removeprefix("for-3.0.0")
        expected = CONVERTER / "output" / "3.0.0" / f"from-2.6.0{suffix}"
        if expected.is_file():
            pairs.append((source, expected))
    return pairs


# The official fixture for this input holds only channels and components (its test
# checks parameters), not the operation that the input's `publish` makes.
OFFICIAL_WITHOUT_OPERATIONS = {"for-3.0.0-with-mixed-parameters.yml"}


@needs_corpus
@pytest.mark.parametrize("pair", _pairs(), ids=lambda p: p[0].name)
def test_matches_the_official_converter(pair: tuple[Path, Path]) -> None:
    source, expected = pair
    mine, _ = convert_to_v3(load_document(source))
    official = load_document(expected)
    my_channels, my_actions = _summary(mine, official=False)
    their_channels, their_actions = _summary(official.resolved, official=True)
    assert my_channels == their_channels
    if source.name in OFFICIAL_WITHOUT_OPERATIONS:
        assert their_actions == {} and my_actions == {"receive": 1}
    else:
        assert my_actions == their_actions


def test_pairs_are_found_when_the_corpus_is_there() -> None:
    if not CONVERTER.is_dir():
        pytest.skip("shared corpus absent (../shared/corpus)")
    assert len(_pairs()) == 6


def _manifest_2x() -> list[dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [r for r in rows if r["asyncapi_version"].startswith("2.")]


def _schema_passes(notes: str) -> bool:
    return "schema:PASS" in notes or "deref=PASS" in notes


def _without_bindings(doc: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Remove protocol bindings (in place) from the places 3.0 allows them; how many."""

    def objects(mapping: Any) -> list[dict[str, Any]]:
        values = mapping.values() if isinstance(mapping, dict) else []
        return [v for v in values if isinstance(v, dict)]

    comps = doc.get("components") or {}
    channels = objects(doc.get("channels")) + objects(comps.get("channels"))
    holders = objects(doc.get("servers")) + objects(doc.get("operations")) + channels
    holders += [m for c in channels for m in objects(c.get("messages"))]
    for section in ("servers", "operations", "messages", "messageTraits", "operationTraits"):
        holders += objects(comps.get(section))
    removed = sum(1 for h in holders if h.pop("bindings", None) is not None)
    for section in ("serverBindings", "channelBindings", "operationBindings", "messageBindings"):
        removed += 1 if comps.pop(section, None) is not None else 0
    return doc, removed


@needs_corpus
def test_every_2x_corpus_document_converts_and_validates() -> None:
    validator = _validator()
    rows = _manifest_2x()
    assert len(rows) >= 50
    converted = valid = needed_binding_strip = circular = 0
    failures: list[str] = []
    for row in rows:
        doc = load_document(CORPUS / row["local_path"])
        resolved, problems = convert_to_v3(doc)  # must not raise
        assert resolved.get("asyncapi") == "3.0.0", row["local_path"]
        assert all(p.code in CONVERT_CODES for p in problems)
        assert not [p for p in problems if p.severity is Severity.ERROR], row["local_path"]
        converted += 1
        bundled = bundle_v3(resolved)
        json.dumps(bundled)
        circular += "circular_ref" in row["notes"]
        if not _schema_passes(row["notes"]):
            continue
        if not list(validator.iter_errors(bundled)):
            valid += 1
            continue
        # 2.x protocol bindings are carried over verbatim; the 3.0.0 schema only knows
        # newer binding versions, so those documents are checked without bindings.
        stripped, removed = _without_bindings(bundled)
        errors = list(validator.iter_errors(stripped))
        if errors or not removed:
            failures.append(f"{row['local_path']}: {errors[0].message[:200] if errors else ''}")
        else:
            needed_binding_strip += 1
    print(
        f"\n2.x corpus: {converted}/{len(rows)} converted; of the "
        f"{sum(_schema_passes(r['notes']) for r in rows)} schema:PASS documents {valid} validate "
        f"against the 3.0.0 schema as converted and {needed_binding_strip} once their "
        f"2.x protocol bindings are set aside; {circular} have circular refs (validated with "
        "cycles written as $ref)"
    )
    assert failures == []
    assert converted == len(rows)
