"""``chanspec generate --watch``: regenerate on spec edits, survive bad edits, stop cleanly."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from chanspec.codegen.cli import WatchRun, watch_spec

from .servers import REPO

SHOWCASE = REPO / "specs" / "showcase.asyncapi.yaml"
LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): error\[L\d{3}\] ")


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
    }


def next_run(runs: queue.Queue[WatchRun], deadline: float) -> WatchRun:
    return runs.get(timeout=max(0.1, deadline - time.monotonic()))


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_watch_regenerates_reports_bad_edits_and_stops(tmp_path: Path) -> None:
    spec = tmp_path / "spec" / "api.asyncapi.yaml"
    spec.parent.mkdir()
    spec.write_text(SHOWCASE.read_text())
    out = tmp_path / "app"
    system = out / "consumers" / "system.py"
    runs: queue.Queue[WatchRun] = queue.Queue()
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            watch_spec(spec, out, stop_event=stop, on_run=runs.put, debounce_ms=400)
        except BaseException as exc:  # surfaced by the assertions below
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        first = next_run(runs, time.monotonic() + 10)
        assert first.exit_code == 0 and first.changed == ()
        assert "system_shout" not in system.read_text()
        time.sleep(0.3)  # let the watcher start before the first edit

        doc = yaml.safe_load(spec.read_text())
        add_operation(doc)
        spec.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        deadline = time.monotonic() + 10
        while '@ws_handler("system_shout")' not in system.read_text():
            assert time.monotonic() < deadline, "no stub for system_shout within 10 s"
            time.sleep(0.1)
        run = next_run(runs, deadline)
        while run.result is None or run.result.report is None or not run.result.report.updated:
            run = next_run(runs, deadline)
        assert run.exit_code == 0 and spec.resolve() in {p.resolve() for p in run.changed}
        assert 'raise NotImplementedError("system_shout")' in system.read_text()
        before = tree(out)

        spec.write_text(spec.read_text() + "  broken: [unclosed\n")
        deadline = time.monotonic() + 10
        run = next_run(runs, deadline)
        while run.exit_code == 0:  # a partial write may be seen first; wait for the bad spec
            run = next_run(runs, deadline)
        assert run.error is None and run.result is not None
        located = [m for p in run.result.problems if (m := LOCATED.match(p.format()))]
        assert located, [p.format() for p in run.result.problems]
        assert Path(located[0]["file"]).name == spec.name and int(located[0]["line"]) > 1
        assert tree(out) == before
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive(), "watch did not stop when the event was set"
    assert errors == []
    assert tree(out) == before


def test_a_pipeline_exception_is_reported_and_the_watch_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chanspec.codegen import cli

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("pipeline bug")

    monkeypatch.setattr(cli, "generate", boom)
    spec = tmp_path / "api.yaml"
    spec.write_text("asyncapi: 3.0.0\n")
    runs: queue.Queue[WatchRun] = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(
        target=watch_spec,
        args=(spec, tmp_path / "app"),
        kwargs={"stop_event": stop, "on_run": runs.put, "debounce_ms": 400},
        daemon=True,
    )
    thread.start()
    try:
        first = runs.get(timeout=10)
        assert first.exit_code == 1 and isinstance(first.error, RuntimeError)
        time.sleep(0.3)
        spec.write_text("asyncapi: 3.0.0\ninfo: {}\n")
        again = runs.get(timeout=10)
        assert again.exit_code == 1 and again.changed and thread.is_alive()
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert not (tmp_path / "app").exists()


def test_ctrl_c_exits_0(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SHOWCASE.read_text())
    config = '[tool.chanspec]\nspec = "spec.yaml"\noutput = "app"\n'
    (tmp_path / "pyproject.toml").write_text(config)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "CHANSPEC_"))}
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "chanspec.codegen", "generate", "--watch"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 15
        for line in proc.stdout:
            if line.startswith("watching "):
                break
            assert time.monotonic() < deadline
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "stopped watching" in out
    assert (tmp_path / "app" / "consumers" / "system.py").is_file()
