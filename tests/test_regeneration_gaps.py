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


def place(text: str, needle: str, at: str) -> tuple[int, int]:
    """(line, 1-based column of ``at``) on the only line holding ``needle``."""
    line = line_of(text, needle)
    return line, text.splitlines()[line - 1].index(at) + 1


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


# --- generated modules the spec no longer produces ---------------------------------------------

SECURITY = "generated/security.py"
SECURED_SPEC = Path(__file__).parent / "golden" / "security" / "spec.asyncapi.yaml"
#: Lines a user adds to the generated auth.py: a filled-in verifier and uses of the schemes.
AUTH_ADDITIONS = '''

def scheme_names() -> list[str]:
    """Names of the schemes, for an admin page."""
    from .generated.security import API_KEY
    from .generated import security as schemes

    return [API_KEY.name, schemes.BEARER.name]
'''


def without_security(doc: Doc) -> None:
    """The spec edit: no server and no operation requires a security scheme any more (the
    scheme declarations stay under components)."""
    for server in doc["servers"].values():
        server.pop("security", None)
    for operation in doc["operations"].values():
        operation.pop("security", None)


def test_security_module_goes_when_the_spec_drops_security_auth_py_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = App(tmp_path, yaml.safe_load(SECURED_SPEC.read_text(encoding="utf-8")))
    app.generate()
    auth = (
        app.read("auth.py").replace(
            'raise NotImplementedError("verify_api_key")',
            "return 'alice' if credentials == 'k-alice' else None",
        )
        + AUTH_ADDITIONS
    )
    assert "return 'alice'" in auth
    app.write("auth.py", auth)
    without_security(app.doc)
    # check fails while the module the spec no longer produces is there
    check = app.cli("check")
    assert check.exit_code == 1, check.output
    assert f"stale {app.out / SECURITY} (the spec no longer generates it)" in check.output
    dry = app.cli("generate", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"would remove {app.out / SECURITY} (the spec no longer generates it)" in dry.output
    assert (app.out / SECURITY).is_file()
    result = app.generate()
    assert result.report is not None and result.report.removed == [SECURITY]
    assert not (app.out / SECURITY).exists()
    assert "security" not in app.read("generated/channels.py")
    assert app.read("auth.py") == auth  # yours: never rewritten nor deleted
    # G006 at both imports of the removed module (from-import and module import) ...
    g006 = notes(result, "G006")
    assert [(n.position.line, n.position.col) for n in g006 if n.position] == [
        place(auth, "import API_KEY", "API_KEY"),
        place(auth, "import security as schemes", "security as"),
    ]
    assert all(n.position and n.position.file == str(app.out / "auth.py") for n in g006)
    assert "imports API_KEY from generated/security.py, which chanspec generate removes" in (
        g006[0].message
    )
    assert "imports generated/security.py" in g006[1].message
    assert all("raises ImportError when its function runs" in n.message for n in g006)
    assert "schemes.BEARER" not in " ".join(n.message for n in g006)  # the import says it
    # ... and G008 at the first verifier of auth.py: the app no longer calls it
    (g008,) = notes(result, "G008")
    assert g008.position is not None and g008.position.file == str(app.out / "auth.py")
    assert g008.position.line == line_of(auth, "async def verify_api_key")
    assert "auth.py is kept" in g008.message and "verify_api_key" in g008.message
    assert "connections are accepted without authentication" in g008.message
    assert g008.hint is not None and "delete auth.py" in g008.hint
    # the app imports; the user's function fails when called, as G006 said
    assert app.run("import app.main, app.auth").returncode == 0
    call = app.run("import app.auth; app.auth.scheme_names()")
    assert call.returncode == 1 and "ModuleNotFoundError" in call.stderr
    # the next run: nothing to remove, G006 stays (the module is not there), G008 was said once
    again = app.generate()
    assert again.report is not None and not again.report.changed
    assert [n.code for n in again.report.notes] == ["G006", "G006"]
    assert "which is not there" in again.report.notes[0].message
    check = app.cli("check")
    assert check.exit_code == 1 and "stale" not in check.output, check.output
    assert "2 import(s) or module(s) refer to what the spec removed" in check.output
    app.write("auth.py", auth.replace(AUTH_ADDITIONS, ""))
    check = app.cli("check")
    assert check.exit_code == 0, check.output
    # the running app no longer asks for credentials (before: HTTP 401, see test_auth.py)
    monkeypatch.delenv("REDIS_URL", raising=False)

    async def ping(url: str) -> str:
        async with websockets.connect(f"{url}/ws/chat") as ws:
            await ws.send('{"action": "ping"}')
            return str(await asyncio.wait_for(ws.recv(), 5))

    with uvicorn_server("app.main:app", env={"PYTHONPATH": str(tmp_path)}, cwd=tmp_path) as url:
        assert "chat_ping" in asyncio.run(ping(url))  # the stub's not_implemented frame


def test_security_module_comes_back_with_the_spec(tmp_path: Path) -> None:
    """Dropping security and restoring it: generated/security.py is rendered again, auth.py
    (kept all along) is what it imports, the user's verifier body intact."""
    doc = yaml.safe_load(SECURED_SPEC.read_text(encoding="utf-8"))
    app = App(tmp_path, doc)
    app.generate()
    auth = app.read("auth.py").replace('raise NotImplementedError("verify_bearer")', "return 1")
    assert "return 1" in auth
    app.write("auth.py", auth)
    without_security(app.doc)
    app.generate()
    assert not (app.out / SECURITY).exists()
    app.doc = copy.deepcopy(doc)
    back = app.generate()
    assert back.report is not None and SECURITY in back.report.written
    assert back.report.notes == [] and app.read("auth.py") == auth
    assert app.cli("check").exit_code == 0
    assert app.run("import app.main").returncode == 0


def test_any_file_chanspec_wrote_and_no_longer_renders_is_removed(tmp_path: Path) -> None:
    """Not a special case of security.py: a module an older chanspec wrote (its header) goes;
    a file of yours under generated/ (no header) stays and is never reported."""
    app = App(tmp_path, BASE)
    app.generate()
    header = app.read("generated/routing.py").splitlines()[0]
    assert header.startswith("# Generated by chanspec from ")
    app.write("generated/legacy.py", f"{header}\n\nOLD = 1\n")
    app.write("generated/mine.py", "MINE = 1\n")
    (app.out / "generated" / "latin.py").write_bytes(b"# \xe9 not utf-8\n")
    app.write(
        "tools.py", "from app.generated.legacy import OLD\nfrom app.generated.mine import MINE\n"
    )
    check = app.cli("check")
    assert check.exit_code == 1 and f"stale {app.out / 'generated' / 'legacy.py'}" in check.output
    result = app.generate()
    assert result.report is not None and result.report.removed == ["generated/legacy.py"]
    assert not (app.out / "generated" / "legacy.py").exists()
    assert app.read("generated/mine.py") == "MINE = 1\n"
    assert (app.out / "generated" / "latin.py").is_file()
    (g006,) = notes(result, "G006")
    assert g006.position is not None and (g006.position.line, g006.position.col) == (1, 34)
    assert "OLD from generated/legacy.py" in g006.message
    assert "the module fails to import" in g006.message
    assert notes(result, "G008") == []
    app.write("tools.py", "from app.generated.mine import MINE\n")
    assert app.cli("check").exit_code == 0
    assert app.run("import app.main, app.tools").returncode == 0


def test_stale_generated_reads_only_first_lines_under_generated(tmp_path: Path) -> None:
    from chanspec.codegen.removed import HEADER, stale_generated

    out = tmp_path / "app"
    assert stale_generated(out, set()) == []  # no generated/ yet
    (out / "generated" / "__pycache__").mkdir(parents=True)
    (out / "generated" / "sub").mkdir()
    for path, text in {
        "generated/a.py": f"{HEADER} from s.yaml. DO NOT EDIT.\n",
        "generated/b.py": f"{HEADER} from s.yaml. DO NOT EDIT.\n",
        "generated/sub/c.py": f"{HEADER} from s.yaml. DO NOT EDIT.\n",
        "generated/__pycache__/d.py": f"{HEADER}\n",
        "generated/e.txt": f"{HEADER}\n",
        "generated/f.py": f"x = 1\n{HEADER}\n",
        "consumers.py": f"{HEADER}\n",
    }.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_text(text, encoding="utf-8")
    assert stale_generated(out, {"generated/b.py"}) == ["generated/a.py", "generated/sub/c.py"]


# --- G006 through a module alias ---------------------------------------------------------------

ALIAS_FORMS = {
    "import-as": ("tools.py", "import app.generated.messages as m\n\nKIND = m.AlertEvent\n"),
    "import-dotted": (
        "tools.py",
        "import app.generated.messages\n\nKIND = app.generated.messages.AlertEvent\n",
    ),
    "from-relative-package": (
        "consumers/helpers.py",
        "from ..generated import messages\n\nKIND = messages.AlertEvent\n",
    ),
    "from-absolute-package-as": (
        "tools.py",
        "from app.generated import messages as msgs\n\nKIND = msgs.AlertEvent\n",
    ),
}


@pytest.mark.parametrize("form", sorted(ALIAS_FORMS))
def test_attribute_of_a_module_alias_keeps_the_class(tmp_path: Path, form: str) -> None:
    path, text = ALIAS_FORMS[form]
    app = App(tmp_path, BASE)
    step_add_event(app.doc)
    app.generate()
    app.write(CHAT, without_alert_handler(app.read(CHAT)))  # only the alias keeps it alive
    app.write(path, text)
    step_remove_event_operation(app.doc)
    result = app.generate()
    assert result.report is not None
    assert result.report.retained == ["AlertEvent", "AlertEventPayload"]
    (g006,) = notes(result, "G006")
    assert g006.position is not None and g006.position.file == str(app.out / path)
    spelled = text.splitlines()[-1].removeprefix("KIND = ")
    assert (g006.position.line, g006.position.col) == (3, 8 + len(spelled) - len("AlertEvent"))
    assert f"uses {spelled} (AlertEvent of generated/messages.py)" in g006.message
    assert "keeps it, deprecated" in g006.message
    module = "app." + path.removesuffix(".py").replace("/", ".")
    assert app.run(f"import app.main, {module}").returncode == 0
    assert app.cli("check").exit_code == 1
    # the use goes, the class goes
    app.write(path, text.splitlines()[0] + "\n")
    dropped = app.generate()
    assert dropped.report is not None and dropped.report.retained == []
    assert dropped.report.notes == []
    assert "AlertEvent" not in app.read("generated/messages.py")
    assert app.cli("check").exit_code == 0


def test_attribute_uses_are_reported_once_at_the_first_and_dunders_ignored(
    tmp_path: Path,
) -> None:
    app = App(tmp_path, BASE)
    app.generate()
    app.write(
        "tools.py",
        "import app.generated.messages as m\n"
        "\n"
        "NAME = m.__name__\n"
        "A = m.PingMessage\n"
        "def later() -> object:\n"
        "    return m.PingMesage, m.PingMesage.model_fields\n"
        "B = (m.PingMesage)\n",
    )
    result = app.generate()
    (g006,) = notes(result, "G006")
    assert g006.position is not None and (g006.position.line, g006.position.col) == (6, 14)
    assert "uses m.PingMesage (PingMesage of generated/messages.py)" in g006.message
    assert "m.PingMesage raises AttributeError" in g006.message
    assert result.report is not None and result.report.retained == []
    assert app.cli("check").exit_code == 1


def test_module_import_of_the_removed_client_is_reported(tmp_path: Path) -> None:
    app = App(tmp_path, BASE)
    app.generate(client=True)
    app.write("demo.py", "import app.generated.client as c\n\nCLIENT = c.ChatClient\n")
    result = app.generate(client=False)
    assert result.report is not None and result.report.removed == [CLIENT]
    (g006,) = notes(result, "G006")
    assert g006.position is not None and (g006.position.line, g006.position.col) == (1, 8)
    assert "imports generated/client.py, which chanspec generate removes (--no-client)" in (
        g006.message
    )
    assert g006.hint is not None and "--client" in g006.hint
    assert notes(result, "G008") == []  # client.py imports no module of yours
