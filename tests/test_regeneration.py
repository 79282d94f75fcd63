"""Regeneration after spec edits: new operations gain stubs, user lines are never lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from .servers import REPO

SPEC = REPO / "specs" / "showcase.asyncapi.yaml"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["PYTHONPATH"] = str(cwd)
    return subprocess.run(
        [sys.executable, "-m", "chanspec.codegen", *args],
        cwd=cwd, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def edit_spec(path: Path, change: object) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


def test_new_operation_gets_a_stub_and_user_code_stays(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.read_text())
    assert run("generate", str(spec), "-o", "app", cwd=tmp_path).returncode == 0
    system = tmp_path / "app" / "consumers" / "system.py"
    user = system.read_text().replace(
        '        raise NotImplementedError("system_ping")',
        "        # the user's own comment\n        return PongMessage()  # user line",
    )
    system.write_text(user)

    def add_operation(doc: dict) -> None:  # type: ignore[type-arg]
        doc["components"]["messages"]["shout"] = {
            "name": "shout",
            "payload": {
                "type": "object",
                "properties": {"action": {"type": "string", "const": "shout"}},
                "required": ["action"],
            },
        }
        doc["channels"]["system"]["messages"]["shout"] = {"$ref": "#/components/messages/shout"}
        doc["operations"]["system_shout"] = {
            "action": "receive",
            "channel": {"$ref": "#/channels/system"},
            "messages": [{"$ref": "#/channels/system/messages/shout"}],
            "reply": {
                "channel": {"$ref": "#/channels/system"},
                "messages": [{"$ref": "#/channels/system/messages/system_echo"}],
            },
        }
        del doc["operations"]["system_user_message"]

    edit_spec(spec, add_operation)
    check = run("check", str(spec), "-o", "app", cwd=tmp_path)
    assert check.returncode == 1
    assert "missing app/consumers/system.py: system_shout" in check.stdout
    result = run("generate", str(spec), "-o", "app", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "added stubs to app/consumers/system.py: system_shout" in result.stdout
    assert "G002" in result.stderr and "system_user_message" in result.stderr
    updated = system.read_text()
    lines = iter(updated.splitlines())
    assert all(any(line == c for c in lines) for line in user.splitlines())  # in order
    assert '    @ws_handler("system_shout")' in updated
    assert "async def shout(self, message: ShoutMessage) -> SystemEchoMessage:" in updated
    assert "from ..generated.messages import ShoutMessage" in updated
    stale = run("check", str(spec), "-o", "app", cwd=tmp_path)
    assert stale.returncode == 1  # the handler of the removed operation is still there
    assert "1 handler(s) do not match the spec" in stale.stderr
    again = run("generate", str(spec), "-o", "app", cwd=tmp_path)
    assert system.read_text() == updated and "0 updated" in again.stdout
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "app"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert mypy.returncode == 0, mypy.stdout


def test_changed_reply_is_reported_with_the_method_location(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.read_text())
    assert run("generate", str(spec), "-o", "app", cwd=tmp_path).returncode == 0

    def change_reply(doc: dict) -> None:  # type: ignore[type-arg]
        reply = doc["operations"]["system_ping"]["reply"]
        reply["messages"] = [{"$ref": "#/channels/system/messages/system_echo"}]

    edit_spec(spec, change_reply)
    before = (tmp_path / "app" / "consumers" / "system.py").read_text()
    result = run("generate", str(spec), "-o", "app", cwd=tmp_path)
    assert result.returncode == 0
    assert "G003" in result.stderr
    line = next(i for i, t in enumerate(before.splitlines(), 1) if "async def ping" in t)
    assert f"consumers/system.py:{line}:" in result.stderr
    assert "spec says (PingMessage) -> SystemEchoMessage" in result.stderr
    assert (tmp_path / "app" / "consumers" / "system.py").read_text() == before


def test_mark_stale_comments_removed_and_changed_handlers_once(tmp_path: Path) -> None:
    """``--mark-stale`` adds one ``# chanspec G00x`` comment line above each mismatched
    handler, above its decorator, keeps every user line, and is idempotent."""
    spec = tmp_path / "spec.yaml"
    spec.write_text((REPO / "specs/trading-feed.asyncapi.yaml").read_text())
    assert run("generate", str(spec), "-o", "app", cwd=tmp_path).returncode == 0
    orders = tmp_path / "app/consumers/orders.py"
    user = orders.read_text()

    def edit(doc: dict[str, Any]) -> None:
        del doc["operations"]["cancelOrder"]
        doc["operations"]["addOrder"]["reply"]["messages"] = [
            {"$ref": "#/channels/orders/messages/cancelOrderStatus"}
        ]

    edit_spec(spec, edit)
    plain = run("generate", str(spec), "-o", "app", cwd=tmp_path)
    assert plain.returncode == 0 and orders.read_text() == user  # no marks unless asked
    marked = run("generate", str(spec), "-o", "app", "--mark-stale", cwd=tmp_path)
    assert marked.returncode == 0
    assert "marked app/consumers/orders.py: add_order, cancel_order" in marked.stdout
    text = orders.read_text()
    assert (
        "    # chanspec G003: the spec says (AddOrderMessage) -> CancelOrderStatusMessage\n"
        '    @ws_handler("addOrder")\n'
    ) in text
    assert (
        "    # chanspec G002: operation 'cancelOrder' is no longer in the spec\n"
        '    @ws_handler("cancelOrder")\n'
    ) in text
    lines = iter(text.splitlines())
    assert all(any(line == c for c in lines) for line in user.splitlines())
    again = run("generate", str(spec), "-o", "app", "--mark-stale", cwd=tmp_path)
    assert again.returncode == 0 and orders.read_text() == text and "marked" not in again.stdout
    check = run("check", str(spec), "-o", "app", cwd=tmp_path)
    assert check.returncode == 1 and "2 handler(s) do not match the spec" in check.stderr
