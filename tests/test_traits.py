"""Tests of trait merging: 2.x and 3.0 precedence, JSON Merge Patch, sharing, cycles."""

from __future__ import annotations

import copy
import textwrap
from typing import Any

import pytest
from chanspec.codegen import traits as traits_module
from chanspec.codegen.load import LoadedDocument, load_text
from chanspec.codegen.traits import apply_traits, merge_patch


def _load(src: str) -> LoadedDocument:
    doc = load_text(textwrap.dedent(src), "spec.yaml")
    assert doc.problems == []
    return doc


# -- RFC 7386 ---------------------------------------------------------------------------------

# RFC 7386, Appendix A "Example Test Cases": (original, patch, result)
RFC7386_CASES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "result"), RFC7386_CASES)
def test_merge_patch_rfc7386_examples(original: Any, patch: Any, result: Any) -> None:
    before, patch_before = copy.deepcopy(original), copy.deepcopy(patch)
    assert merge_patch(original, patch) == result
    assert original == before and patch == patch_before  # neither argument is mutated


def test_merge_patch_keeps_identity_of_unchanged_patch_objects() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    out = merge_patch({"x": 1}, {"headers": schema})
    assert out["headers"] is schema


def test_merge_patch_terminates_on_cycles() -> None:
    target: dict[str, Any] = {"name": "t"}
    target["self"] = target
    patch: dict[str, Any] = {"extra": 1}
    patch["self"] = patch
    out = merge_patch(target, patch)
    assert out["name"] == "t" and out["extra"] == 1
    assert out["self"] is out  # the merged structure is cyclic like its inputs


# -- precedence -------------------------------------------------------------------------------

V2_DOC = """\
    asyncapi: 2.6.0
    info: {title: t, version: '1'}
    channels:
      chat:
        publish:
          operationId: sendChat
          summary: from the operation
          bindings: {kafka: {groupId: own, clientId: own}}
          traits:
            - $ref: '#/components/operationTraits/common'
          message:
            $ref: '#/components/messages/chat'
    components:
      messages:
        chat:
          summary: from the message
          description: goes away
          tags: [{name: own}]
          headers: {type: object, properties: {a: {type: string}}}
          payload: {type: object}
          traits:
            - $ref: '#/components/messageTraits/first'
            - $ref: '#/components/messageTraits/second'
      operationTraits:
        common:
          summary: from the trait
          bindings: {kafka: {clientId: trait, bindingVersion: '0.4.0'}}
      messageTraits:
        first:
          summary: first trait
          contentType: application/json
          tags: [{name: trait}]
        second:
          summary: second trait
          description: null
          headers: {properties: {b: {type: integer}}}
"""


def test_v2_trait_values_win_with_merge_patch() -> None:
    doc = _load(V2_DOC)
    apply_traits(doc.resolved, doc.version)
    op = doc.resolved["channels"]["chat"]["publish"]
    assert op["summary"] == "from the trait"
    # nested objects merge member by member; the trait's value wins where both have one
    assert op["bindings"] == {
        "kafka": {"groupId": "own", "clientId": "trait", "bindingVersion": "0.4.0"}
    }
    msg = doc.resolved["components"]["messages"]["chat"]
    assert msg["summary"] == "second trait"  # traits in list order: the last one wins
    assert "description" not in msg  # a null in a trait removes the member
    assert msg["contentType"] == "application/json"
    assert msg["tags"] == [{"name": "trait"}]  # lists are replaced, not concatenated
    assert msg["headers"] == {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
    }
    assert isinstance(msg["traits"], list) and len(msg["traits"]) == 2  # traits key kept


V3_DOC = """\
    asyncapi: 3.0.0
    info: {title: t, version: '1'}
    channels:
      chat:
        address: /chat
        messages:
          chat: {$ref: '#/components/messages/chat'}
    operations:
      sendChat:
        action: send
        channel: {$ref: '#/channels/chat'}
        summary: from the operation
        bindings: {kafka: {groupId: own, clientId: own}}
        traits:
          - $ref: '#/components/operationTraits/common'
        messages:
          - $ref: '#/channels/chat/messages/chat'
    components:
      messages:
        chat:
          summary: from the message
          headers: {type: object, properties: {a: {type: string}}}
          payload: {type: object}
          traits:
            - $ref: '#/components/messageTraits/first'
            - $ref: '#/components/messageTraits/second'
      operationTraits:
        common:
          summary: from the trait
          description: only in the trait
          bindings: {kafka: {clientId: trait, bindingVersion: '0.4.0'}}
      messageTraits:
        first:
          summary: first trait
          title: first title
          contentType: application/json
        second:
          title: second title
          headers: {properties: {a: {type: integer}, b: {type: integer}}}
"""


def test_v3_object_values_win() -> None:
    doc = _load(V3_DOC)
    apply_traits(doc.resolved, doc.version)
    op = doc.resolved["operations"]["sendChat"]
    assert op["summary"] == "from the operation"  # the object's own value wins
    assert op["description"] == "only in the trait"  # missing members are filled in
    assert op["bindings"] == {
        "kafka": {"groupId": "own", "clientId": "own", "bindingVersion": "0.4.0"}
    }
    msg = doc.resolved["components"]["messages"]["chat"]
    assert msg["summary"] == "from the message"
    assert msg["title"] == "second title"  # among traits, list order: the later one wins
    assert msg["contentType"] == "application/json"
    assert msg["headers"]["properties"] == {"a": {"type": "string"}, "b": {"type": "integer"}}


def test_version_31_is_treated_like_30() -> None:
    doc = _load(V3_DOC.replace("asyncapi: 3.0.0", "asyncapi: 3.1.0"))
    apply_traits(doc.resolved, doc.version)
    assert doc.resolved["operations"]["sendChat"]["summary"] == "from the operation"


# -- sharing, cycles, robustness --------------------------------------------------------------


def test_shared_message_is_merged_once(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _load(
        """\
        asyncapi: 2.6.0
        info: {title: t, version: '1'}
        channels:
          a:
            publish: {message: {$ref: '#/components/messages/m'}}
            subscribe: {message: {oneOf: [{$ref: '#/components/messages/m'}]}}
          b:
            subscribe: {message: {$ref: '#/components/messages/m'}}
        components:
          messages:
            m:
              payload: {type: string}
              traits: [{$ref: '#/components/messageTraits/t'}]
          messageTraits:
            t: {bindings: {ws: {bindingVersion: '0.1.0'}}}
        """
    )
    calls: list[int] = []
    original = traits_module._Merger.apply_over

    def counting(self: Any, obj: dict[str, Any], trait: dict[str, Any]) -> None:
        calls.append(id(obj))
        original(self, obj, trait)

    monkeypatch.setattr(traits_module._Merger, "apply_over", counting)
    apply_traits(doc.resolved, doc.version)
    msg = doc.resolved["components"]["messages"]["m"]
    assert calls == [id(msg)]  # reached four times, merged once
    assert msg["bindings"] == {"ws": {"bindingVersion": "0.1.0"}}
    assert doc.resolved["channels"]["b"]["subscribe"]["message"] is msg


def test_nested_objects_shared_elsewhere_are_not_mutated() -> None:
    doc = _load(
        """\
        asyncapi: 2.6.0
        info: {title: t, version: '1'}
        channels:
          a:
            publish: {message: {$ref: '#/components/messages/withTrait'}}
            subscribe: {message: {$ref: '#/components/messages/plain'}}
        components:
          schemas:
            headers: {type: object, properties: {a: {type: string}}}
          messages:
            withTrait:
              headers: {$ref: '#/components/schemas/headers'}
              traits: [{headers: {properties: {b: {type: string}}}}]
            plain:
              headers: {$ref: '#/components/schemas/headers'}
        """
    )
    shared = doc.resolved["components"]["schemas"]["headers"]
    apply_traits(doc.resolved, doc.version)
    messages = doc.resolved["components"]["messages"]
    assert set(messages["withTrait"]["headers"]["properties"]) == {"a", "b"}
    assert set(shared["properties"]) == {"a"}  # copy on write: the component is untouched
    assert messages["plain"]["headers"] is shared


def test_cycles_terminate_and_keep_identity() -> None:
    doc = _load(
        """\
        asyncapi: 3.0.0
        info: {title: t, version: '1'}
        channels:
          c:
            address: c
            messages:
              m:
                payload: {$ref: '#/components/schemas/node'}
                traits: [{headers: {$ref: '#/components/schemas/node'}}]
        components:
          schemas:
            node:
              type: object
              properties:
                next: {$ref: '#/components/schemas/node'}
        """
    )
    apply_traits(doc.resolved, doc.version)
    msg = doc.resolved["channels"]["c"]["messages"]["m"]
    node = doc.resolved["components"]["schemas"]["node"]
    assert msg["headers"] is node and node["properties"]["next"] is node


def test_unresolved_and_list_form_traits() -> None:
    resolved: dict[str, Any] = {
        "operations": {
            "op": {
                "action": "send",
                "traits": [
                    {"$ref": "https://example.com/trait.yaml"},  # unresolved: skipped
                    [{"summary": "from list form"}, {"ignored": True}],
                    "not a trait",
                ],
            }
        }
    }
    apply_traits(resolved, "3.0.0")
    assert resolved["operations"]["op"]["summary"] == "from list form"
    assert "ignored" not in resolved["operations"]["op"]


def test_merged_members_are_located_at_the_trait() -> None:
    doc = _load(V2_DOC)
    apply_traits(doc.resolved, doc.version, source=doc.source)
    msg = doc.resolved["components"]["messages"]["chat"]
    trait = doc.resolved["components"]["messageTraits"]["first"]
    assert doc.source.position_of(msg, "contentType") == doc.source.position_of(
        trait, "contentType"
    )
    pos = doc.source.position_of(msg["headers"])  # a merged copy keeps the object's place
    line = (
        textwrap.dedent(V2_DOC)
        .splitlines()
        .index("      headers: {type: object, properties: {a: {type: string}}}")
    )
    assert pos is not None and pos.line == line + 1
