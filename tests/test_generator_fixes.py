"""Schema features that used to be lost between the spec, the generated models and the emitted
document: nullable optionals, uniqueItems, oneOf, discriminators, inline schema names, receive
operations without messages, formats pydantic has no type for.

Each test generates a real app from a small spec, imports it and checks the generated model
source, the emitted AsyncAPI document and the round trip (spec vs emitted: no finding).
"""

from __future__ import annotations

import ast
import copy
import importlib
import json
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chanspec.codegen.diff_rules import classify_documents
from chanspec.codegen.load import load_text
from chanspec.codegen.pipeline import analyse, generate
from chanspec.codegen.spec import load_spec
from chanspec.runtime.app import document_of
from chanspec.runtime.asyncapi import dump_json

HEAD = """\
asyncapi: 3.0.0
info: {title: fixes, version: '1'}
"""


class App:
    """A generated, imported app: its model source, its module and its emitted document."""

    def __init__(self, root: Path, package: str, spec: Path) -> None:
        self.spec = spec
        self.models = (root / package / "generated" / "messages.py").read_text()
        self.messages = importlib.import_module(f"{package}.generated.messages")
        main = importlib.import_module(f"{package}.main")
        self.document: dict[str, Any] = json.loads(dump_json(document_of(main.app)))

    def payload(self, channel: str, key: str) -> dict[str, Any]:
        schema: dict[str, Any] = self.document["channels"][channel]["messages"][key]["payload"]
        return schema

    def findings(self) -> list[str]:
        """Every difference between the spec and the emitted document, as ``rule pointer``."""
        emitted = load_text(json.dumps(self.document), "app")
        found = classify_documents(load_spec(self.spec).resolved, emitted.resolved)
        return [f"{f.rule.id} {f.difference.pointer}" for f in found]


@pytest.fixture
def build(tmp_path: Path) -> Iterator[Any]:
    """``build(yaml_text) -> App``: generate into a fresh package and import it."""
    sys.path.insert(0, str(tmp_path))
    made: list[str] = []

    def _build(text: str) -> App:
        package = f"fixes_{tmp_path.name.replace('-', '_')}_{len(made)}"
        made.append(package)
        spec = tmp_path / f"{package}.yaml"
        spec.write_text(HEAD + textwrap.dedent(text), encoding="utf-8")
        result = generate(spec, tmp_path / package, package=package)
        assert not result.failed, [p.format() for p in result.problems]
        return App(tmp_path, package, spec)

    yield _build
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.split(".")[0] in made]:
        del sys.modules[name]


def one_message(properties: str, required: str = "[type]") -> str:
    """A channel ``feed`` receiving one message ``post`` with the given payload properties."""
    body = textwrap.indent(textwrap.dedent(properties), " " * 12)
    return (
        textwrap.dedent(
            f"""\
            channels:
              feed:
                address: /ws/feed
                messages:
                  post:
                    payload:
                      type: object
                      required: {required}
                      properties:
                        type: {{type: string, const: post}}
            """
        )
        + body
        + textwrap.dedent(
            """\
            operations:
              feed_post:
                action: receive
                channel: {$ref: '#/channels/feed'}
                messages: [{$ref: '#/channels/feed/messages/post'}]
            """
        )
    )


def test_optional_nullable_property_keeps_null(build: Any) -> None:
    app = build(
        one_message(
            """\
            note: {type: [string, 'null']}
            nick: {type: string, nullable: true}
            either: {anyOf: [{type: integer}, {type: 'null'}]}
            plain: {type: string}
            kept: {type: [string, 'null'], maxLength: 3}
            """,
            required="[type, kept]",
        )
    )
    assert 'note: Annotated[str | None, Field(json_schema_extra={"nullable": True})]' in (
        app.models
    )
    props = app.payload("feed", "post")["properties"]
    for name in ("note", "nick"):
        assert props[name] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert props["either"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert props["plain"] == {"type": "string"}  # optional, not nullable: absent, never null
    assert props["kept"] == {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]}
    post = app.messages.FeedPostMessage.model_validate({"type": "post", "kept": None})
    assert post.note is None
    assert app.findings() == []


def test_unique_items_survives(build: Any) -> None:
    app = build(
        one_message(
            """\
            tags: {type: array, items: {type: string}, uniqueItems: true}
            ids: {type: [array, 'null'], items: {type: integer}, uniqueItems: true}
            loose: {type: array, items: {type: string}}
            """,
            required="[type, ids]",
        )
    )
    assert 'Field(json_schema_extra={"uniqueItems": True})' in app.models
    props = app.payload("feed", "post")["properties"]
    assert props["tags"] == {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    assert props["ids"]["anyOf"][0]["uniqueItems"] is True
    assert "uniqueItems" not in props["loose"]
    assert app.findings() == []


def test_one_of_survives_and_any_of_stays_any_of(build: Any) -> None:
    app = build(
        one_message(
            """\
            exactly:
              oneOf: [{type: string}, {type: integer}]
            either:
              anyOf: [{type: string}, {type: integer}]
            maybe:
              oneOf: [{type: string}, {type: integer}, {type: 'null'}]
            """
        )
    )
    assert '"x-chanspec-union": "oneOf"' in app.models
    props = app.payload("feed", "post")["properties"]
    assert props["exactly"] == {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    assert props["either"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert "x-chanspec-union" not in json.dumps(app.document)
    assert app.findings() == []


PETS = """\
channels:
  pets:
    address: /ws/pets
    messages:
      adopt:
        payload:
          type: object
          required: [type, pet]
          properties:
            type: {type: string, const: adopt}
            pet: {$ref: '#/components/schemas/Pet'}
            maybe: {$ref: '#/components/schemas/Pet'}
operations:
  pets_adopt:
    action: receive
    channel: {$ref: '#/channels/pets'}
    messages: [{$ref: '#/channels/pets/messages/adopt'}]
components:
  schemas:
    Pet:
      discriminator: petType
      oneOf:
        - $ref: '#/components/schemas/Cat'
        - $ref: '#/components/schemas/Dog'
    Cat:
      type: object
      required: [petType]
      properties:
        petType: {type: string, const: cat}
        lives: {type: integer}
    Dog:
      type: object
      required: [petType]
      properties:
        petType: {type: string, const: dog}
        bark: {type: boolean}
"""


def test_discriminator_is_emitted_as_the_spec_writes_it(build: Any) -> None:
    app = build(PETS)
    assert 'Field(discriminator="petType")' in app.models
    pet = app.payload("pets", "adopt")["properties"]["pet"]
    assert pet["discriminator"] == "petType"
    assert [m["properties"]["petType"]["const"] for m in pet["oneOf"]] == ["cat", "dog"]
    assert "#/$defs" not in json.dumps(app.document)
    adopt = app.messages.PetsAdoptMessage.model_validate({"pet": {"petType": "dog", "bark": True}})
    assert type(adopt.pet).__name__ == "Dog"
    assert app.findings() == []


NESTED = """\
channels:
  feed:
    address: /ws/feed
    messages:
{extra}      post:
        payload:
          type: object
          properties:
            type: {{type: string, const: post}}
            author:
              type: object
              description: who wrote it
              properties:
                name: {{type: string}}
                address:
                  type: object
                  properties: {{city: {{type: string}}}}
            tags:
              type: array
              items:
                type: object
                properties: {{label: {{type: string}}}}
            scores:
              type: object
              additionalProperties:
                type: object
                properties: {{value: {{type: number}}}}
            shape:
              oneOf:
                - {{type: object, properties: {{kind: {{const: circle}}, r: {{type: number}}}}}}
                - {{type: object, properties: {{kind: {{const: square}}, side: {{type: number}}}}}}
            mood: {{type: string, enum: [happy, sad]}}
            place:
              title: Venue
              type: object
              properties: {{room: {{type: string}}}}
operations:
  feed_post:
    action: receive
    channel: {{$ref: '#/channels/feed'}}
    messages: [{{$ref: '#/channels/feed/messages/post'}}]
"""

UNRELATED = """\
      hello:
        payload:
          type: object
          properties:
            type: {type: string, const: hello}
            author:
              type: object
              properties: {name: {type: string}}
            tags:
              type: array
              items: {type: object, properties: {label: {type: string}}}
"""

STABLE_NAMES = [
    "FeedPostAuthor",
    "FeedPostAuthorAddress",
    "FeedPostMessage",
    "FeedPostMood",
    "FeedPostScoresValue",
    "FeedPostShapeCircle",
    "FeedPostShapeSquare",
    "FeedPostTagsItem",
    "Venue",
]


def shape(cls: Any) -> list[str]:
    """Field names of a model class, member names of an enum."""
    return list(cls.model_fields if hasattr(cls, "model_fields") else cls.__members__)


def test_inline_schemas_have_stable_names_from_where_they_stand(build: Any) -> None:
    first = build(NESTED.format(extra=""))
    assert sorted(first.messages.__all__) == STABLE_NAMES
    assert not re.search(r"class \w*\d\(", first.models)  # no Payload1, Author1 ...
    assert first.findings() == []
    # an unrelated message with the same property names, declared *before* the first one
    second = build(NESTED.format(extra=UNRELATED))
    assert set(STABLE_NAMES) <= set(second.messages.__all__)
    assert {"FeedHelloAuthor", "FeedHelloTagsItem"} <= set(second.messages.__all__)
    for name in STABLE_NAMES:  # same name, same fields (or members)
        assert shape(getattr(first.messages, name)) == shape(getattr(second.messages, name))
    assert second.findings() == []


def test_receive_operation_without_messages_is_emitted(build: Any) -> None:
    nothing = """\
      feed_nothing:
        action: receive
        summary: listens to nothing yet
        channel: {$ref: '#/channels/feed'}
        messages: []
    """
    app = build(one_message("") + textwrap.indent(textwrap.dedent(nothing), "  "))
    op = app.document["operations"]["feed_nothing"]
    assert op == {
        "summary": "listens to nothing yet",
        "action": "receive",
        "channel": {"$ref": "#/channels/feed"},
        "messages": [],
    }
    assert app.findings() == []


def test_formats_pydantic_has_no_type_for_survive(build: Any) -> None:
    app = build(
        one_message(
            """\
            link: {type: string, format: iri-reference}
            count: {type: integer, format: int64}
            blob: {type: string, format: byte}
            secret: {type: string, format: password}
            id: {type: string, format: uuid}
            when: {type: [string, 'null'], format: date-time}
            host: {type: string, format: idn-email}
            """,
            required="[type, link, when]",
        )
    )
    props = app.payload("feed", "post")["properties"]
    assert props["link"] == {"type": "string", "format": "iri-reference"}
    assert props["count"] == {"type": "integer", "format": "int64"}
    assert props["blob"]["format"] == "byte"
    assert props["secret"] == {"type": "string", "format": "password"}
    assert props["when"] == {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}
    assert props["host"]["format"] == "idn-email"
    # formats pydantic shows itself are not repeated in the model
    assert "id: UUID | None = None" in app.models
    # a password is a plain string on the wire (a SecretStr would be sent as "**********")
    post = app.messages.FeedPostMessage(link="a", when=None, secret="s3cret")
    assert json.loads(post.model_dump_json())["secret"] == "s3cret"
    assert app.findings() == []


# ---- equivalent spellings the diff treats as equal (codegen/diff.py) ---------------------------


def test_all_of_parts_equal_the_merged_schema() -> None:
    from .test_diff import payload_diffs

    described = {"allOf": [{"type": "string"}, {"description": "the id"}]}
    assert payload_diffs(described, {"type": "string", "description": "the id"}) == []
    parts = {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"type": "object", "properties": {"b": {"type": "integer"}}, "required": ["b"]},
        ]
    }
    merged = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    }
    assert payload_diffs(parts, merged) == []
    # not the same: additionalProperties of one part forbids the other part's property
    closed = copy.deepcopy(parts)
    closed["allOf"][0]["additionalProperties"] = False
    assert payload_diffs(closed, {**merged, "additionalProperties": False}) != []
    # not the same: one property with two different schemas
    clash = {
        "allOf": [
            {"properties": {"a": {"type": "string"}}},
            {"properties": {"a": {"minLength": 1}}},
        ]
    }
    assert payload_diffs(clash, {"properties": {"a": {"type": "string"}}}) != []


def test_keywords_of_another_type_constrain_nothing() -> None:
    from .test_diff import payload_diffs

    assert (
        payload_diffs({"type": "string", "additionalProperties": False}, {"type": "string"}) == []
    )
    assert payload_diffs({"type": "integer", "uniqueItems": True}, {"type": "integer"}) == []
    assert payload_diffs({"type": "object", "uniqueItems": True}, {"type": "object"}) == []
    # on an object they do constrain
    closed = {"type": "object", "additionalProperties": False}
    assert payload_diffs(closed, {"type": "object"}) != []


# ---- more that models cannot say, carried to the emitted document ------------------------------


def test_all_of_with_a_description_keeps_it(build: Any) -> None:
    app = build(
        one_message(
            """\
            commentId:
              allOf:
                - {$ref: '#/components/schemas/Id'}
                - {description: the comment that was liked}
            """
        )
        + "components:\n  schemas:\n    Id: {type: string, minLength: 1}\n"
    )
    prop = app.payload("feed", "post")["properties"]["commentId"]
    assert prop == {"type": "string", "minLength": 1, "description": "the comment that was liked"}
    assert app.findings() == []


def test_union_payload_type_and_not_survive(build: Any) -> None:
    app = build(
        textwrap.dedent(
            """\
            channels:
              feed:
                address: /ws/feed
                messages:
                  either:
                    payload:
                      type: object
                      oneOf:
                        - {$ref: '#/components/schemas/A'}
                        - {$ref: '#/components/schemas/B'}
            operations:
              feed_either:
                action: receive
                channel: {$ref: '#/channels/feed'}
            components:
              schemas:
                A:
                  type: object
                  properties:
                    a: {type: string}
                    never: {not: {type: integer}}
                B: {type: object, properties: {b: {type: string}}}
            """
        )
    )
    payload = app.payload("feed", "either")
    assert payload["type"] == "object" and len(payload["oneOf"]) == 2
    assert payload["oneOf"][0]["properties"]["never"] == {"not": {"type": "integer"}}
    assert app.findings() == []


def test_optional_property_with_a_referenced_default_is_not_nullable(build: Any) -> None:
    app = build(
        one_message("depth: {$ref: '#/components/schemas/Depth'}\n")
        + "components:\n  schemas:\n    Depth: {type: integer, enum: [10, 25], default: 10}\n"
    )
    depth = app.payload("feed", "post")["properties"]["depth"]
    assert depth["enum"] == [10, 25] and depth["default"] == 10 and "anyOf" not in depth
    assert app.findings() == []


def test_discriminator_without_literal_members_imports_and_survives(build: Any) -> None:
    # the Java-polymorphism shape (springwolf, microcks): members inherit the property from
    # a base schema as a plain string, so pydantic cannot route on it
    app = build(
        PETS.replace("petType: {type: string, const: cat}", "petType: {type: string}").replace(
            "petType: {type: string, const: dog}", "petType: {type: string, x-origin: java}"
        )
    )
    assert 'Field(discriminator="petType")' not in app.models
    pet = app.payload("pets", "adopt")["properties"]["pet"]
    assert pet["discriminator"] == "petType" and len(pet["oneOf"]) == 2
    assert pet["oneOf"][1]["properties"]["petType"]["x-origin"] == "java"
    assert app.findings() == []


def test_schema_extensions_survive_and_are_not_rewritten(build: Any) -> None:
    app = build(
        one_message(
            """\
            count:
              type: integer
              format: int64
              x-java-type: long
              x-json-schema: {allOf: [{type: integer}, {format: int64}], properties: {a: {}}}
            """
        )
    )
    count = app.payload("feed", "post")["properties"]["count"]
    assert count["x-java-type"] == "long"
    assert count["x-json-schema"] == {
        "allOf": [{"type": "integer"}, {"format": "int64"}],
        "properties": {"a": {}},
    }
    assert app.findings() == []


def test_message_without_payload_is_emitted_without_one(build: Any) -> None:
    app = build(
        textwrap.dedent(
            """\
            channels:
              echo:
                address: /ws/echo
                messages:
                  echo: {summary: anything at all}
            operations:
              echo_send:
                action: send
                channel: {$ref: '#/channels/echo'}
            """
        )
    )
    assert app.document["channels"]["echo"]["messages"]["echo"] == {"summary": "anything at all"}
    assert app.findings() == []


def test_coerced_default_and_object_size_survive(build: Any) -> None:
    app = build(
        one_message(
            """\
            deprecated: {type: boolean, default: 'false'}
            retries: {type: integer, default: 'three'}
            labels: {type: object, additionalProperties: {type: string}, minProperties: 1}
            """
        ).replace("required: [type]", "required: [type]\n          maxProperties: 9")
    )
    post = app.messages.FeedPostMessage()
    assert post.deprecated is False and post.retries is None  # working model defaults
    props = app.payload("feed", "post")["properties"]
    assert props["deprecated"]["default"] == "false"  # the document says what the spec says
    assert props["retries"]["default"] == "three"
    assert props["labels"]["minProperties"] == 1
    assert app.payload("feed", "post")["maxProperties"] == 9
    assert app.findings() == []


def test_carried_values_and_titles_from_a_hostile_spec_stay_inert(build: Any) -> None:
    app = build(
        one_message(
            r"""
            odd:
              title: "Evil\"\"\"; import os  # {{ x }} {% y %}"
              type: object
              properties: {a: {type: string}}
            tagged:
              type: string
              format: "x\"\"\"\\n{{ y }}"
              x-note: "'''); __import__('os').system('false') #"
            """
        )
    )
    names = app.messages.__all__
    assert "EvilImportOsXY" in names  # the title, as an identifier
    tree = ast.parse(app.models)  # strings from the spec stay string literals
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
    }
    assert imported <= {"__future__", "typing", "chanspec.runtime", "pydantic", "enum"}
    assert not any(
        isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__"
        for node in ast.walk(tree)
    )
    props = app.payload("feed", "post")["properties"]
    assert props["tagged"]["format"] == 'x"""\\n{{ y }}'
    assert props["tagged"]["x-note"] == "'''); __import__('os').system('false') #"
    assert app.findings() == []


def test_model_built_by_all_of_keeps_the_description_all_of_gives_it(build: Any) -> None:
    app = build(
        textwrap.dedent(
            """\
            channels:
              feed:
                address: /ws/feed
                messages:
                  update: {payload: {$ref: '#/components/schemas/Update'}}
            operations:
              feed_update:
                action: send
                channel: {$ref: '#/channels/feed'}
            components:
              schemas:
                Base:
                  type: object
                  description: always part of the payload
                  required: [seq]
                  properties: {seq: {type: integer}}
                Update:
                  allOf:
                    - {properties: {type: {type: string, const: update}}, required: [type]}
                    - {$ref: '#/components/schemas/Base'}
            """
        )
    )
    assert "class Update(Base):" in app.models
    assert app.payload("feed", "update")["description"] == "always part of the payload"
    assert app.findings() == []


def test_payload_that_refers_to_itself_is_a_recursive_model(build: Any) -> None:
    app = build(
        textwrap.dedent(
            """\
            channels:
              tree:
                address: /ws/tree
                messages:
                  node:
                    payload:
                      type: object
                      properties:
                        label: {type: string}
                        child: {$ref: '#/channels/tree/messages/node/payload'}
            operations:
              tree_node:
                action: receive
                channel: {$ref: '#/channels/tree'}
            """
        )
    )
    assert "child: TreeNodeMessage | None = None" in app.models
    node = app.messages.TreeNodeMessage.model_validate({"child": {"child": {"label": "leaf"}}})
    assert node.child.child.label == "leaf"
    assert app.findings() == []


def test_a_model_keeping_extra_fields_is_emitted_without_additional_properties_true() -> None:
    from chanspec.runtime import Message
    from chanspec.runtime.asyncapi.schemas import payload_schema
    from pydantic import ConfigDict

    class Open(Message):
        model_config = ConfigDict(extra="allow")
        x: int | None = None

    assert payload_schema(Open) == {"type": "object", "properties": {"x": {"type": "integer"}}}


def test_constrained_array_items_have_stable_names_and_keep_their_format(build: Any) -> None:
    app = build(
        textwrap.dedent(
            """\
            channels:
              feed:
                address: /ws/feed
                messages:
                  post:
                    payload:
                      type: object
                      properties:
                        ids: {type: array, items: {type: integer, format: int64, minimum: 0}}
                  other:
                    payload:
                      type: object
                      properties:
                        ids: {type: array, items: {type: integer, minimum: 5}}
            operations:
              feed_post:
                action: receive
                channel: {$ref: '#/channels/feed'}
            """
        )
    )
    assert {"FeedPostIdsItem", "FeedOtherIdsItem"} <= set(app.messages.__all__)  # no Id, Id1
    ids = app.payload("feed", "post")["properties"]["ids"]
    assert ids["items"] == {"type": "integer", "format": "int64", "minimum": 0}
    assert app.findings() == []


def test_keywords_no_json_schema_knows_survive(build: Any) -> None:
    app = build(
        one_message(
            """\
            view:
              type: object
              schema: {$ref: '#/components/schemas/View'}
            x-odd: {type: string, test: true}
            """
        )
        + "components:\n  schemas:\n    View: {type: object, properties: {a: {type: string}}}\n"
    )
    props = app.payload("feed", "post")["properties"]
    assert props["view"]["schema"] == {"type": "object", "properties": {"a": {"type": "string"}}}
    assert props["x-odd"] == {"type": "string", "test": True}  # a property named x-...
    assert app.findings() == []


def test_required_name_without_a_property_is_required(build: Any) -> None:
    app = build(one_message("text: {type: string}\n", required="[type, person]"))
    model = app.messages.FeedPostMessage
    with pytest.raises(ValueError, match="person"):
        model.model_validate({"type": "post", "text": "hi"})
    assert model.model_validate({"type": "post", "person": {"any": 1}}).person == {"any": 1}
    schema = app.payload("feed", "post")
    assert "person" in schema["required"]
    assert app.findings() == []


def test_optional_reference_to_a_nullable_schema_keeps_null(build: Any) -> None:
    app = build(
        one_message(
            """\
            data: {oneOf: [{$ref: '#/components/schemas/Person'}]}
            """
        )
        + "components:\n  schemas:\n    Person:\n      type: [object, 'null']\n"
        + "      properties: {nom: {type: string}}\n"
    )
    assert app.messages.FeedPostMessage.model_validate({"type": "post", "data": None}).data is None
    data = app.payload("feed", "post")["properties"]["data"]
    assert {"type": "null"} in data["oneOf"]
    assert app.findings() == []


def test_tuple_items_are_documented_and_warned(build: Any, tmp_path: Path) -> None:
    text = one_message("pair: {type: array, items: [{type: string}, {type: integer}]}\n")
    app = build(text)
    assert app.payload("feed", "post")["properties"]["pair"]["items"] == [
        {"type": "string"},
        {"type": "integer"},
    ]
    # a list of anything: the item schemas are documented, not validated
    post = app.messages.FeedPostMessage.model_validate({"type": "post", "pair": [1, "a", None]})
    assert post.pair == [1, "a", None]
    assert app.findings() == []
    spec = tmp_path / "tuple.yaml"
    spec.write_text(HEAD + textwrap.dedent(text), encoding="utf-8")
    warned = [p for p in analyse(spec)[1] if p.code == "N054"]
    assert [p.pointer for p in warned] == [
        "/channels/feed/messages/post/payload/properties/pair/items"
    ]
    assert warned[0].position is not None and warned[0].position.line == 13


def test_parameter_the_address_does_not_use_is_kept_and_warned(build: Any, tmp_path: Path) -> None:
    text = one_message("").replace(
        "    address: /ws/feed\n",
        "    address: /ws/feed\n    parameters:\n      region: {description: unused}\n",
    )
    app = build(text)
    assert app.document["channels"]["feed"]["parameters"] == {"region": {"description": "unused"}}
    assert app.findings() == []
    spec = tmp_path / "params.yaml"
    spec.write_text(HEAD + textwrap.dedent(text), encoding="utf-8")
    assert [p.code for p in analyse(spec)[1]] == ["N043"]


def test_empty_property_and_nullable_one_of_spellings_are_equal() -> None:
    from .test_diff import payload_diffs

    required = {"type": "object", "required": ["b"], "properties": {"a": {"type": "string"}}}
    declared = copy.deepcopy(required)
    declared["properties"]["b"] = {}
    assert payload_diffs(required, declared) == []
    # with additionalProperties: false, declaring b is what allows it
    closed = {**required, "additionalProperties": False}
    assert payload_diffs(closed, {**declared, "additionalProperties": False}) != []
    nullable = {"anyOf": [{"type": "object"}, {"type": "null"}]}
    assert payload_diffs(nullable, {"oneOf": [{"type": "object"}, {"type": "null"}]}) == []
    # two members that may overlap: oneOf is not anyOf
    overlap = {"oneOf": [{"type": "object"}, {"minProperties": 1}, {"type": "null"}]}
    assert payload_diffs({"anyOf": overlap["oneOf"]}, overlap) != []


SHARED_BESIDE_ONE_OF = """\
channels:
  feed:
    address: /ws/feed
    messages:
      post:
        payload:
          type: object
          required: [type, event]
          properties:
            type: {const: post}
            event:
              type: object
              properties:
                kind: {type: string, description: the event's kind}
                ts: {type: string}
              required: [kind]
              oneOf:
                - {$ref: '#/components/schemas/Joined'}
                - {$ref: '#/components/schemas/Left'}
operations:
  feed_post:
    action: receive
    channel: {$ref: '#/channels/feed'}
    messages: [{$ref: '#/channels/feed/messages/post'}]
components:
  schemas:
    Joined:
      additionalProperties: false
      properties: {kind: {const: joined}, who: {type: string}}
    Left:
      properties: {kind: {const: left}, why: {type: string}}
"""


def test_properties_beside_one_of_are_distributed_exactly(build: Any) -> None:
    app = build(SHARED_BESIDE_ONE_OF)
    assert {"FeedPostEventJoined", "FeedPostEventLeft"} <= set(app.messages.__all__)
    assert not re.search(r"class \w*\d\(", app.models)
    model = app.messages.FeedPostMessage
    joined = model.model_validate({"type": "post", "event": {"kind": "joined", "who": "ann"}})
    assert joined.event.who == "ann"
    # Joined forbids what it does not define, the shared `ts` included (the spec says so)
    with pytest.raises(ValueError):
        model.model_validate({"type": "post", "event": {"kind": "joined", "ts": "1"}})
    left = model.model_validate({"type": "post", "event": {"kind": "left", "ts": "1"}})
    assert left.event.ts == "1"
    event = app.payload("feed", "post")["properties"]["event"]
    assert set(event) == {"oneOf"}
    assert [m["required"] for m in event["oneOf"]] == [["kind"], ["kind"]]  # shared required
    assert event["oneOf"][0]["properties"]["kind"] == {
        "const": "joined",
        "description": "the event's kind",
        "type": "string",
    }
    assert app.findings() == []


INHERITANCE = """\
channels:
  pets:
    address: /ws/pets
    messages:
      adopt:
        payload:
          type: object
          properties:
            pet: {$ref: '#/components/schemas/Pet'}
operations:
  pets_adopt:
    action: receive
    channel: {$ref: '#/channels/pets'}
    messages: [{$ref: '#/channels/pets/messages/adopt'}]
components:
  schemas:
    Pet:
      type: object
      discriminator: petType
      properties: {petType: {type: string}, name: {type: string}}
      required: [petType]
      oneOf: [{$ref: '#/components/schemas/Cat'}, {$ref: '#/components/schemas/Dog'}]
    Cat:
      examples: [{petType: Cat, name: Tom, lives: 9}]
      allOf:
        - {$ref: '#/components/schemas/Pet'}
        - {type: object, properties: {lives: {type: integer}}}
    Dog:
      allOf:
        - {$ref: '#/components/schemas/Pet'}
        - {type: object, properties: {bark: {type: boolean}}}
"""


def test_discriminator_inheritance_is_read_without_its_cycle(build: Any) -> None:
    app = build(INHERITANCE)
    assert {"PetCat", "PetDog", "Cat", "Dog"} <= set(app.messages.__all__)
    assert not re.search(r"class \w*\d\(", app.models)
    adopt = app.messages.PetsAdoptMessage.model_validate(
        {"pet": {"petType": "Cat", "name": "Tom", "lives": 9}}
    )
    assert type(adopt.pet).__name__ == "PetCat" and adopt.pet.lives == 9
    cat = app.payload("pets", "adopt")["properties"]["pet"]["oneOf"][0]
    assert set(cat["properties"]) == {"petType", "name", "lives"}
    assert cat["examples"] == [{"petType": "Cat", "name": "Tom", "lives": 9}]
    assert app.findings() == []


def test_keywords_of_another_type_are_dropped_with_a_warning(build: Any, tmp_path: Path) -> None:
    text = one_message(
        """\
        xml: {type: string, properties: {a: {type: integer}}, required: [a]}
        """
    )
    app = build(text)
    assert app.payload("feed", "post")["properties"]["xml"] == {"type": "string"}
    post = app.messages.FeedPostMessage.model_validate({"type": "post", "xml": "<a>1</a>"})
    assert post.xml == "<a>1</a>"
    assert app.findings() == []
    spec = tmp_path / "foreign.yaml"
    spec.write_text(HEAD + textwrap.dedent(text), encoding="utf-8")
    warned = [p.pointer for p in analyse(spec)[1] if p.code == "N055"]
    assert warned == [
        "/channels/feed/messages/post/payload/properties/xml/properties",
        "/channels/feed/messages/post/payload/properties/xml/required",
    ]


def test_annotated_primitive_items_and_enum_with_null_survive(build: Any) -> None:
    app = build(
        one_message(
            """\
            tags: {type: array, items: {type: string, description: a tag, examples: [red]}}
            level: {type: [string, 'null'], enum: [low, high, null]}
            """
        )
    )
    props = app.payload("feed", "post")["properties"]
    assert props["tags"]["items"] == {"type": "string", "description": "a tag", "examples": ["red"]}
    post = app.messages.FeedPostMessage.model_validate({"type": "post", "level": None})
    assert post.level is None
    assert app.findings() == []


def test_discriminator_of_a_union_payload_survives(build: Any) -> None:
    app = build(
        """\
        channels:
          pets:
            address: /ws/pets
            messages:
              pet: {payload: {$ref: '#/components/schemas/Pet'}}
        operations:
          pets_pet:
            action: send
            channel: {$ref: '#/channels/pets'}
            messages: [{$ref: '#/channels/pets/messages/pet'}]
        components:
          schemas:
            Pet:
              discriminator: petType
              oneOf:
                - {type: object, properties: {petType: {type: string}, lives: {type: integer}}}
                - {type: object, properties: {petType: {type: string}, bark: {type: boolean}}}
        """
    )
    assert app.payload("pets", "pet")["discriminator"] == "petType"
    assert app.findings() == []


def test_titled_and_one_value_enums_get_stable_names(build: Any) -> None:
    app = build(
        one_message(
            """\
            first: {title: Level, type: string, enum: [low, high]}
            second: {title: Level, type: string, enum: [low, high]}
            other: {title: Level, type: string, enum: [up, down]}
            role: {type: string, enum: [user]}
            meta:
              type: object
              properties: {role: {type: string, enum: [assistant]}}
            """
        )
    )
    assert not re.search(r"class \w*\d\(", app.models)
    names = set(app.messages.__all__)
    assert {"Level", "FeedPostOther", "FeedPostRole", "FeedPostMetaRole"} <= names
    post = app.messages.FeedPostMessage.model_validate({"type": "post", "first": "low"})
    assert type(post.first) is app.messages.Level
    assert app.findings() == []
