"""Tests of the spec loader: core-schema scalars, positions, problems, $ref resolution."""

from __future__ import annotations

import io
import math
import textwrap
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from chanspec.codegen.load import LoadedDocument, load_document, load_or_raise, load_text
from chanspec.codegen.problems import CODES, Position, Problem, ProblemsError, Severity

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _text(src: str, name: str = "spec.yaml") -> LoadedDocument:
    return load_text(textwrap.dedent(src), name)


def _write(path: Path, src: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(src), encoding="utf-8")
    return path


def _codes(doc: LoadedDocument) -> list[str]:
    return [p.code for p in doc.problems]


def _only(doc: LoadedDocument, code: str) -> Problem:
    found = [p for p in doc.problems if p.code == code]
    assert len(found) == 1, doc.problems
    return found[0]


# -- problems -------------------------------------------------------------------------


def test_problem_format_and_error() -> None:
    p = Problem(
        "L010",
        "no 'x'",
        pointer="/channels/a/address",
        position=Position("specs/x.yaml", 12, 5),
        hint="fix it",
    )
    assert p.format() == (
        "specs/x.yaml:12:5: error[L010] no 'x' (at /channels/a/address)\n    hint: fix it"
    )
    assert Problem("L020", "m", Severity.WARNING).format() == "warning[L020] m"
    err = ProblemsError([p, p])
    assert err.problems == (p, p) and str(err).count("error[L010]") == 2
    assert all(code.startswith("L") and title for code, title in CODES.items())


# -- scalars --------------------------------------------------------------------------


def test_core_schema_plain_scalars() -> None:
    doc = _text(
        """\
        asyncapi: 3.0.0
        s: [on, yes, no, off, y, 2024-01-01, 2001-12-14t21:59:43.10-05:00, 1_000, 0b11]
        t: [true, 1, 1.5, ~, null, "", -7, +3, 0o17, 0x1F, 1e3, .inf, -.Inf, .NaN, False]
        e:
        """
    )
    assert doc.problems == []
    assert doc.raw["s"] == [
        "on",
        "yes",
        "no",
        "off",
        "y",
        "2024-01-01",
        "2001-12-14t21:59:43.10-05:00",
        "1_000",
        "0b11",
    ]
    t = doc.raw["t"]
    assert t[:11] == [True, 1, 1.5, None, None, "", -7, 3, 15, 31, 1000.0]
    assert [type(v) for v in t[:4]] == [bool, int, float, type(None)]
    assert t[11] == math.inf and t[12] == -math.inf and math.isnan(t[13]) and t[14] is False
    assert doc.raw["e"] is None
    assert doc.version == "3.0.0" and isinstance(doc.version, str)


def test_quoted_scalars_and_explicit_tags() -> None:
    doc = _text(
        """\
        asyncapi: '3.0.0'
        q: ['true', "1", '~', "on"]
        tags: [!!str 1, !!int "7", !!float 2, !!bool "true", !!null "", !!int nope, !Custom x]
        1: numeric key
        true: bool key
        """
    )
    assert doc.raw["q"] == ["true", "1", "~", "on"]
    assert doc.raw["tags"] == ["1", 7, 2.0, True, None, "nope", "x"]
    assert isinstance(doc.raw["tags"][2], float)
    assert doc.raw["1"] == "numeric key" and doc.raw["true"] == "bool key"
    assert _codes(doc) == ["L005", "L004"]
    assert _only(doc, "L004").severity is Severity.WARNING
    assert _only(doc, "L005").pointer == "/tags/5"


def test_anchors_aliases_and_merge_keys() -> None:
    doc = _text(
        """\
        asyncapi: 3.0.0
        base: &base {a: 1, b: 2}
        other: &other {b: 20, c: 30}
        merged:
          <<: [*base, *other]
          a: 100
        alias: *base
        """
    )
    assert doc.problems == []
    assert doc.raw["merged"] == {"a": 100, "b": 2, "c": 30}
    assert doc.raw["alias"] is doc.raw["base"]
    assert doc.position_at("/merged/b") == Position("spec.yaml", 2, 23)
    loop = _text("asyncapi: 3.0.0\nself: &s [1, *s]\n").raw["self"]
    assert loop[1] is loop


def test_json_goes_through_the_same_parser() -> None:
    doc = load_text(
        '{\n\t"asyncapi": "3.0.0",\n\t"info": {"title": "\\ud83d\\ude00", "n": 1.0,'
        ' "on": "x\\/y"}\n}',
        "spec.json",
    )
    assert doc.problems == []
    assert doc.raw["info"] == {"title": "\U0001f600", "n": 1.0, "on": "x/y"}
    assert doc.position_at("/info/n") == Position("spec.json", 3, 41)


# -- positions ------------------------------------------------------------------------


def test_positions_of_nested_values_and_keys() -> None:
    doc = _text(
        """\
        asyncapi: 3.0.0
        channels:
          room:
            address: 'rooms/{id}'
            messages:
              - first
              - {name: second}
        """
    )
    room = doc.raw["channels"]["room"]
    assert doc.source.position_of(room, "address") == Position("spec.yaml", 4, 14)
    assert str(doc.source.position_of(room, "address")) == "spec.yaml:4:14"
    assert doc.source.position_of(room) == Position("spec.yaml", 4, 5)
    assert doc.source.position_of(room["messages"], 1) == Position("spec.yaml", 7, 9)
    assert doc.position_at("/channels/room/messages/1/name") == Position("spec.yaml", 7, 16)
    # a pointer that goes too deep stops at the deepest node found
    assert doc.position_at("/channels/room/nope/x") == Position("spec.yaml", 4, 5)
    # the resolved tree is located too
    assert doc.source.position_at(doc.resolved, "/channels/room/address") == Position(
        "spec.yaml", 4, 14
    )


def test_pointer_unescaping_in_position_at() -> None:
    doc = _text(
        """\
        asyncapi: 3.0.0
        components:
          messages:
            a/b~c: {x: 1}
        """
    )
    assert doc.position_at("/components/messages/a~1b~0c/x") == Position("spec.yaml", 4, 16)


# -- document problems ----------------------------------------------------------------


def test_duplicate_key_is_a_located_problem_and_last_wins() -> None:
    doc = _text(
        """\
        asyncapi: 3.0.0
        info:
          title: first
          title: second
        """
    )
    p = _only(doc, "L003")
    assert p.position == Position("spec.yaml", 4, 3)
    assert p.pointer == "/info/title"
    assert "line 3" in p.message
    assert doc.raw["info"]["title"] == "second"


def test_yaml_syntax_error_is_located() -> None:
    doc = _text(
        """\
        asyncapi: 3.0.0
        info:
          title: [unclosed
        channels: {}
        """
    )
    p = _only(doc, "L002")
    assert p.position is not None and p.position.file == "spec.yaml"
    assert p.position.line >= 3
    assert doc.raw == {} and doc.resolved == {}


@pytest.mark.parametrize(
    ("src", "code"),
    [
        ("", "L007"),
        ("# only a comment\n", "L007"),
        ("- a\n- b\n", "L008"),
        ("just text\n", "L008"),
        ("a: 1\n---\nb: 2\n", "L002"),
        ("info: {title: x}\n", "L020"),
        ("asyncapi: 1.2.0\n", "L021"),
        ("asyncapi: 3.0\n", "L021"),
        ("a: \x07\n", "L002"),
    ],
)
def test_bad_documents_give_problems_not_exceptions(src: str, code: str) -> None:
    doc = load_text(src, "bad.yaml")
    assert code in _codes(doc)
    assert isinstance(doc.raw, dict) and isinstance(doc.resolved, dict)
    assert not doc.ok


def test_deep_nesting_and_long_ref_chains_do_not_overflow() -> None:
    deep = load_text("asyncapi: 3.0.0\nx: " + "[" * 600 + "]" * 600 + "\n", "deep.yaml")
    assert _codes(deep) == ["L002"] and "deeper than" in deep.problems[0].message
    links = "".join(f"s{i}: {{$ref: '#/s{i + 1}'}}\n" for i in range(2000))
    chain = load_text(f"asyncapi: 3.0.0\n{links}s2000: {{v: 1}}\n", "chain.yaml")
    assert chain.problems == [] and chain.resolved["s0"] is chain.resolved["s2000"]
    ring = load_text(f"asyncapi: 3.0.0\n{links}s2000: {{$ref: '#/s0'}}\n", "ring.yaml")
    assert _codes(ring) == ["L016"]


def test_missing_file_and_undecodable_bytes(tmp_path: Path) -> None:
    doc = load_document(tmp_path / "nope.yaml")
    assert _codes(doc) == ["L001"] and doc.raw == {}
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"asyncapi: 3.0.0\ntitle: \xff\xfe\n")
    p = _only(load_document(bad), "L006")
    assert p.position == Position(str(bad), 2, 8)
    assert _codes(load_document(tmp_path)) == ["L006"]  # a directory


def test_load_or_raise(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError) as info:
        load_or_raise(tmp_path / "nope.yaml")
    assert info.value.problems[0].code == "L001"
    good = _write(tmp_path / "ok.yaml", "asyncapi: 2.6.0\n")
    assert load_or_raise(good).version == "2.6.0"


# -- local refs -----------------------------------------------------------------------


def test_local_ref_identity_sharing() -> None:
    doc = _text(
        """\
        asyncapi: 3.0.0
        channels:
          c:
            address: room
            messages:
              m: {$ref: '#/components/messages/m'}
        operations:
          x:
            action: send
            channel: {$ref: '#/channels/c'}
            messages: [{$ref: '#/channels/c/messages/m'}]
          y:
            action: receive
            channel: {$ref: '#/channels/c', description: sibling ignored}
        components:
          messages:
            m: {payload: {type: string}}
          schemas:
            odd: {properties: {$ref: {type: string}}}
        """
    )
    assert doc.problems == []
    assert doc.resolved["components"]["schemas"]["odd"]["properties"]["$ref"] == {"type": "string"}
    r = doc.resolved
    assert r["operations"]["x"]["channel"] is r["channels"]["c"]
    assert r["operations"]["y"]["channel"] is r["channels"]["c"]
    assert r["operations"]["x"]["messages"][0] is r["components"]["messages"]["m"]
    assert r["channels"]["c"]["messages"]["m"] is r["components"]["messages"]["m"]
    # raw keeps the refs as written and shares nothing with resolved
    assert doc.raw["operations"]["x"]["channel"] == {"$ref": "#/channels/c"}
    assert doc.raw["channels"] is not r["channels"]


def test_escaped_pointer_and_unescaped_key_hint() -> None:
    doc = _text(
        """\
        asyncapi: 3.0.0
        components:
          messages:
            a/b: {name: ab}
            t~x: {name: tx}
        operations:
          ok:
            messages:
              - {$ref: '#/components/messages/a~1b'}
              - {$ref: '#/components/messages/t~0x'}
          pct: {messages: [{$ref: '#/components/messages/a%7E1b'}]}
          bad: {messages: [{$ref: '#/components/messages/a/b'}]}
        """
    )
    ops = doc.resolved["operations"]
    msgs = doc.resolved["components"]["messages"]
    assert ops["ok"]["messages"][0] is msgs["a/b"]
    assert ops["ok"]["messages"][1] is msgs["t~x"]
    assert ops["pct"]["messages"][0] is msgs["a/b"]
    p = _only(doc, "L011")
    assert p.hint == "escape '/' in the key as '~1': #/components/messages/a~1b"
    assert p.pointer == "/operations/bad/messages/0"
    assert p.position == Position("spec.yaml", 12, 27)
    assert ops["bad"]["messages"][0] == {"$ref": "#/components/messages/a/b"}


def test_unresolvable_pointer_is_located_at_the_ref() -> None:
    doc = _text(
        """\
        asyncapi: 3.0.0
        channels:
          c:
            messages:
              m:
                $ref: '#/components/messages/missing'
        components:
          messages: {}
        """
    )
    p = _only(doc, "L010")
    assert p.position == Position("spec.yaml", 6, 15)
    assert p.pointer == "/channels/c/messages/m"
    assert "'missing'" in p.message and "#/components/messages" in p.message
    assert doc.resolved["channels"]["c"]["messages"]["m"] == {
        "$ref": "#/components/messages/missing"
    }


def test_ref_through_a_ref_and_ref_chains() -> None:
    doc = _text(
        """\
        asyncapi: 3.0.0
        components:
          messages:
            alias: {$ref: '#/components/messages/real'}
            real: {payload: {type: string}}
          schemas:
            viaAlias: {$ref: '#/components/messages/alias/payload'}
            loopA: {$ref: '#/components/schemas/loopB'}
            loopB: {$ref: '#/components/schemas/loopA'}
        """
    )
    comps = doc.resolved["components"]
    assert comps["messages"]["alias"] is comps["messages"]["real"]
    assert comps["schemas"]["viaAlias"] is comps["messages"]["real"]["payload"]
    assert _codes(doc) == ["L016"]


def test_circular_schema_becomes_a_cycle() -> None:
    doc = _text(
        """\
        asyncapi: 3.0.0
        components:
          schemas:
            Node:
              type: object
              properties:
                next: {$ref: '#/components/schemas/Node'}
                children: {type: array, items: {$ref: '#/components/schemas/Node'}}
        """
    )
    assert doc.problems == []
    node = doc.resolved["components"]["schemas"]["Node"]
    assert node["properties"]["next"] is node
    assert node["properties"]["children"]["items"] is node


# -- files ----------------------------------------------------------------------------


def _two_level_files(tmp_path: Path) -> Path:
    _write(
        tmp_path / "api" / "asyncapi.yaml",
        """\
        asyncapi: 3.0.0
        info: {title: t, version: 1.0.0, description: {$ref: '../docs/intro.md'}}
        channels:
          chat:
            address: chat
            messages:
              said: {$ref: '../common/messages.yaml#/said'}
              also: {$ref: '../common/messages.yaml#/said'}
        operations:
          send: {action: send, channel: {$ref: '#/channels/chat'}}
        """,
    )
    _write(
        tmp_path / "common" / "messages.yaml",
        """\
        said:
          name: said
          payload:
            $ref: 'schemas/said.yaml'
        """,
    )
    _write(
        tmp_path / "common" / "schemas" / "said.yaml",
        """\
        type: object
        properties:
          text: {type: string}
          back: {$ref: '../messages.yaml#/said'}
        """,
    )
    _write(tmp_path / "docs" / "intro.md", "# Chat\n\nSays *hello*.\n")
    return tmp_path / "api" / "asyncapi.yaml"


def test_relative_file_refs_across_two_levels(tmp_path: Path) -> None:
    doc = load_document(_two_level_files(tmp_path))
    assert doc.problems == []
    chat = doc.resolved["channels"]["chat"]
    said = chat["messages"]["said"]
    assert chat["messages"]["also"] is said
    assert said["payload"]["properties"]["text"] == {"type": "string"}
    assert said["payload"]["properties"]["back"] is said  # cycle across files
    assert doc.resolved["operations"]["send"]["channel"] is chat
    assert doc.resolved["info"]["description"] == "# Chat\n\nSays *hello*.\n"


def test_positions_inside_referenced_files(tmp_path: Path) -> None:
    root = _two_level_files(tmp_path)
    doc = load_document(root)
    said = doc.resolved["channels"]["chat"]["messages"]["said"]
    msgs = str(root.parent / "../common/messages.yaml").replace("api/../", "")
    assert doc.source.position_of(said, "name") == Position(msgs, 2, 9)
    payload = said["payload"]
    schemas = str(tmp_path / "common" / "schemas" / "said.yaml")
    assert doc.source.position_of(payload["properties"], "text") == Position(schemas, 3, 9)
    # the slot that held the ref keeps the position of the ref in the root file
    chat = doc.resolved["channels"]["chat"]["messages"]
    assert doc.source.position_of(chat, "said") == Position(str(root), 7, 13)


def test_external_problems(tmp_path: Path) -> None:
    _write(tmp_path / "other.yaml", "x: {y: 1}\nbroken: [\n")
    _write(tmp_path / "good.yaml", "x: {y: 1}\n")
    root = _write(
        tmp_path / "main.yaml",
        """\
        asyncapi: 3.0.0
        a: {$ref: 'missing.yaml#/x'}
        b: {$ref: 'good.yaml#/x/z'}
        c: {$ref: 'other.yaml#/x'}
        d: {$ref: 'good.yaml#/x/y'}
        e: {$ref: 'ftp://example.com/x.yaml'}
        f: {$ref: 'FILE_URI#/x/y'}
        """.replace("FILE_URI", (tmp_path / "good.yaml").as_uri()),
    )
    doc = load_document(root)
    assert _codes(doc) == ["L012", "L010", "L015", "L002"]
    l012 = _only(doc, "L012")
    assert l012.position == Position(str(root), 2, 11) and l012.pointer == "/a"
    l002 = _only(doc, "L002")
    assert l002.position is not None and l002.position.file.endswith("other.yaml")
    assert doc.resolved["d"] == 1 and doc.resolved["f"] == 1
    assert doc.resolved["c"] == {"$ref": "other.yaml#/x"}


def test_remote_ref_is_refused_without_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    doc = _text(
        """\
        asyncapi: 3.0.0
        components:
          schemas:
            a: {$ref: 'https://example.com/schemas.yaml#/A'}
            b: {$ref: 'http://example.com/b.json'}
        """
    )
    assert _codes(doc) == ["L013", "L013"]
    p = doc.problems[0]
    assert p.position == Position("spec.yaml", 4, 15)
    assert p.hint is not None and "allow_remote=True" in p.hint and "--allow-remote" in p.hint
    assert doc.resolved["components"]["schemas"]["a"] == {
        "$ref": "https://example.com/schemas.yaml#/A"
    }


# -- corpus ---------------------------------------------------------------------------


def _corpus_files() -> list[Path]:
    lines = (CORPUS / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [CORPUS / line.split("\t")[0] for line in lines if line.strip()]


@pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").is_file(), reason="shared corpus absent")
def test_corpus_loads_without_exceptions(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    files = _corpus_files()
    assert len(files) > 100
    clean = 0
    for path in files:
        doc = load_document(path)
        assert isinstance(doc.raw, dict) and isinstance(doc.resolved, dict), path
        assert doc.raw, (path, doc.problems)
        clean += not [p for p in doc.problems if p.code.startswith("L")]
    print(f"corpus: {clean}/{len(files)} documents load with zero L-problems")


def test_remote_refs_are_fetched_once_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = {
        "https://example.com/api/schemas.yaml": b"A: {type: object,"
        b" properties: {b: {$ref: b.json}}}",
        "https://example.com/api/b.json": b'{"type": "string"}',
    }
    calls: list[str] = []

    def fake_urlopen(url: str, timeout: float) -> io.BytesIO:
        calls.append(url)
        if url not in pages:
            raise urllib.error.URLError("offline")
        return io.BytesIO(pages[url])

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    doc = load_text(
        textwrap.dedent(
            """\
            asyncapi: 3.0.0
            components:
              schemas:
                a: {$ref: 'https://example.com/api/schemas.yaml#/A'}
                again: {$ref: 'https://example.com/api/schemas.yaml#/A'}
                gone: {$ref: 'https://example.com/gone.yaml'}
            """
        ),
        "spec.yaml",
        allow_remote=True,
    )
    schemas = doc.resolved["components"]["schemas"]
    assert schemas["a"] is schemas["again"]
    assert schemas["a"]["properties"]["b"] == {"type": "string"}
    assert sorted(calls) == sorted([*pages, "https://example.com/gone.yaml"])  # each once
    assert _codes(doc) == ["L014"]
    pos = doc.source.position_of(schemas["a"], "type")
    assert pos == Position("https://example.com/api/schemas.yaml", 1, 11)
