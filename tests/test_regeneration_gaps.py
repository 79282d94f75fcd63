"""Regeneration after removals: what the user's code still refers to (G006, G007), and the
client module of ``generate`` without ``--client``.

Every test generates a real app package from a small spec (the replay's), edits the spec,
regenerates through the real pipeline or click command, and checks the files, the notes, the
exit code of ``chanspec check`` and that the app imports in a fresh interpreter.
"""

from __future__ import annotations

import asyncio
import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import websockets
import yaml
from chanspec.codegen.cli import main
from chanspec.codegen.pipeline import GenerateResult, generate
from chanspec.codegen.removed import DEPRECATED, keep_classes
from click.testing import CliRunner

from tests.servers import uvicorn_server
from tests.test_regeneration_replay import (
    BASE,
    step_add_channel,
    step_add_event,
    step_remove_channel,
    step_remove_event_operation,
)

Doc = dict[str, Any]
CHAT, ALERTS = "consumers/chat.py", "consumers/alerts.py"


class App:
    """A spec file and the app package generated from it, in ``tmp_path``."""

    def __init__(self, root: Path, doc: Doc) -> None:
        self.root, self.doc = root, copy.deepcopy(doc)
        self.spec, self.out = root / "spec.yaml", root / "app"

    def generate(self, **options: Any) -> GenerateResult:
        self.spec.write_text(yaml.safe_dump(self.doc, sort_keys=False), encoding="utf-8")
        result = generate(self.spec, self.out, package="app", **options)
        assert not result.failed, [p.format() for p in result.problems]
        assert result.report is not None
        return result

    def cli(self, *args: str) -> Any:
        self.spec.write_text(yaml.safe_dump(self.doc, sort_keys=False), encoding="utf-8")
        return CliRunner().invoke(main, [*args, str(self.spec), "-o", str(self.out)])

    def read(self, path: str) -> str:
        return (self.out / path).read_text(encoding="utf-8")

    def write(self, path: str, text: str) -> None:
        (self.out / path).write_text(text, encoding="utf-8")

    def run(self, code: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env["PYTHONPATH"] = str(self.root)
        return subprocess.run(
            [sys.executable, "-c", code], cwd=self.root, env=env, capture_output=True, text=True,
            check=False, timeout=120,
        )  # fmt: skip


def notes(result: GenerateResult, code: str) -> list[Any]:
    assert result.report is not None
    return [n for n in result.report.notes if n.code == code]


def line_of(text: str, needle: str) -> int:
    (line,) = [i for i, t in enumerate(text.splitlines(), 1) if needle in t]
    return line


def without_alert_handler(text: str) -> str:
    """The user's edit after G002/G006: the ``chat_alert`` handler and its import deleted."""
    lines = text.splitlines()
    start = line_of(text, '@event_handler("chat_alert")') - 1
    end = start + 2
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith("        ")):
        end += 1
    kept = [t for t in lines[:start] + lines[end:] if t.strip() != "AlertEvent,"]
    text = "\n".join(kept).rstrip("\n") + "\n"
    return text.replace("channel, event_handler, ws_handler", "channel, ws_handler")


def lint(path: Path) -> None:
    """ruff (default rules) and mypy --strict pass on ``path``."""
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ruff.returncode == 0, ruff.stdout
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(path)],
        capture_output=True, text=True, check=False, cwd=path.parent,
    )  # fmt: skip
    assert mypy.returncode == 0, mypy.stdout


# --- gap 1: the event class of a removed event operation -----------------------------------


def test_event_class_is_kept_deprecated_while_imported_then_dropped(tmp_path: Path) -> None:
    app = App(tmp_path, BASE)
    step_add_event(app.doc)
    app.generate()
    before = app.read("generated/messages.py")
    step_remove_event_operation(app.doc)
    result = app.generate()
    assert result.report is not None
    # kept, with the class it needs, each marked deprecated, listed in __all__
    assert result.report.retained == ["AlertEvent", "AlertEventPayload"]
    messages = app.read("generated/messages.py")
    assert messages.count(f'"""{DEPRECATED}"""') == 2
    assert '"AlertEvent",' in messages and '"AlertEventPayload",' in messages
    assert messages != before
    lint(app.out / "generated" / "messages.py")
    # G006 at the import line, beside G002 at the handler
    (g006,) = notes(result, "G006")
    chat = app.read(CHAT)
    assert g006.position is not None
    assert g006.position.file == str(app.out / CHAT)
    assert g006.position.line == line_of(chat, "    AlertEvent,")
    assert "AlertEvent" in g006.message and "no longer defines" in g006.message
    assert g006.hint is not None and "delete" in g006.hint
    assert [n.code for n in notes(result, "G002")] == ["G002"]
    assert app.run("import app.main").returncode == 0
    # deterministic: the next run writes nothing, check fails on G002 and G006 alone
    again = app.generate()
    assert again.report is not None and not again.report.changed
    assert app.read("generated/messages.py") == messages
    check = app.cli("check")
    assert check.exit_code == 1, check.output
    assert "G006" in check.output and "refer to what the spec removed" in check.output
    assert "up to date" not in check.output
    # the user deletes the handler and the import: the class goes, check passes
    app.write(CHAT, without_alert_handler(chat))
    dropped = app.generate()
    assert dropped.report is not None and dropped.report.written == ["generated/messages.py"]
    assert dropped.report.retained == [] and dropped.report.notes == []
    assert "AlertEvent" not in app.read("generated/messages.py")
    assert "Deprecated" not in app.read("generated/messages.py")
    assert app.run("import app.main").returncode == 0
    check = app.cli("check")
    assert check.exit_code == 0, check.output


def test_generate_command_reports_the_kept_class(tmp_path: Path) -> None:
    app = App(tmp_path, BASE)
    step_add_event(app.doc)
    app.generate()
    step_remove_event_operation(app.doc)
    dry = app.cli("generate", "--dry-run")  # computes the same, writes nothing
    assert dry.exit_code == 0, dry.output
    assert "AlertEvent" in app.read("generated/messages.py")
    assert "Deprecated" not in app.read("generated/messages.py")
    result = app.cli("generate")
    assert result.exit_code == 0, result.output
    assert "kept (deprecated, still imported)" in result.output
    assert "AlertEvent, AlertEventPayload" in result.output
    assert f"{app.out / CHAT}:" in result.output and "warning[G006]" in result.output


def test_imports_anywhere_in_the_package_keep_the_class(tmp_path: Path) -> None:
    """A helper module importing the class absolutely keeps it after the handler is gone."""
    app = App(tmp_path, BASE)
    step_add_event(app.doc)
    app.generate()
    app.write(CHAT, without_alert_handler(app.read(CHAT)))
    app.write("tools.py", "from app.generated.messages import AlertEvent\n\nKIND = AlertEvent\n")
    step_remove_event_operation(app.doc)
    result = app.generate()
    assert result.report is not None and result.report.retained == [
        "AlertEvent",
        "AlertEventPayload",
    ]
    (g006,) = notes(result, "G006")
    assert g006.position is not None and g006.position.file == str(app.out / "tools.py")
    assert (g006.position.line, g006.position.col) == (1, 36)
    assert app.run("import app.main, app.tools").returncode == 0


def test_import_of_a_name_never_generated_is_reported(tmp_path: Path) -> None:
    app = App(tmp_path, BASE)
    app.generate()
    chat = app.read(CHAT)
    app.write(CHAT, chat.replace("    PingMessage,\n", "    PingMessage,\n    PingMesage,\n"))
    result = app.generate()
    (g006,) = notes(result, "G006")
    assert "PingMesage" in g006.message and "fails to import" in g006.message
    assert g006.position is not None and g006.position.line == line_of(app.read(CHAT), "PingMesage")
    assert result.report is not None and result.report.retained == []
    assert "PingMesage" not in app.read("generated/messages.py")
    assert app.cli("check").exit_code == 1


# --- gap 2: a removed channel -------------------------------------------------------------


def test_removed_channel_is_reported_until_its_module_is_deleted(tmp_path: Path) -> None:
    app = App(tmp_path, BASE)
    step_add_channel(app.doc)
    app.generate()
    alerts = app.read(ALERTS) + "\nUSER = 1\n"
    app.write(ALERTS, alerts)
    app.write("consumers/helpers.py", "def shared() -> int:\n    return 1\n")  # not a consumer
    step_remove_channel(app.doc)
    result = app.generate()
    (g007,) = notes(result, "G007")
    assert g007.position is not None
    assert g007.position.file == str(app.out / ALERTS)
    assert g007.position.line == line_of(alerts, "class AlertsConsumer")
    assert "consumers/alerts.py" in g007.message and "'alerts'" in g007.message
    assert g007.hint is not None and "delete consumers/alerts.py" in g007.hint
    assert app.read(ALERTS) == alerts  # never rewritten nor deleted
    assert "alerts" not in app.read("generated/routing.py")
    # its imports of the removed contract are not reported again as G006
    assert notes(result, "G006") == []
    assert app.run("import app.main").returncode == 0
    check = app.cli("check")
    assert check.exit_code == 1 and "G007" in check.output, check.output
    generated = app.cli("generate")
    assert generated.exit_code == 0 and "warning[G007]" in generated.output
    (app.out / ALERTS).unlink()
    check = app.cli("check")
    assert check.exit_code == 0, check.output


def test_route_of_a_removed_channel_is_gone_from_the_running_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """main.py (written once) serves ``generated.routing.ROUTES``: after the channel is removed
    its address is refused at the handshake (HTTP 403), the other channels still serve."""
    app = App(tmp_path, BASE)
    step_add_channel(app.doc)
    app.generate()
    main_py = app.read("main.py")
    step_remove_channel(app.doc)
    app.generate()
    assert app.read("main.py") == main_py
    monkeypatch.delenv("REDIS_URL", raising=False)  # in-memory channel layers

    async def probe(url: str) -> tuple[int | None, str]:
        async with websockets.connect(f"{url}/ws/chat") as ws:
            await ws.send('{"action": "ping"}')
            answer = await asyncio.wait_for(ws.recv(), 5)
        try:
            async with websockets.connect(f"{url}/ws/alerts"):
                return None, str(answer)
        except websockets.InvalidStatus as exc:
            return exc.response.status_code, str(answer)

    with uvicorn_server("app.main:app", env={"PYTHONPATH": str(tmp_path)}, cwd=tmp_path) as url:
        status, answer = asyncio.run(probe(url))
    assert status == 403
    assert "chat_ping" in answer  # the stub's not_implemented error frame: chat is served


def test_removed_channel_module_keeps_no_class_alive(tmp_path: Path) -> None:
    """A removed channel's module imports its message classes: they are not kept for it."""
    app = App(tmp_path, BASE)
    step_add_channel(app.doc)
    app.generate()
    step_remove_channel(app.doc)
    result = app.generate()
    assert result.report is not None and result.report.retained == []
    assert "WakeMessage" in app.read(ALERTS)
    assert "class AlarmMessage" not in app.read("generated/messages.py")


# --- gap 3: generate without --client -------------------------------------------------------

CLIENT = "generated/client.py"


def test_client_generated_once_is_kept_current(tmp_path: Path) -> None:
    app = App(tmp_path, BASE)
    first = app.generate(client=True)
    assert first.report is not None and CLIENT in first.report.written
    assert not first.client_kept
    step_add_channel(app.doc)  # a new channel: a new client class
    stale = app.cli("check")  # no flag: the existing client is checked too
    assert stale.exit_code == 1 and f"stale {app.out / CLIENT}" in stale.output, stale.output
    result = app.generate()  # no flag
    assert result.client_kept
    assert result.report is not None and CLIENT in result.report.written
    assert "class AlertsClient" in app.read(CLIENT)
    again = app.cli("generate")
    assert again.exit_code == 0, again.output
    assert f"{app.out / CLIENT} exists: kept current with the spec" in again.output
    assert "0 generated" in again.output
    assert app.cli("check").exit_code == 0
    assert app.run("import app.generated.client").returncode == 0


def test_client_is_not_created_without_the_flag(tmp_path: Path) -> None:
    app = App(tmp_path, BASE)
    result = app.cli("generate")
    assert result.exit_code == 0, result.output
    assert not (app.out / CLIENT).exists() and "client.py" not in result.output
    assert app.cli("check").exit_code == 0


def test_no_client_removes_it_and_reports_its_importers(tmp_path: Path) -> None:
    app = App(tmp_path, BASE)
    app.generate(client=True)
    app.write("demo.py", "from .generated.client import ChatClient\n\nCLIENT = ChatClient\n")
    (app.out / CLIENT).write_text("# stale\n", encoding="utf-8")
    check = app.cli("check", "--no-client")  # fails like generate --no-client would change
    assert check.exit_code == 1, check.output
    assert f"stale {app.out / CLIENT} (--no-client)" in check.output
    assert f"{app.out / 'demo.py'}:1:" in check.output and "warning[G006]" in check.output
    assert app.cli("check").exit_code == 1  # without the flag: the stale client is compared
    dry = app.cli("generate", "--no-client", "--dry-run")
    assert dry.exit_code == 0 and f"would remove {app.out / CLIENT}" in dry.output, dry.output
    assert (app.out / CLIENT).is_file()
    removed = app.cli("generate", "--no-client")
    assert removed.exit_code == 0, removed.output
    assert f"removed {app.out / CLIENT} (--no-client)" in removed.output
    assert "1 removed" in removed.output
    assert f"{app.out / 'demo.py'}:1:" in removed.output and "warning[G006]" in removed.output
    assert not (app.out / CLIENT).exists()
    assert app.read("demo.py").startswith("from .generated.client import ChatClient")
    # gone for good: the next run neither recreates nor mentions it
    result = app.generate()
    assert result.report is not None and not result.report.changed and not result.client_kept
    assert not (app.out / CLIENT).exists()


def test_client_false_in_config_removes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = App(tmp_path, BASE)
    app.generate(client=True)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.chanspec]\nspec = "spec.yaml"\noutput = "app"\nclient = false\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["generate"])
    assert result.exit_code == 0, result.output
    assert "removed" in result.output and not (app.out / CLIENT).exists()


def test_kept_class_brings_its_enum_nested_classes_and_imports(tmp_path: Path) -> None:
    """The kept event needs classes and imports (Enum, Field, AwareDatetime) nothing else in
    the new generated/messages.py uses: they come along, and the module is ruff and
    mypy --strict clean."""
    doc = copy.deepcopy(BASE)
    doc["components"]["messages"]["alert"] = {
        "payload": {
            "type": "object",
            "description": 'Raised when """something""" happens.',
            "required": ["level", "at"],
            "properties": {
                "level": {"type": "string", "enum": ["low", "high"]},
                "at": {"type": "string", "format": "date-time"},
                "tags": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                "origin": {"type": "object", "properties": {"host": {"type": "string"}}},
            },
        },
    }
    app = App(tmp_path, doc)
    step_add_event(app.doc)
    app.generate()
    step_remove_event_operation(app.doc)
    result = app.generate()
    assert result.report is not None
    assert result.report.retained == ["AlertEvent", "AlertEventLevel", "AlertEventOrigin"]
    messages = app.read("generated/messages.py")
    for name in ("class AlertEventLevel(Enum)", "AwareDatetime", "Field(", "min_length=1"):
        assert name in messages, name
    assert f'"""{DEPRECATED}\n\n    Raised when \\"\\"\\"something\\"\\"\\" happens.' in messages
    lint(app.out / "generated" / "messages.py")
    assert app.run("import app.main").returncode == 0
    again = app.generate()
    assert again.report is not None and not again.report.changed


def test_keep_classes_marks_once_and_replaces_an_older_marker() -> None:
    old = (
        '"""Models."""\n\nfrom chanspec.runtime import Message\n\n\n'
        "class Gone(Message):\n"
        '    """Deprecated: older words (chanspec G006).\n\n    What it was.\n    """\n\n'
        "    n: int\n\n\n"
        "class Plain(Message):\n    n: int\n\n\n"
        '__all__ = ["Gone", "Plain"]\n'
    )
    new = '"""Models."""\n\n__all__: list[str] = []\n'
    text, kept = keep_classes(old, new, {"Gone", "Plain", "Never"})
    assert kept == ["Gone", "Plain"]
    assert text.count("Deprecated:") == 2 and "older words" not in text
    assert f'"""{DEPRECATED}\n\n    What it was.\n    """' in text
    assert f'class Plain(Message):\n    """{DEPRECATED}"""' in text
    assert "from chanspec.runtime import Message" in text
    assert text.endswith("__all__ = ['Gone', 'Plain']\n")  # unformatted: ruff runs afterwards
    again, _ = keep_classes(text, new, {"Gone", "Plain"})
    assert again == text  # marked once: the next run keeps the same bytes
