"""The ``chanspec`` command line: validate, generate, check, diff and emit.

Most runs go through ``click.testing.CliRunner``; some run ``python -m chanspec.codegen`` as a
real process (the way users and CI call it).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from chanspec.codegen.cli import main
from click.testing import CliRunner, Result

from .servers import REPO

SHOWCASE = REPO / "specs" / "showcase.asyncapi.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BAD = FIXTURES / "bad.asyncapi.yaml"
SYNTAX_ERROR = FIXTURES / "syntax_error.asyncapi.yaml"
SCHEMA_300 = REPO.parent / "shared" / "corpus" / "_schemas" / "3.0.0-without-$id.json"
LOCATED = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning)\[(?P<code>[LN]\d{3})\] "
)


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)


def run_process(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "CHANSPEC_"))}
    return subprocess.run(
        [sys.executable, "-m", "chanspec.codegen", *(str(a) for a in args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def exit_code(result: Result) -> int:
    """The exit code, failing on any exception other than the CLI's own ``sys.exit``."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"CLI raised {result.exception!r}\n{result.output}")
    return result.exit_code


def problems_of(stderr: str) -> dict[str, list[tuple[str, int, int]]]:
    out: dict[str, list[tuple[str, int, int]]] = {}
    for line in stderr.splitlines():
        m = LOCATED.match(line)
        if m:
            out.setdefault(m["code"], []).append((m["file"], int(m["line"]), int(m["col"])))
    return out


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def line_of(text: str, needle: str) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(lines) == 1, f"{needle!r} is not on exactly one line"
    return lines[0]


@pytest.fixture(scope="module")
def showcase_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The showcase generated once into a package ``app`` (treat as read-only)."""
    out = tmp_path_factory.mktemp("showcase") / "app"
    result = run("generate", SHOWCASE, "-o", out)
    assert exit_code(result) == 0, result.output
    return out


# ---- validate -------------------------------------------------------------------------------


def test_validate_showcase_prints_counts() -> None:
    spec = yaml.safe_load(SHOWCASE.read_text(encoding="utf-8"))
    channels = sum(1 for c in spec["channels"].values() if c.get("address"))
    operations = len(spec["operations"])
    result = run("validate", SHOWCASE)
    assert exit_code(result) == 0, result.output
    assert f"ok ({channels} channels, {operations} operations)" in result.stdout
    assert result.stderr == ""


def test_validate_showcase_as_a_process() -> None:
    proc = run_process("validate", "specs/showcase.asyncapi.yaml")
    assert proc.returncode == 0, proc.stderr
    assert re.search(
        r"specs/showcase\.asyncapi\.yaml: ok \(\d+ channels, \d+ operations\)", proc.stdout
    )


def test_validate_reports_every_problem_in_one_run() -> None:
    result = run("validate", BAD)
    assert exit_code(result) == 1
    assert "Traceback" not in result.output
    found = problems_of(result.stderr)
    # loader problem (unresolvable $ref) and normaliser problems, all from one run
    assert set(found) == {"L010", "N021", "N030", "N041", "N042"}, result.stderr
    assert all(len(places) == 1 and places[0][0] == str(BAD) for places in found.values())
    text = BAD.read_text(encoding="utf-8")
    # exact places: the value of x-channel-layer, the bad group, the dangling $ref
    assert found["N041"] == [(str(BAD), line_of(text, "x-channel-layer: missing_layer"), 22)]
    assert found["N042"] == [(str(BAD), line_of(text, "- user_{user_id}"), 9)]
    assert found["L010"] == [(str(BAD), line_of(text, "'#/channels/nowhere'"), 13)]
    assert found["N021"][0][1] == line_of(text, "'#/channels/other/messages/stray'")
    stderr = result.stderr
    assert "'missing_layer'" in stderr and "'user_{user_id}'" in stderr
    assert "action='greet'" in stderr and "'room_stray'" in stderr
    assert "hint: declare it under the root x-channel-layers" in stderr
    assert "5 error(s), 0 warning(s)" in stderr
    assert "ok (" not in result.stdout


def test_validate_bad_spec_as_a_process_has_no_traceback() -> None:
    proc = run_process("validate", BAD.relative_to(REPO))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    found = problems_of(proc.stderr)
    assert set(found) == {"L010", "N021", "N030", "N041", "N042"}
    assert found["N041"][0] == ("tests/fixtures/bad.asyncapi.yaml", 13, 22)


def test_validate_yaml_syntax_error_is_located() -> None:
    result = run("validate", SYNTAX_ERROR)
    assert exit_code(result) == 1
    assert "Traceback" not in result.output
    found = problems_of(result.stderr)
    assert list(found) == ["L002"]
    file, line, col = found["L002"][0]
    assert (file, line) == (str(SYNTAX_ERROR), 9)  # where the flow sequence turns out unclosed
    assert col >= 1


def test_validate_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.asyncapi.yaml"
    result = run("validate", missing)
    assert exit_code(result) == 1
    assert f"error[L001] file not found: {missing}" in result.stderr
    assert "Traceback" not in result.output


# ---- generate / check -----------------------------------------------------------------------


def test_generate_bad_spec_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "app"
    result = run("generate", BAD, "-o", out)
    assert exit_code(result) == 1
    assert "nothing written" in result.stderr
    assert "error[N041]" in result.stderr
    assert not out.exists()


def test_generate_then_check_is_clean(tmp_path: Path) -> None:
    out = tmp_path / "app"
    result = run("generate", SHOWCASE, "-o", out)
    assert exit_code(result) == 0, result.output
    assert (out / "generated" / "messages.py").is_file()
    assert (out / "consumers" / "system.py").is_file()
    check = run("check", SHOWCASE, "-o", out)
    assert exit_code(check) == 0, check.output
    assert "up to date" in check.stdout
    again = run("generate", SHOWCASE, "-o", out)
    assert exit_code(again) == 0
    assert "0 generated" in again.stdout and "0 scaffolds created" in again.stdout


def test_check_names_an_edited_generated_file(tmp_path: Path) -> None:
    out = tmp_path / "app"
    assert exit_code(run("generate", SHOWCASE, "-o", out)) == 0
    edited = out / "generated" / "channels.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nHACK = 1\n", encoding="utf-8")
    check = run("check", SHOWCASE, "-o", out)
    assert exit_code(check) == 1
    assert f"stale {out / 'generated' / 'channels.py'}" in check.stdout
    assert "generated/messages.py" not in check.stdout
    assert "out of date" in check.stderr
    assert "HACK = 1" in edited.read_text(encoding="utf-8")  # check never writes


def test_check_names_a_missing_scaffold(tmp_path: Path) -> None:
    out = tmp_path / "app"
    assert exit_code(run("generate", SHOWCASE, "-o", out)) == 0
    (out / "consumers" / "chat.py").unlink()
    check = run("check", SHOWCASE, "-o", out)
    assert exit_code(check) == 1
    assert f"missing {out / 'consumers' / 'chat.py'}" in check.stdout
    assert not (out / "consumers" / "chat.py").exists()


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "app"
    result = run("generate", SHOWCASE, "-o", out, "--dry-run")
    assert exit_code(result) == 0, result.output
    assert f"would write {out / 'generated' / 'messages.py'}" in result.stdout
    assert f"would create {out / 'consumers' / 'system.py'}" in result.stdout
    assert not out.exists()
    # on an existing tree too: a stale generated file stays as it is
    assert exit_code(run("generate", SHOWCASE, "-o", out)) == 0
    stale = out / "generated" / "layers.py"
    stale.write_text("# edited\n", encoding="utf-8")
    before = tree(out)
    result = run("generate", SHOWCASE, "-o", out, "--dry-run")
    assert exit_code(result) == 0
    assert f"would write {stale}" in result.stdout
    assert tree(out) == before


def test_generate_as_a_process(tmp_path: Path) -> None:
    proc = run_process("generate", SHOWCASE, "-o", tmp_path / "app")
    assert proc.returncode == 0, proc.stderr
    assert "scaffolds created" in proc.stdout
    proc = run_process("check", SHOWCASE, "-o", tmp_path / "app")
    assert proc.returncode == 0, proc.stderr


def test_regeneration_keeps_user_code(tmp_path: Path) -> None:
    out = tmp_path / "app"
    assert exit_code(run("generate", SHOWCASE, "-o", out)) == 0
    consumer = out / "consumers" / "system.py"
    stub = '        raise NotImplementedError("system_ping")\n'
    text = consumer.read_text(encoding="utf-8")
    assert stub in text
    mine = text.replace(
        stub,
        "        # my code \u2014 kept byte for byte\r\n        return PongMessage()  # noqa\n",
    ).encode("utf-8")
    consumer.write_bytes(mine)
    main_py = out / "main.py"
    main_py.write_bytes(main_py.read_bytes() + b"\n# my wiring\n")
    (out / "generated" / "messages.py").write_text("# damaged\n", encoding="utf-8")
    result = run("generate", SHOWCASE, "-o", out)
    assert exit_code(result) == 0, result.output
    assert consumer.read_bytes() == mine
    assert main_py.read_bytes().endswith(b"\n# my wiring\n")
    assert "class PongMessage" in (out / "generated" / "messages.py").read_text(encoding="utf-8")
    assert f"wrote {out / 'generated' / 'messages.py'}" in result.stdout
    assert "consumers/system.py" not in result.stdout
    assert exit_code(run("check", SHOWCASE, "-o", out)) == 0  # user edits are not staleness


# ---- diff -----------------------------------------------------------------------------------


def test_diff_spec_against_itself() -> None:
    result = run("diff", SHOWCASE, SHOWCASE)
    assert exit_code(result) == 0, result.output
    assert "No differences" in result.stdout


def test_diff_reports_changed_address_with_location(tmp_path: Path) -> None:
    text = SHOWCASE.read_text(encoding="utf-8")
    assert text.count("address: /ws/chat\n") == 1
    changed = tmp_path / "changed.asyncapi.yaml"
    changed.write_text(text.replace("address: /ws/chat\n", "address: /ws/chat2\n"), "utf-8")
    line = line_of(changed.read_text(encoding="utf-8"), "address: /ws/chat2")
    result = run("diff", SHOWCASE, changed)
    assert exit_code(result) == 1
    assert "/channels/chat/address" in result.stdout
    assert f"{changed}:{line}:" in result.stdout
    assert f"{SHOWCASE}:{line}:" in result.stdout
    assert '"/ws/chat" -> "/ws/chat2"' in result.stdout

    as_json = run("diff", SHOWCASE, changed, "--format", "json")
    assert exit_code(as_json) == 1
    entries = json.loads(as_json.stdout)
    assert isinstance(entries, list) and len(entries) == 1
    assert entries[0]["pointer"] == "/channels/chat/address"
    assert (entries[0]["old"], entries[0]["new"]) == ("/ws/chat", "/ws/chat2")


def test_diff_json_of_equal_documents_is_an_empty_list() -> None:
    result = run("diff", SHOWCASE, SHOWCASE, "--format", "json")
    assert exit_code(result) == 0
    assert json.loads(result.stdout) == []


def test_diff_of_a_broken_side_fails_cleanly() -> None:
    result = run("diff", SHOWCASE, SYNTAX_ERROR)
    assert exit_code(result) == 2  # a side that cannot be loaded (issue 6: exit 0/1/2)
    assert "error[L002]" in result.stderr
    assert "cannot be loaded" in result.stderr
    assert "Traceback" not in result.output


def test_diff_spec_against_generated_app(showcase_app: Path) -> None:
    proc = run_process("diff", SHOWCASE, "app.main:app", cwd=showcase_app.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No differences" in proc.stdout


# ---- emit -----------------------------------------------------------------------------------


def _parse_events(text: str) -> list[yaml.Event]:
    return list(yaml.parse(text, Loader=yaml.SafeLoader))


def test_emit_yaml_has_no_anchors() -> None:
    proc = run_process("emit", "examples.showcase.main:app", "--format", "yaml")
    assert proc.returncode == 0, proc.stderr
    events = _parse_events(proc.stdout)
    assert not [e for e in events if isinstance(e, yaml.AliasEvent)]
    assert not [e for e in events if getattr(e, "anchor", None)]
    doc = yaml.safe_load(proc.stdout)
    assert doc["asyncapi"] == "3.0.0"
    assert doc["channels"]["chat"]["address"] == "/ws/chat"
    # the showcase shares ping/pong between channels: written out in full each time
    assert proc.stdout.count("name: ping\n") >= 2


def test_emit_json_to_file_validates_against_the_schema(tmp_path: Path) -> None:
    out = tmp_path / "asyncapi.json"
    proc = run_process("emit", "examples.showcase.main:app", "--format", "json", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc["operations"]) == set(yaml.safe_load(SHOWCASE.read_text("utf-8"))["operations"])
    if not SCHEMA_300.is_file():
        pytest.skip(f"AsyncAPI 3.0.0 JSON Schema not present at {SCHEMA_300} (corpus absent)")
    import jsonschema

    schema = json.loads(SCHEMA_300.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert errors == [], [f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5]]


def test_emit_json_on_stdout_equals_the_file(tmp_path: Path) -> None:
    out = tmp_path / "asyncapi.json"
    to_file = run_process("emit", "examples.showcase.main:app", "-o", out)
    to_stdout = run_process("emit", "examples.showcase.main:app")
    assert to_file.returncode == to_stdout.returncode == 0
    assert json.loads(to_stdout.stdout) == json.loads(out.read_text(encoding="utf-8"))


def test_emit_unknown_app_is_a_clean_error() -> None:
    result = run("emit", "no_such_module_xyz:app")
    assert exit_code(result) == 1
    assert "cannot import 'no_such_module_xyz'" in result.output
    assert "Traceback" not in result.output
