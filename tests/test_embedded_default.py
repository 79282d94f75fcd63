"""With no Redis at all the generated app runs on in-memory layers and says so once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import yaml

from .conftest import connect
from .servers import REPO, free_port, stop, wait_port


def build_document_of_showcase() -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "chanspec.codegen", "emit", "examples.showcase.main:app"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    document: dict[str, object] = json.loads(result.stdout)
    return document


async def test_showcase_runs_without_redis() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "CHANSPEC_"))}
    env["PYTHONPATH"] = str(REPO)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "examples.showcase.main:app", "--port", str(port)],
        cwd=REPO, env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_port(port, proc)  # type: ignore[arg-type]
        base = f"ws://127.0.0.1:{port}"
        system = await connect(f"{base}/ws/system")
        await system.send({"action": "user_message", "payload": {"message": "offline"}})
        assert (await system.recv())["payload"]["message"] == "🔧 System Echo: offline"
        first = await connect(f"{base}/ws/chat")
        await first.nothing(0.1)
        second = await connect(f"{base}/ws/chat")
        assert "joined" in (await first.recv())["payload"]["message"]
        await second.send({"action": "chat", "payload": {"message": "local"}})
        assert (await first.recv())["payload"]["message"] == "💬 local"
        jobs = await connect(f"{base}/ws/background_jobs")
        await jobs.send({"action": "job", "payload": {"type": "translate", "content": "world"}})
        assert (await jobs.recv())["payload"]["status"] == "queued"
        done = await jobs.recv(timeout=10)
        assert done["payload"]["result"] == "🌍 Translated: 'world' → 'mundo'"
        for client in (system, first, second, jobs):
            await client.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/asyncapi.json", timeout=5) as r:
            served = json.loads(r.read())
        assert served == build_document_of_showcase()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/asyncapi.yaml", timeout=5) as r:
            assert r.headers["content-type"].startswith("application/yaml")
            assert yaml.safe_load(r.read()) == served
    finally:
        stop(proc)  # type: ignore[arg-type]
    assert proc.stderr is not None
    log = proc.stderr.read()
    assert log.count("no REDIS_URL set") == 1, log
    assert "chat, notifications, queue, analytics run in memory" in log
