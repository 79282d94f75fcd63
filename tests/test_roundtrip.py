"""The doc round trip: the emitted document equals the spec, and drift in user code shows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from .conftest import connect
from .servers import REPO, uvicorn_server

SCHEMA = REPO.parent / "shared" / "corpus" / "_schemas" / "3.0.0-without-$id.json"
SPEC = REPO / "specs" / "showcase.asyncapi.yaml"


def chanspec(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["PYTHONPATH"] = str(cwd)
    return subprocess.run(
        [sys.executable, "-m", "chanspec.codegen", *args],
        cwd=cwd, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def test_showcase_app_matches_its_spec() -> None:
    result = chanspec("diff", "specs/showcase.asyncapi.yaml", "examples.showcase.main:app")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == (
        "No differences between specs/showcase.asyncapi.yaml and examples.showcase.main:app."
    )


def test_emitted_document_is_valid_asyncapi_3(tmp_path: Path) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"the shared corpus is absent ({SCHEMA}); CI runs this with it")
    out = tmp_path / "doc.json"
    assert chanspec("emit", "examples.showcase.main:app", "-o", str(out)).returncode == 0
    document = json.loads(out.read_text())
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    assert len(document["channels"]) == 7 and len(document["operations"]) == 28
    yaml_text = chanspec("emit", "examples.showcase.main:app", "--format", "yaml").stdout
    assert "&id" not in yaml_text and "*id" not in yaml_text


@pytest.fixture
def fresh_app(tmp_path: Path) -> Path:
    result = chanspec("generate", str(SPEC), "-o", str(tmp_path / "app"))
    assert result.returncode == 0, result.stderr
    return tmp_path


def test_changed_reply_type_is_reported(fresh_app: Path) -> None:
    system = fresh_app / "app" / "consumers" / "system.py"
    text = system.read_text()
    changed = text.replace(
        "async def ping(self, message: PingMessage) -> PongMessage:",
        "async def ping(self, message: PingMessage) -> SystemEchoMessage:",
    )
    assert changed != text
    system.write_text(changed)
    result = chanspec("diff", str(SPEC), "app.main:app", cwd=fresh_app)
    assert result.returncode == 1
    assert "changed /operations/system_ping/reply/messages" in result.stdout
    assert '["pong"] -> ["system_echo"]' in result.stdout
    assert re.search(r"showcase\.asyncapi\.yaml:\d+:\d+", result.stdout)


def test_removed_handler_is_reported(fresh_app: Path) -> None:
    system = fresh_app / "app" / "consumers" / "system.py"
    text = system.read_text()
    start = text.index('    @ws_handler("system_user_message")')
    end = text.index('raise NotImplementedError("system_user_message")')
    end = text.index("\n", end) + 1
    system.write_text(text[:start] + text[end:])
    result = chanspec("diff", str(SPEC), "app.main:app", "--format", "json", cwd=fresh_app)
    assert result.returncode == 1
    diffs = json.loads(result.stdout)
    assert {"pointer": "/operations/system_user_message", "change": "removed"}.items() <= (
        diffs[0].items()
    )
    assert len(diffs) == 1


async def test_unfilled_stub_answers_with_an_error_frame(fresh_app: Path) -> None:
    env = {"PYTHONPATH": str(fresh_app)}
    os.environ.pop("REDIS_URL", None)
    with uvicorn_server("app.main:app", env, cwd=fresh_app) as url:
        client = await connect(f"{url}/ws/system")
        await client.send({"action": "ping"})
        assert await client.recv() == {
            "action": "error",
            "payload": {
                "code": "not_implemented",
                "detail": "operation 'system_ping' is not implemented",
            },
        }
        await client.send({"action": "ping"})  # still open
        assert (await client.recv())["payload"]["code"] == "not_implemented"
        await client.close()
