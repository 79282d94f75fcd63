"""``chanspec init``: the scaffolded project generates, imports, checks and diffs clean.

Every command runs as a real ``chanspec`` subprocess in a temporary directory; the pre-commit
hook and the CI workflow are read from the files ``init`` wrote and their commands run as
pre-commit (``language: system``, no file names) and the CI runner would run them.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from chanspec.codegen.init_command import SPEC_PATH, project_files, project_name

from .servers import REPO

STARTER = ["pyproject.toml", SPEC_PATH, ".pre-commit-config.yaml", ".github/workflows/chanspec.yml"]


def chanspec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTHONPATH")}
    return subprocess.run(
        ["chanspec", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def run_line(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one command line the way a CI runner or pre-commit does (no shell features used)."""
    argv = shlex.split(line)
    assert argv[0] == "chanspec", line
    return chanspec(*argv[1:], cwd=cwd)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """``chanspec init chat-service`` then ``chanspec generate`` with no arguments."""
    made = chanspec("init", "chat-service", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    root = tmp_path / "chat-service"
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == sorted(
        STARTER
    )
    for path in STARTER:
        assert f"created {Path('chat-service') / path}" in made.stdout
    generated = chanspec("generate", cwd=root)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "created app/consumers/room.py" in generated.stdout
    return root


def test_init_then_generate_import_check_diff(project: Path) -> None:
    settings = yaml.safe_load((project / SPEC_PATH).read_text())  # valid YAML, a real spec
    assert settings["asyncapi"] == "3.0.0" and settings["info"]["title"] == "chat-service"
    imported = subprocess.run(
        [sys.executable, "-c", "import app.main as m; print(sorted(m.app.state.chanspec_layers))"],
        cwd=project, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "['chat']"
    check = chanspec("check", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "app: up to date with specs/service.asyncapi.yaml" in check.stdout
    diff = chanspec("diff", SPEC_PATH, "app.main:app", cwd=project)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert "No differences" in diff.stdout


def test_starter_spec_has_request_reply_and_group_broadcast(project: Path) -> None:
    spec = yaml.safe_load((project / SPEC_PATH).read_text())
    ops = spec["operations"]
    assert ops["room_ping"]["action"] == "receive" and "reply" in ops["room_ping"]
    assert ops["room_posted"]["action"] == "send"
    room = spec["channels"]["room"]
    assert room["x-groups"] == ["room_{room_name}"] and room["x-channel-layer"] == "chat"
    assert spec["x-channel-layers"]["chat"]["type"] == "redis-pubsub"
    consumer = (project / "app/consumers/room.py").read_text()
    assert '@ws_handler("room_ping")' in consumer and '@ws_handler("room_post")' in consumer


def test_pre_commit_hook_runs_chanspec_check(project: Path) -> None:
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    (hook,) = [h for repo in config["repos"] if repo["repo"] == "local" for h in repo["hooks"]]
    assert hook["language"] == "system" and hook["pass_filenames"] is False
    assert hook["entry"] == "chanspec check"
    assert run_line(hook["entry"], project).returncode == 0
    # the hook catches a spec edited without regenerating
    spec = project / SPEC_PATH
    spec.write_text(spec.read_text().replace("minLength: 1\n", "minLength: 2\n"))
    stale = run_line(hook["entry"], project)
    assert stale.returncode == 1
    assert "out of date: run chanspec generate" in stale.stderr


def test_ci_workflow_commands_pass_and_catch_drift(project: Path) -> None:
    workflow = yaml.safe_load((project / ".github/workflows/chanspec.yml").read_text())
    steps = [s["run"] for job in workflow["jobs"].values() for s in job["steps"] if "run" in s]
    commands = [s for s in steps if s.startswith("chanspec ")]
    assert [shlex.split(c)[:2] for c in commands] == [["chanspec", "check"], ["chanspec", "diff"]]
    assert "--fail-on breaking --format github" in commands[1]
    for command in commands:
        ran = run_line(command, project)
        assert ran.returncode == 0, f"{command}: {ran.stdout}{ran.stderr}"
    # a handler removed from the app: diff reports the missing operation as a GitHub annotation
    consumer = project / "app/consumers/room.py"
    text = consumer.read_text()
    start = text.index('    @ws_handler("room_ping")')
    end = text.index('    @ws_handler("room_post")')
    consumer.write_text(text[:start] + text[end:])
    drift = run_line(commands[1], project)
    assert drift.returncode == 1, drift.stdout + drift.stderr
    assert "::error" in drift.stdout and "room_ping" in drift.stdout


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    mine = tmp_path / SPEC_PATH
    mine.write_text("my spec\n")
    refused = chanspec("init", cwd=tmp_path)
    assert refused.returncode == 1
    assert f"error: {Path(SPEC_PATH)} already exists" in refused.stderr
    assert "nothing written" in refused.stderr
    assert mine.read_text() == "my spec\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["service.asyncapi.yaml", "specs"]


def test_init_twice_refuses_and_keeps_files(tmp_path: Path) -> None:
    assert chanspec("init", "svc", cwd=tmp_path).returncode == 0
    before = {p: p.read_bytes() for p in (tmp_path / "svc").rglob("*") if p.is_file()}
    again = chanspec("init", "svc", cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.count("already exists") == len(STARTER)
    assert {p: p.read_bytes() for p in (tmp_path / "svc").rglob("*") if p.is_file()} == before


def test_bad_name_is_a_usage_error(tmp_path: Path) -> None:
    bad = chanspec("init", "x", "--name", 'a"; rm -rf /', cwd=tmp_path)
    assert bad.returncode == 2 and "--name" in bad.stderr
    assert not (tmp_path / "x").exists()


def test_project_name_and_files_are_deterministic() -> None:
    assert project_name(Path("/tmp/My Chat_Service!")) == "my-chat-service"
    assert project_name(Path("/tmp/___")) == "service"
    assert project_files("demo") == project_files("demo")
    assert (REPO / "templates" / "init").is_dir()
