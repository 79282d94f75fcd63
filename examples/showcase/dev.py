"""Development launcher: the showcase server and, with Redis, its arq worker.

    python -m examples.showcase.dev [--port 8000]

Without ``REDIS_URL`` only the server runs (in-memory layers; jobs run in the server). With it,
the arq worker runs too. Ctrl+C (or SIGTERM) stops both; if either exits, the other is stopped.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

__all__ = ["main"]


def _stop(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    """Start server (+ worker), supervise them, stop both cleanly; returns the exit code."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    procs: list[subprocess.Popen[bytes]] = []
    if os.environ.get("REDIS_URL"):
        worker = [sys.executable, "-m", "arq", "examples.showcase.jobs.WorkerSettings"]
        procs.append(subprocess.Popen(worker))
    server = [sys.executable, "-m", "uvicorn", "examples.showcase.main:app",
              "--host", args.host, "--port", str(args.port)]  # fmt: skip
    procs.append(subprocess.Popen(server))

    def stop_all(*_: object) -> None:
        for proc in reversed(procs):
            _stop(proc)

    def on_term(*_: object) -> None:
        stop_all()
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop_all()
    return max((p.returncode or 0) for p in procs)


if __name__ == "__main__":
    sys.exit(main())
