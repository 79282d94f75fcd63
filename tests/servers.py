"""Real processes for tests: redis-server and uvicorn on free loopback ports.

No fakes: a missing ``redis-server`` binary fails the test that needs it with a clear message
(CI installs it with apt-get), it never skips.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port} after {timeout}s")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class RedisServer:
    """A redis-server process on a free port with persistence off."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed: apt-get install -y redis-server (.ci/run does)"
            )
        self.binary = binary
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="chanspec-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(self.port, self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def flush(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            client.flushall()
        finally:
            client.close()


@contextlib.contextmanager
def uvicorn_server(
    app: str, env: dict[str, str] | None = None, cwd: Path = REPO, output: IO[bytes] | None = None
) -> Iterator[str]:
    """Run ``uvicorn app`` on a free port; yields ``ws://127.0.0.1:<port>``. ``output``: a file
    for the server's stdout and stderr (default: the test's own)."""
    port = free_port()
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("PYTHONPATH", str(cwd))
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"],
        cwd=cwd, env=full_env, stdout=output, stderr=subprocess.STDOUT if output else None,
    )  # fmt: skip
    try:
        wait_port(port, proc)
        yield f"ws://127.0.0.1:{port}"
    finally:
        stop(proc)


@contextlib.contextmanager
def background(
    cmd: list[str], env: dict[str, str] | None = None, cwd: Path = REPO
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a helper process (e.g. an arq worker) for the duration of the block."""
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("PYTHONPATH", str(cwd))
    proc = subprocess.Popen(cmd, cwd=cwd, env=full_env)
    try:
        yield proc
    finally:
        stop(proc)
