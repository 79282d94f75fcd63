"""Validation against the official AsyncAPI JSON Schemas (``S`` codes) and ``--strict``.

Each case pins the exact text a user sees. The corpus test checks that ``chanspec validate``
agrees with the official schema's verdict (``schema:PASS|FAIL`` in the manifest) on every real
document, and that every failing one gets located messages and exit 1, never a traceback.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import textwrap
from pathlib import Path

import pytest
from chanspec.codegen.cli import main
from chanspec.codegen.load import load_document, load_text
from chanspec.codegen.schema_check import MAX_REPORTED, SCHEMA_VERSIONS, schema_problems
from click.testing import CliRunner

from .conformance import CORPUS

SCHEMAS = Path(__file__).resolve().parent.parent / "codegen" / "asyncapi_schemas"


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")


def _validate(root: Path, spec: str, *args: str) -> tuple[int, str]:
    old = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, ["validate", *args, spec], catch_exceptions=False)
    finally:
        os.chdir(old)
    return result.exit_code, result.output


def test_vendored_schemas_are_the_official_files() -> None:
    sums = {}
    for line in (SCHEMAS / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name] = digest
    assert set(sums) == set(SCHEMA_VERSIONS.values())
    for name, digest in sums.items():
        assert hashlib.sha256((SCHEMAS / name).read_bytes()).hexdigest() == digest, name
    assert (SCHEMAS / "LICENSE").exists() and (SCHEMAS / "NOTICE").exists()


def test_missing_required_field(tmp_path: Path) -> None:
    _write(tmp_path, {"spec.yaml": "asyncapi: 3.0.0\nchannels: {}\n"})
    code, out = _validate(tmp_path, "spec.yaml")
    assert code == 1
    assert out.splitlines() == [
        "spec.yaml:1:1: error[S001] not valid AsyncAPI 3.0.0: 'info' is a required property",
        "    hint: see the AsyncAPI Object in the AsyncAPI 3.0.0 specification",
        "1 error(s), 0 warning(s)",
    ]


OPERATION_WITH_TYPO = """\
    asyncapi: 3.0.0
    info:
      title: t
      version: 1.0.0
    channels:
      chat:
        address: /ws/chat
        messages:
          hello:
            payload:
              type: object
    operations:
      greet:
        action: receive
        channel:
          $ref: '#/channels/chat'
        message:
          $ref: '#/channels/chat/messages/hello'
    """


def test_unknown_property_names_the_object(tmp_path: Path) -> None:
    _write(tmp_path, {"spec.yaml": OPERATION_WITH_TYPO})
    code, out = _validate(tmp_path, "spec.yaml")
    assert code == 1
    assert out.splitlines()[:2] == [
        "spec.yaml:14:5: error[S001] not valid AsyncAPI 3.0.0: property 'message' is not "
        "allowed here (at /operations/greet)",
        "    hint: see the Operation Object in the AsyncAPI 3.0.0 specification",
    ]


def test_violation_inside_a_referenced_file_is_located_there(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "spec.yaml": """\
                asyncapi: 3.0.0
                info:
                  title: t
                  version: 1.0.0
                channels:
                  chat:
                    address: /ws/chat
                    messages:
                      hello:
                        $ref: 'parts/messages.yaml#/hello'
                """,
            "parts/messages.yaml": """\
                hello:
                  payload:
                    type: object
                    properties:
                      count:
                        type: integer
                        minimum: yes
                """,
        },
    )
    code, out = _validate(tmp_path, "spec.yaml")
    assert code == 1
    assert out.splitlines()[0] == (
        "parts/messages.yaml:7:18: error[S001] not valid AsyncAPI 3.0.0: 'yes' is not of type "
        "'number' (at /channels/chat/messages/hello/payload/properties/count/minimum)"
    )


def test_a_2x_document_is_validated_against_its_own_version(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "spec.yaml": """\
                asyncapi: 2.6.0
                info:
                  title: t
                  version: 1.0.0
                channels:
                  /ws/chat:
                    publish:
                      message:
                        payload:
                          type: string
                operations: {}
                """
        },
    )
    code, out = _validate(tmp_path, "spec.yaml")
    assert code == 1
    assert out.splitlines()[:2] == [
        "spec.yaml:1:1: error[S001] not valid AsyncAPI 2.6.0: property 'operations' is not "
        "allowed here",
        "    hint: see the AsyncAPI Object in the AsyncAPI 2.6.0 specification",
    ]
    # without the 3.0-only key it is a valid 2.6 document (converted afterwards)
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec.read_text().replace("operations: {}\n", ""))
    code, out = _validate(tmp_path, "spec.yaml")
    assert code == 0, out


def test_an_external_target_used_twice_is_validated_as_a_bundle(tmp_path: Path) -> None:
    """A message file referenced from a channel and from an operation: the bundler inlines
    it once and points at it from the operation, as the 3.0 schema requires there."""
    _write(
        tmp_path,
        {
            "spec.yaml": """\
                asyncapi: 3.0.0
                info: {title: t, version: 1.0.0}
                channels:
                  chat:
                    address: /ws/chat
                    messages:
                      hello:
                        $ref: 'messages.yaml#/hello'
                operations:
                  greet:
                    action: receive
                    channel:
                      $ref: '#/channels/chat'
                    messages:
                    - $ref: 'messages.yaml#/hello'
                """,
            "messages.yaml": "hello:\n  payload:\n    type: string\n",
        },
    )
    assert schema_problems(load_document(tmp_path / "spec.yaml")) == []


def test_circular_schemas_terminate_and_pass() -> None:
    doc = load_text(
        textwrap.dedent(
            """\
            asyncapi: 3.0.0
            info: {title: t, version: 1.0.0}
            channels:
              tree:
                address: /ws/tree
                messages:
                  node:
                    payload:
                      $ref: '#/components/schemas/Node'
            components:
              schemas:
                Node:
                  type: object
                  properties:
                    children:
                      type: array
                      items:
                        $ref: '#/components/schemas/Node'
            """
        ),
        "spec.yaml",
    )
    assert schema_problems(doc) == []


def test_many_violations_are_capped_with_a_count() -> None:
    servers = "".join(f"  s{i}:\n    protocol: ws\n" for i in range(MAX_REPORTED + 7))
    doc = load_text(
        f"asyncapi: 3.0.0\ninfo: {{title: t, version: 1.0.0}}\nservers:\n{servers}", "spec.yaml"
    )
    problems = schema_problems(doc)
    assert [p.code for p in problems] == ["S001"] * MAX_REPORTED + ["S002"]
    assert problems[-1].message == "7 more schema violation(s) not listed"


def test_strict_turns_warnings_into_errors_and_writes_nothing(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "spec.yaml": """\
                asyncapi: 2.6.0
                info: {title: t, version: 1.0.0}
                channels:
                  /ws/things/{thingId}:
                    parameters:
                      thingId:
                        schema:
                          type: string
                          pattern: ^[a-z]+$
                    publish:
                      operationId: report
                      message:
                        payload:
                          type: string
                """
        },
    )
    code, out = _validate(tmp_path, "spec.yaml")
    assert code == 0 and "warning[C040]" in out
    code, out = _validate(tmp_path, "spec.yaml", "--strict")
    assert code == 1 and "error[C040]" in out and "1 error(s), 0 warning(s)" in out
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(main, ["generate", "spec.yaml", "-o", "app", "--strict"])
    finally:
        os.chdir(old)
    assert result.exit_code == 1 and "nothing written" in result.output
    assert not (tmp_path / "app").exists()


def _manifest() -> list[dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


corpus = pytest.mark.skipif(
    not (CORPUS / "MANIFEST.tsv").exists() and not os.environ.get("CI"),
    reason=f"the shared corpus is absent ({CORPUS}); CI runs these tests with it",
)


@corpus
def test_validate_agrees_with_the_official_schema_on_the_corpus() -> None:
    disagree = []
    for row in _manifest():
        doc = load_document(CORPUS / row["local_path"])
        passes = not schema_problems(doc)
        if passes != ("schema:PASS" in row["notes"]):
            disagree.append(f"{row['local_path']}: manifest says {row['notes'][:60]}")
    assert not disagree, "\n".join(disagree)


@corpus
def test_every_invalid_corpus_document_gets_located_errors_and_exit_1() -> None:
    runner = CliRunner()
    failing = [row for row in _manifest() if "schema:FAIL" in row["notes"]]
    assert failing
    for row in failing:
        result = runner.invoke(main, ["validate", str(CORPUS / row["local_path"])])
        assert result.exit_code == 1, (row["local_path"], result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert re.match(r"\S+:\d+:\d+: error\[[A-Z]\d{3}\] ", result.output), result.output
        assert "error[S001]" in result.output, result.output
        assert "Traceback" not in result.output
