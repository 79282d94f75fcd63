"""Nothing a spec says can inject code into the generated service.

A hostile spec (below) puts Python and Jinja syntax, quotes, backslashes, control characters,
keywords and non-ASCII text everywhere a spec has free text or names: descriptions, summaries,
titles, channel ids, message keys, operation ids, property names, enum/const/default/example
values, layer aliases, addresses and component names. The generated tree must compile, be
ruff- and mypy-strict clean, do nothing but define things when imported, and emit a document
equal to the spec (the strings survive verbatim).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chanspec.codegen.cli import main
from click.testing import CliRunner

from .servers import REPO

PACKAGE = "evil_app"
PAYLOAD = "__import__('os').system('touch PWNED')"
EVIL = (
    'Evil """ and \'\'\' and \\ backslash \\n and "\n'
    "# comment\n"
    "{{ 7*7 }} {% raw %} {# c #} {% endraw %} ${HOME} $(touch PWNED)\n"
    f"{PAYLOAD}\n"
    "\x00 nul \x1b[31m esc \x08 bs \u200b zwsp \u2028 ls \t tab \U0001f600 astral"
)
BLOCK = "Two lines\n  indented, as a YAML block scalar keeps them.\n"
CODE = f"'); {PAYLOAD} #"
ENDS_IN_QUOTE = 'ends in a quote"'
ENDS_IN_BACKSLASH = "ends in a backslash\\"


def payload(action: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": EVIL,
        "required": ["action"],
        "properties": {
            "action": {"const": action},
            "from": {"type": "string", "default": CODE, "examples": [EVIL], "description": EVIL},
            "x-y z": {"type": "string", "enum": [CODE, '"""', "None", "a\\b", "{{ 7*7 }}"]},
            "class": {"type": "integer", "default": 3, "description": BLOCK},
            "import": {"type": "string", "const": PAYLOAD},
            "match": {"type": "boolean", "default": False},
            "nested": {
                "type": "object",
                "description": BLOCK,
                "properties": {"def": {"type": "string", "default": '"""; import os; """'}},
            },
        },
        "examples": [{"action": action, "from": CODE, "x-y z": '"""'}],
    }


def hostile_spec() -> dict[str, Any]:
    chan = "my-chan \"q\" 'x' é"
    layer = 'lay\'er "é"'
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": EVIL,
            "version": "1.0.0",
            "description": EVIL,
            "x-evil": {"'''": CODE, "{{ 7*7 }}": [EVIL], '"""': None},
        },
        "servers": {"dev": {"host": "localhost:8000", "protocol": "ws", "description": EVIL}},
        "x-channel-layers": {layer: {"type": "memory", "prefix": "p"}},
        "channels": {
            "class": {
                "address": "/ws/class",
                "description": EVIL,
                "messages": {
                    "import": {"summary": EVIL, "description": EVIL, "payload": payload(CODE)},
                    "say \"hi\" 'x' é": {"title": EVIL, "payload": payload('"""')},
                    "reply-é": {
                        "payload": {
                            "type": "object",
                            "description": BLOCK,
                            "properties": {"text": {"type": "string", "default": EVIL}},
                        }
                    },
                },
            },
            chan: {
                "address": "/ws/caf\u00e9/{room}",
                "description": EVIL,
                "parameters": {"room": {"description": EVIL}},
                "x-channel-layer": layer,
                "x-groups": ["room_{room}"],
                "messages": {
                    "class": {"payload": payload("class")},
                    "def": {"payload": payload("def")},
                },
            },
            "import": {
                "address": "/ws/import/{class}",
                "parameters": {"class": {"description": EVIL}},
                "x-groups": ["g_{class}"],
                "messages": {"with": {"payload": payload("with")}},
            },
            "9lives": {
                "address": "/ws/9",
                "messages": {"0day": {"$ref": "#/components/messages/0day"}},
            },
        },
        "operations": {
            "class": {
                "action": "receive",
                "summary": EVIL,
                "description": EVIL,
                "channel": {"$ref": "#/channels/class"},
                "messages": [{"$ref": "#/channels/class/messages/import"}],
                "reply": {
                    "channel": {"$ref": "#/channels/class"},
                    "messages": [{"$ref": "#/channels/class/messages/reply-é"}],
                },
            },
            "sendChat.v2 \"quoted\" 'x'": {
                "action": "receive",
                "summary": ENDS_IN_QUOTE,
                "channel": {"$ref": "#/channels/class"},
                "messages": [{"$ref": "#/channels/class/messages/say \"hi\" 'x' é"}],
            },
            "import": {
                "action": "receive",
                "summary": ENDS_IN_BACKSLASH,
                "channel": {"$ref": f"#/channels/{chan}"},
                "messages": [{"$ref": f"#/channels/{chan}/messages/class"}],
            },
            "def": {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{chan}"},
                "messages": [{"$ref": f"#/channels/{chan}/messages/def"}],
            },
            'push-é "x"': {
                "action": "send",
                "summary": EVIL,
                "channel": {"$ref": f"#/channels/{chan}"},
                "messages": [{"$ref": f"#/channels/{chan}/messages/def"}],
                "x-events": [{"$ref": '#/components/messages/evt "x" é'}],
            },
            "lambda": {
                "action": "receive",
                "channel": {"$ref": "#/channels/import"},
                "messages": [{"$ref": "#/channels/import/messages/with"}],
            },
            "9lives_0day": {
                "action": "receive",
                "channel": {"$ref": "#/channels/9lives"},
            },
        },
        "components": {
            "messages": {
                'evt "x" é': {"description": EVIL, "payload": payload("evt")},
                "0day": {
                    "payload": {
                        "type": "object",
                        "properties": {"who": {"$ref": "#/components/schemas/0day message"}},
                    }
                },
            },
            "schemas": {
                "0day message": {
                    "type": "object",
                    "description": EVIL,
                    "properties": {"name": {"type": "string", "enum": [CODE, "x"]}},
                },
            },
        },
    }


def run_process(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "CHANSPEC_"))}
    return subprocess.run(
        [sys.executable, *(str(a) for a in args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def pwned_files(*roots: Path) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        found += [p for p in (root / "PWNED", root.parent / "PWNED") if p.exists()]
    return found


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with ``hostile.asyncapi.json`` and the package generated from it."""
    root = tmp_path_factory.mktemp("hostile")
    spec = root / "hostile.asyncapi.json"
    # JSON is YAML 1.2; non-ASCII text is written raw, control characters as JSON escapes.
    # U+2028 too: PyYAML reads a raw one as a YAML 1.1 line break and folds the space around it
    # (a loader limitation, not a generator one).
    text = json.dumps(hostile_spec(), ensure_ascii=False, indent=2)
    spec.write_text(text.replace("\u2028", "\\u2028"), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["generate", str(spec), "-o", str(root / PACKAGE), "--client"]
    )  # the typed client too (generated/client.py)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output
    assert "error[" not in result.output
    return root


def python_files(work: Path) -> list[Path]:
    files = sorted((work / PACKAGE).rglob("*.py"))
    assert len(files) >= 12
    return files


def test_every_generated_module_compiles(work: Path) -> None:
    for path in python_files(work):
        data = path.read_bytes()
        assert b"\x00" not in data and b"\x1b" not in data, path
        compile(data.decode("utf-8"), str(path), "exec")


def test_no_spec_text_became_code(work: Path) -> None:
    """The payload appears only inside string literals: no call to ``__import__``/``system``."""
    seen_in_strings = 0
    for path in python_files(work):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                assert name not in ("__import__", "system", "eval", "exec"), (path, node.lineno)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                seen_in_strings += PAYLOAD in node.value
            assert not isinstance(node, ast.Import) or all(
                a.name not in ("os", "subprocess") for a in node.names
            ), path
    assert seen_in_strings > 10  # the hostile text is there, as data


def test_ruff_is_clean(work: Path) -> None:
    proc = run_process("-m", "ruff", "check", "--isolated", "--no-cache", PACKAGE, cwd=work)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_is_clean(work: Path) -> None:
    cache = work.parent / f"{work.name}-mypy-cache"
    proc = run_process("-m", "mypy", "--strict", "--cache-dir", str(cache), PACKAGE, cwd=work)
    assert proc.returncode == 0, proc.stdout + proc.stderr


_IMPORT_PROBE = f"""
import json
import {PACKAGE}.main as main_module
from {PACKAGE}.generated import client, document, messages
from {PACKAGE}.consumers.class_ import ClassConsumer
from chanspec.runtime import document_of

doc = document_of(main_module.app)
model = messages.ClassImportMessage()
print(json.dumps({{
    "title": document.METADATA["info"]["title"],
    "x_evil": document.METADATA["info"]["x-evil"],
    "default": model.from_,
    "enum": [e.value for e in type(model).model_fields["x_y_z"].annotation.__args__[0]],
    "action": ClassConsumer.messages["import"]().action,
    "dump": json.loads(model.model_dump_json(by_alias=True)),  # what the consumer sends
    "consumer_doc": ClassConsumer.__doc__,
    "channels": sorted(doc["channels"]),
    "client_addresses": sorted(c.address for c in vars(client).values()
                               if isinstance(c, type) and c.__module__ == client.__name__),
}}))
"""


def test_import_runs_no_spec_text(work: Path) -> None:
    before = pwned_files(work, REPO, Path.home())
    proc = run_process("-c", _IMPORT_PROBE, cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert pwned_files(work, REPO, Path.home()) == before == []
    assert not list(work.rglob("PWNED"))
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["title"] == EVIL
    assert out["x_evil"] == {"'''": CODE, "{{ 7*7 }}": [EVIL], '"""': None}
    assert out["default"] == CODE
    assert out["enum"] == [CODE, '"""', "None", "a\\b", "{{ 7*7 }}"]
    assert out["action"] == CODE
    # defaults on the wire; absent optional fields stay absent
    assert out["dump"] == {"action": CODE, "from": CODE, "class": 3, "match": False}
    assert out["consumer_doc"] == "Serves channel class."
    assert out["channels"] == sorted(hostile_spec()["channels"])
    assert out["client_addresses"] == sorted(
        c["address"] for c in hostile_spec()["channels"].values()
    )


def test_templates_did_not_evaluate_spec_text(work: Path) -> None:
    document = (work / PACKAGE / "generated" / "document.py").read_text(encoding="utf-8")
    assert "{{ 7*7 }}" in document and "{% raw %}" in document
    consumer = (work / PACKAGE / "consumers" / "class_.py").read_text(encoding="utf-8")
    assert "{{ 7*7 }}" in consumer  # the operation summary, escaped into a docstring
    assert "49" not in consumer


def test_hostile_strings_round_trip(work: Path) -> None:
    proc = run_process(
        "-m", "chanspec.codegen", "diff", "hostile.asyncapi.json", f"{PACKAGE}.main:app", cwd=work
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No differences" in proc.stdout


def test_generation_is_deterministic_and_checkable(work: Path, tmp_path: Path) -> None:
    spec = work / "hostile.asyncapi.json"
    again = tmp_path / PACKAGE
    result = CliRunner().invoke(main, ["generate", str(spec), "-o", str(again), "--client"])
    assert result.exit_code == 0, result.output

    def tree(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*.py"))
            if "__pycache__" not in p.parts
        }

    assert tree(again) == tree(work / PACKAGE)
    check = CliRunner().invoke(main, ["check", str(spec), "-o", str(work / PACKAGE), "--client"])
    assert check.exit_code == 0, check.output
