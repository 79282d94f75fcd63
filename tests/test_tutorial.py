"""docs/tutorial.md, then docs/deployment.md, followed literally: every code block, in order,
in one temporary directory (the deployment guide continues the tutorial's project).

How a block is marked (the info string after the opening fence: a language, then words)::

    ```sh                       run each line (a trailing \\ continues it) with bash in the
                                current directory; each must exit 0
    ```sh exit=1                ... each line must exit 1 instead
    ```sh background            start each line as a server; the test waits until the port of
                                its --port option listens; servers are stopped (as a reader
                                presses Ctrl+C) at the next "## " heading and at the end
    ```sh redis                 start Redis: not run; the test's own redis-server (the
                                ``redis_url`` fixture of tests/conftest.py) stands in for it
    ```LANG file=PATH           write the block to PATH (directories created)
    ```LANG expect=PATH         PATH must be exactly the block (what a command wrote)
    ```LANG contains=PATH       the block must occur verbatim in PATH
    ```diff                     a unified diff (--- a/PATH, +++ b/PATH) applied with
                                ``git apply``; its context must match, so edits shown in the
                                tutorial cannot drift from the files the tools write
    ```text output              lines the previous ``sh`` block printed (stdout and stderr),
                                in order; each line must be part of an output line, and a
                                line "..." stands for lines left out
    ```text log                 the same, for what the last background server has logged
                                (waited for, up to 15 s)

A line ``cd DIR`` in an ``sh`` block changes the directory of what follows, as in a terminal.
Any other block fails the test, so nothing in the tutorial goes unchecked.

Only what depends on this machine is replaced before running a command: the Redis URL
``redis://localhost:6379`` by the fixture's, and ports 8000, 8001 and 8002 by free ports
(everywhere in the command, so client URLs follow). Commands see the environment of the test
minus ``REDIS_URL`` and ``PYTHONPATH``, with ``chanspec``, ``uvicorn`` and ``python`` on PATH:
what a reader who installed chanspec has.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .servers import REPO, free_port, wait_port

DOCS = (REPO / "docs" / "tutorial.md", REPO / "docs" / "deployment.md")
PORTS = ("8000", "8001", "8002")
READER_REDIS = "redis://localhost:6379"


@dataclass
class Block:
    """One fenced code block of the tutorial."""

    line: int  # 1-based line of the opening fence
    language: str
    words: list[str]
    options: dict[str, str]
    text: str
    section: str  # the "## " heading it is under
    doc: str = "docs/tutorial.md"

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line} ({self.section})"


def parse_blocks(markdown: str, doc: str = "docs/tutorial.md") -> list[Block]:
    """Every fenced block (```), with its info string split into language, words, options."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    section = "(top)"
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        fence = re.match(r"^(`{3,})(.*)$", line)
        if fence is None:
            i += 1
            continue
        info = fence.group(2).split()
        end = i + 1
        while end < len(lines) and not lines[end].startswith(fence.group(1)):
            end += 1
        if end == len(lines):
            raise AssertionError(f"{doc}:{i + 1}: code block is never closed")
        language = info[0] if info else ""
        words = [w for w in info[1:] if "=" not in w]
        options = dict(w.split("=", 1) for w in info[1:] if "=" in w)
        text = "\n".join(lines[i + 1 : end]) + "\n"
        blocks.append(Block(i + 1, language, words, options, text, section, doc))
        i = end + 1
    return blocks


def command_lines(text: str) -> list[str]:
    """Shell lines of a block: comments and blank lines dropped, ``\\`` continuations joined."""
    out: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = pending + raw
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(line.strip())
    assert not pending, f"dangling continuation: {pending!r}"
    return out


@dataclass
class Reader:
    """The state of someone following the tutorial: directory, servers, last output."""

    cwd: Path
    redis_url: str
    ports: dict[str, str]
    logs: Path
    env: dict[str, str] = field(default_factory=dict)
    servers: list[tuple[str, subprocess.Popen[bytes], Path]] = field(default_factory=list)
    output: str | None = None

    def localise(self, line: str) -> str:
        line = line.replace(READER_REDIS, self.redis_url)
        return re.sub(r"\b(800[0-2])\b", lambda m: self.ports[m.group(1)], line)

    def run(self, block: Block) -> None:
        expected = int(block.options.get("exit", "0"))
        output: list[str] = []
        for line in command_lines(block.text):
            cd = re.fullmatch(r"cd\s+(\S+)", line)
            if cd is not None:
                self.cwd = (self.cwd / cd.group(1)).resolve()
                assert self.cwd.is_dir(), f"{block.where}: no directory {self.cwd}"
                continue
            ran = subprocess.run(
                ["bash", "-c", self.localise(line)], cwd=self.cwd, env=self.env,
                capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            output.append(ran.stdout + ran.stderr)
            assert ran.returncode == expected, (
                f"{block.where}: `{line}` exited {ran.returncode}, the tutorial says "
                f"{expected}\n{ran.stdout}{ran.stderr}"
            )
        self.output = "".join(output)

    def start(self, block: Block) -> None:
        for line in command_lines(block.text):
            port = re.search(r"--port\s+(\d+)", line)
            assert port is not None, f"{block.where}: a background command needs --port: {line}"
            log = self.logs / f"server-{len(self.servers)}.log"
            with log.open("wb") as sink:
                proc = subprocess.Popen(
                    ["bash", "-c", self.localise(line)], cwd=self.cwd, env=self.env,
                    stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            self.servers.append((line, proc, log))
            try:
                wait_port(int(self.localise(port.group(1))), proc)
            except (RuntimeError, TimeoutError) as exc:
                raise AssertionError(f"{block.where}: `{line}`: {exc}\n{log.read_text()}") from exc

    def stop_servers(self) -> None:
        """Ctrl+C: SIGINT to each server's process group (bash and uvicorn), then SIGKILL."""
        while self.servers:
            _, proc, _ = self.servers.pop()
            if proc.poll() is not None:
                continue
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def check_log(self, block: Block) -> None:
        assert self.servers, f"{block.where}: log block without a background server running"
        log = self.servers[-1][2]
        deadline = time.monotonic() + 15
        while True:
            try:
                return self.check_output(block, log.read_text(errors="replace"))
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def check_output(self, block: Block, output: str | None = None) -> None:
        output = self.output if output is None else output
        assert output is not None, f"{block.where}: output block without a command before"
        got = output.splitlines()
        at = 0
        for want in block.text.splitlines():
            if not want.strip() or want.strip() == "...":
                continue
            while at < len(got) and want.strip() not in got[at]:
                at += 1
            assert at < len(got), (
                f"{block.where}: the output has no line containing {want.strip()!r} (in order)"
                f"\n--- output ---\n{output}"
            )
            at += 1


def apply_diff(block: Block, cwd: Path) -> None:
    # an empty line inside a hunk is an empty context line (editors strip the lone space)
    patch = "\n".join(line or " " for line in block.text.splitlines()) + "\n"
    target = re.search(r"^\+\+\+ b/(\S+)", patch, re.MULTILINE)
    assert target is not None, f"{block.where}: a diff block needs '+++ b/PATH'"
    assert (cwd / target.group(1)).is_file(), f"{block.where}: no file {target.group(1)}"
    applied = subprocess.run(
        ["git", "apply", "--verbose", "-"], input=patch, cwd=cwd, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert applied.returncode == 0, (
        f"{block.where}: the edit does not apply to {target.group(1)}:\n{applied.stderr}"
        f"\n--- the file is ---\n{(cwd / target.group(1)).read_text()}"
    )


@pytest.fixture
def reader(redis_url: str) -> Iterator[Reader]:
    with tempfile.TemporaryDirectory(prefix="chanspec-tutorial-") as tmp:
        root = Path(tmp)
        (root / "logs").mkdir()
        work = root / "work"
        work.mkdir()
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTHONPATH")}
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        ports = {p: str(free_port()) for p in PORTS}
        person = Reader(work, redis_url, ports, root / "logs", env)
        try:
            yield person
        finally:
            person.stop_servers()


def all_blocks() -> list[Block]:
    return [
        block
        for doc in DOCS
        for block in parse_blocks(doc.read_text(encoding="utf-8"), f"docs/{doc.name}")
    ]


def test_blocks_are_all_marked() -> None:
    """Every block is one the follower knows (checked without running anything)."""
    blocks = all_blocks()
    assert len(blocks) >= 25
    kinds = [kind(b) for b in blocks]
    unknown = [b.where for b, k in zip(blocks, kinds, strict=True) if k is None]
    assert not unknown, f"code blocks without a known marking: {unknown}"
    for needed in ("run", "background", "redis", "file", "diff", "output", "expect", "log"):
        assert needed in kinds, f"the tutorial has no {needed!r} block"


def kind(block: Block) -> str | None:
    if block.language == "sh":
        extra = set(block.words)
        if extra == {"background"}:
            return "background"
        if extra == {"redis"}:
            return "redis"
        return "run" if not extra and set(block.options) <= {"exit"} else None
    if block.language == "diff" and not block.words and not block.options:
        return "diff"
    if block.words in (["output"], ["log"]) and not block.options:
        return block.words[0]
    if not block.words and len(block.options) == 1:
        (key,) = block.options
        return key if key in ("file", "expect", "contains") else None
    return None


def follow(reader: Reader, block: Block) -> None:
    """Do what ``block`` tells the reader to do (see the module docstring)."""
    what = kind(block)
    if what == "run":
        reader.run(block)
    elif what == "background":
        reader.start(block)
    elif what == "redis":
        assert all(shlex.split(line)[0] == "redis-server" for line in command_lines(block.text)), (
            f"{block.where}: a redis block only starts redis-server"
        )
    elif what == "file":
        path = reader.cwd / block.options["file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.text, encoding="utf-8")
    elif what == "expect":
        path = reader.cwd / block.options["expect"]
        assert path.read_text(encoding="utf-8") == block.text, (
            f"{block.where}: {block.options['expect']} differs from the page"
        )
    elif what == "contains":
        path = reader.cwd / block.options["contains"]
        assert block.text in path.read_text(encoding="utf-8"), (
            f"{block.where}: {block.options['contains']} does not contain this block"
        )
    elif what == "diff":
        apply_diff(block, reader.cwd)
    elif what == "output":
        reader.check_output(block)
    elif what == "log":
        reader.check_log(block)
    else:
        raise AssertionError(f"{block.where}: a code block without a known marking")


def test_tutorial_and_deployment_followed_literally(reader: Reader) -> None:
    section = None
    for block in all_blocks():
        if (block.doc, block.section) != section:
            reader.stop_servers()  # the reader pressed Ctrl+C before moving on
            section = (block.doc, block.section)
        follow(reader, block)
    reader.stop_servers()


def test_follower_catches_rot(reader: Reader) -> None:
    """The follower fails on a wrong exit code, missing output, an edit that does not apply,
    a file that differs from the page, and an unmarked block."""
    doc = "## s\n\n```sh\nfalse\n```\n"
    (block,) = parse_blocks(doc)
    with pytest.raises(AssertionError, match="exited 1, the tutorial says 0"):
        reader.run(block)
    (echo, out) = parse_blocks("## s\n```sh\necho hello\n```\n```text output\nbye\n```\n")
    reader.run(echo)
    with pytest.raises(AssertionError, match="no line containing 'bye'"):
        reader.check_output(out)
    (reader.cwd / "f.txt").write_text("one\ntwo\n")
    (patch,) = parse_blocks(
        "```diff\n--- a/f.txt\n+++ b/f.txt\n@@ -1,2 +1,2 @@\n one\n-three\n+2\n```\n"
    )
    with pytest.raises(AssertionError, match="does not apply"):
        apply_diff(patch, reader.cwd)
    (unmarked,) = parse_blocks("```python\nprint(1)\n```\n")
    assert kind(unmarked) is None
    (shown,) = parse_blocks("```text expect=f.txt\none\nTWO\n```\n")
    with pytest.raises(AssertionError, match="f.txt differs from the page"):
        follow(reader, shown)
    (part,) = parse_blocks("```text contains=f.txt\nthree\n```\n")
    with pytest.raises(AssertionError, match="does not contain this block"):
        follow(reader, part)
    with pytest.raises(AssertionError, match="without a known marking"):
        follow(reader, unmarked)
