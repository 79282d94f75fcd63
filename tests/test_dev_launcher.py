"""The showcase dev launcher starts the server and the arq worker and stops both cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from .conftest import connect
from .servers import REPO, free_port, wait_port


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_dev_launcher_runs_server_and_worker_and_stops_both(redis_url: str) -> None:
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "PYTHONPATH": str(REPO)}
    launcher = subprocess.Popen(
        [sys.executable, "-m", "examples.showcase.dev", "--port", str(port)],
        cwd=REPO, env=env,
    )  # fmt: skip
    try:
        wait_port(port, launcher)
        kids = children(launcher.pid)
        commands = [Path(f"/proc/{k}/cmdline").read_bytes().replace(b"\0", b" ") for k in kids]
        assert any(b"arq" in c for c in commands), commands
        assert any(b"uvicorn" in c for c in commands), commands
        client = await connect(f"ws://127.0.0.1:{port}/ws/background_jobs")
        await client.send({"action": "job", "payload": {"type": "translate", "content": "hello"}})
        assert (await client.recv())["payload"]["status"] == "queued"
        assert (await client.recv(timeout=15))["payload"]["status"] == "done"  # via the worker
        await client.close()
    finally:
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(20) == 0
    assert not [k for k in kids if alive(k)]
