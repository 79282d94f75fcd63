"""Regeneration replay (issue #4): scripted spec edits over an app whose handlers are filled in.

The app is generated once from a small spec; every handler body, a helper method, a class
attribute and module-level lines are then written "by the user". Each step edits the spec the
way specs change in practice (operations added, removed, renamed; channels added and removed;
payloads, replies, events, actions and addresses changed) and then checks:

- ``chanspec check`` (the real click command, in-process) exits 1 when the step makes the
  output stale, a handler missing, or a handler no longer matches the spec (G002/G003), before
  and after regenerating; 0 otherwise;
- ``chanspec generate`` keeps every user-written line, in order; new operations get stubs that
  raise ``NotImplementedError``; removed operations (G002) and changed signatures (G003) are
  reported with the ``file:line`` of the method; afterwards the output is up to date;
- the app still imports (in a fresh interpreter) and emits every operation of the spec plus the
  handlers the user kept for operations the spec dropped.

The stubs each step adds are then filled in too, so user code keeps growing over the replay.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from chanspec.codegen.cli import main
from chanspec.codegen.pipeline import generate
from chanspec.codegen.write import check_tree
from click.testing import CliRunner

Doc = dict[str, Any]


def envelope(action: str, **payload: Any) -> Doc:
    """A component message in the envelope convention: ``{"action": const, "payload": {...}}``."""
    props: Doc = {"action": {"type": "string", "const": action}}
    required = ["action"]
    if payload:
        props["payload"] = {"type": "object", "properties": payload}
        required.append("payload")
    return {"payload": {"type": "object", "properties": props, "required": required}}


def ref(*path: str) -> Doc:
    return {"$ref": "#/" + "/".join(path)}


def receive(channel: str, *messages: str, reply: tuple[str, ...] = ()) -> Doc:
    op: Doc = {
        "action": "receive",
        "channel": ref("channels", channel),
        "messages": [ref("channels", channel, "messages", m) for m in messages],
    }
    if reply:
        op["reply"] = {
            "channel": ref("channels", channel),
            "messages": [ref("channels", channel, "messages", m) for m in reply],
        }
    return op


def send(channel: str, *messages: str, events: tuple[str, ...] = ()) -> Doc:
    op: Doc = {
        "action": "send",
        "channel": ref("channels", channel),
        "messages": [ref("channels", channel, "messages", m) for m in messages],
    }
    if events:
        op["x-events"] = [ref("components", "messages", e) for e in events]
    return op


def channel(address: str, *messages: str) -> Doc:
    return {
        "address": address,
        "messages": {m: ref("components", "messages", m) for m in messages},
    }


TEXT = {"text": {"type": "string"}}

BASE: Doc = {
    "asyncapi": "3.0.0",
    "info": {"title": "replay", "version": "1.0.0"},
    "channels": {
        "chat": channel("/ws/chat", "ping", "pong", "post", "notice"),
        "jobs": channel("/ws/jobs/{job_id}", "submit", "status"),
    },
    "operations": {
        "chat_ping": receive("chat", "ping", reply=("pong",)),
        "chat_post": receive("chat", "post"),
        "chat_notice": send("chat", "notice"),
        "jobs_submit": receive("jobs", "submit", reply=("status",)),
    },
    "components": {
        "messages": {
            "ping": envelope("ping"),
            "pong": envelope("pong"),
            "post": envelope("post", **TEXT),
            "notice": envelope("notice", **TEXT),
            "submit": envelope("submit", kind={"type": "string"}),
            "status": envelope("status", state={"type": "string"}),
            "alert": envelope("alert", **TEXT),
            "shout": envelope("shout", **TEXT),
            "wake": envelope("wake"),
            "cancel": envelope("cancel"),
            "alarm": envelope("alarm", level={"type": "integer"}),
        }
    },
}


@dataclass
class Step:
    """One spec edit and what regeneration must do about it.

    Attributes:
        name: test id of the step.
        edit: changes the spec document in place.
        stubs: ``{consumer module: [operation ids]}`` that must get stubs.
        created: consumer modules that must be created.
        notes: every G002/G003/G005/G006/G007 note expected after the step, as
            ``(code, module, method)``; for G006 the third item is the imported class, for
            G007 the channel id.
        check: the exit code of ``chanspec check`` before regenerating.
        user_fix: ``(module, method, import)`` the user deletes (the import only if not
            empty) after reading the report: the handler of a removed event operation and the
            import of its event class, which ``generated/messages.py`` keeps (deprecated, G006)
            only while a module imports it.
        user_edit: ``(module, old text, new text)`` the user replaces after reading the
            report: a renamed operation (G005) is renamed in the handler's decorator.
        user_delete: a module the user deletes after reading the report (G007: the consumer
            module of a removed channel).
    """

    name: str
    edit: Callable[[Doc], None]
    stubs: dict[str, list[str]] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    notes: set[tuple[str, str, str]] = field(default_factory=set)
    check: int = 1
    user_fix: tuple[str, str, str] | None = None
    user_edit: tuple[str, str, str] | None = None
    user_delete: str | None = None


def ops(doc: Doc) -> Doc:
    result: Doc = doc["operations"]
    return result


def messages_of(doc: Doc, cid: str) -> Doc:
    result: Doc = doc["channels"][cid]["messages"]
    return result


def add_channel_message(doc: Doc, cid: str, *keys: str) -> None:
    for key in keys:
        messages_of(doc, cid)[key] = ref("components", "messages", key)


def step_add_receive(doc: Doc) -> None:
    add_channel_message(doc, "chat", "shout")
    ops(doc)["chat_shout"] = receive("chat", "shout", reply=("notice",))


def step_add_event(doc: Doc) -> None:
    ops(doc)["chat_alert"] = send("chat", "notice", events=("alert",))


def step_change_reply(doc: Doc) -> None:
    ops(doc)["chat_ping"]["reply"]["messages"] = [ref("channels", "chat", "messages", "notice")]


def step_restore_reply(doc: Doc) -> None:
    ops(doc)["chat_ping"]["reply"]["messages"] = [ref("channels", "chat", "messages", "pong")]


def step_remove_operation(doc: Doc) -> None:
    del ops(doc)["chat_post"]


def step_rename_operation(doc: Doc) -> None:
    ops(doc)["jobs_start"] = ops(doc).pop("jobs_submit")


def step_add_channel(doc: Doc) -> None:
    doc["channels"]["alerts"] = channel("/ws/alerts", "wake", "alarm")
    ops(doc)["alerts_wake"] = receive("alerts", "wake", reply=("alarm",))
    ops(doc)["alerts_alarm"] = send("alerts", "alarm")


def step_change_payload(doc: Doc) -> None:
    payload = doc["components"]["messages"]["notice"]["payload"]["properties"]["payload"]
    payload["properties"]["level"] = {"type": "integer", "minimum": 0}
    payload["required"] = ["text"]


def step_add_message_to_receive(doc: Doc) -> None:
    add_channel_message(doc, "jobs", "cancel")
    ops(doc)["jobs_start"]["messages"].append(ref("channels", "jobs", "messages", "cancel"))


def step_describe_operation(doc: Doc) -> None:
    ops(doc)["chat_ping"]["summary"] = "Answers a ping."
    ops(doc)["chat_ping"]["description"] = 'Says """pong""" back \\ to the sender.'


def step_reserved_name(doc: Doc) -> None:
    ops(doc)["jobs_send"] = receive("jobs", "cancel")


def step_keyword_name(doc: Doc) -> None:
    add_channel_message(doc, "chat", "wake")
    ops(doc)["chat_class"] = receive("chat", "wake")


def step_second_event(doc: Doc) -> None:
    ops(doc)["chat_alert"]["x-events"].append(ref("components", "messages", "shout"))


def step_reply_union(doc: Doc) -> None:
    reply = ops(doc)["alerts_wake"]["reply"]
    reply["messages"].append(ref("channels", "alerts", "messages", "wake"))


def step_change_address(doc: Doc) -> None:
    doc["channels"]["jobs"]["address"] = "/ws/v2/jobs/{job_id}"


def step_remove_channel(doc: Doc) -> None:
    del doc["channels"]["alerts"]
    for op_id in ("alerts_wake", "alerts_alarm"):
        del ops(doc)[op_id]


def step_receive_to_send(doc: Doc) -> None:
    ops(doc)["chat_class"]["action"] = "send"


def step_restore_operation(doc: Doc) -> None:
    ops(doc)["chat_post"] = receive("chat", "post")


def step_change_payload_of_handled_message(doc: Doc) -> None:
    post = doc["components"]["messages"]["post"]["payload"]["properties"]["payload"]
    post["properties"]["tags"] = {"type": "array", "items": {"type": "string"}}


def step_add_send_operation(doc: Doc) -> None:
    ops(doc)["jobs_progress"] = send("jobs", "status")


def step_add_event_to_channel_with_parameters(doc: Doc) -> None:
    ops(doc)["jobs_finished"] = send("jobs", "status", events=("alarm",))


def step_nothing_changed(doc: Doc) -> None:
    doc["info"]["version"] = doc["info"]["version"]


def step_remove_event_operation(doc: Doc) -> None:
    del ops(doc)["chat_alert"]


CHAT, JOBS, ALERTS = "consumers/chat.py", "consumers/jobs.py", "consumers/alerts.py"
# notes that stay once an operation is gone or changed, until the spec or the code changes
POST_GONE = ("G002", CHAT, "post")
SUBMIT_RENAMED = ("G005", JOBS, "submit")
START_CHANGED = ("G003", JOBS, "start")
CLASS_GONE = ("G002", CHAT, "class_")
ALERT_CHANGED = ("G003", CHAT, "alert")
ALERT_GONE = ("G002", CHAT, "alert")
ALERT_EVENT_KEPT = ("G006", CHAT, "AlertEvent")
ALERTS_GONE = ("G007", ALERTS, "alerts")

STEPS = [
    Step("add-receive-operation", step_add_receive, stubs={CHAT: ["chat_shout"]}),
    Step("add-event", step_add_event, stubs={CHAT: ["chat_alert"]}),
    Step("change-reply", step_change_reply, notes={("G003", CHAT, "ping")}),
    Step("restore-reply", step_restore_reply),
    Step("remove-operation", step_remove_operation, notes={POST_GONE}),
    Step(
        "rename-operation",
        step_rename_operation,
        notes={POST_GONE, SUBMIT_RENAMED},  # no second handler of the same message
        user_edit=(
            JOBS,
            '@ws_handler("jobs_submit")\n    async def submit(',
            '@ws_handler("jobs_start")\n    async def start(',
        ),
    ),
    Step(
        "add-channel",
        step_add_channel,
        created=[ALERTS],
        notes={POST_GONE},
    ),
    Step("change-payload", step_change_payload, notes={POST_GONE}),
    Step(
        "add-message-to-receive",
        step_add_message_to_receive,
        notes={POST_GONE, START_CHANGED},
    ),
    Step(
        "describe-operation",
        step_describe_operation,
        notes={POST_GONE, START_CHANGED},
    ),
    Step(
        "reserved-method-name",
        step_reserved_name,
        stubs={JOBS: ["jobs_send"]},
        notes={POST_GONE, START_CHANGED},
    ),
    Step(
        "keyword-method-name",
        step_keyword_name,
        stubs={CHAT: ["chat_class"]},
        notes={POST_GONE, START_CHANGED},
    ),
    Step(
        "second-event",
        step_second_event,
        notes={POST_GONE, START_CHANGED, ALERT_CHANGED},
    ),
    Step(
        "reply-union",
        step_reply_union,
        notes={POST_GONE, START_CHANGED, ALERT_CHANGED, ("G003", ALERTS, "wake")},
    ),
    Step(
        "change-address",
        step_change_address,
        notes={POST_GONE, START_CHANGED, ALERT_CHANGED, ("G003", ALERTS, "wake")},
    ),
    Step(
        "remove-channel",
        step_remove_channel,
        notes={POST_GONE, START_CHANGED, ALERT_CHANGED, ALERTS_GONE},
        user_delete=ALERTS,
    ),
    Step(
        "receive-becomes-send",
        step_receive_to_send,
        notes={POST_GONE, START_CHANGED, ALERT_CHANGED, CLASS_GONE},
    ),
    Step(
        "restore-operation",
        step_restore_operation,
        notes={START_CHANGED, ALERT_CHANGED, CLASS_GONE},
    ),
    Step(
        "change-payload-of-handled-message",
        step_change_payload_of_handled_message,
        notes={START_CHANGED, ALERT_CHANGED, CLASS_GONE},
    ),
    Step(
        "add-send-operation",
        step_add_send_operation,
        notes={START_CHANGED, ALERT_CHANGED, CLASS_GONE},
    ),
    Step(
        "add-event-on-parameterised-channel",
        step_add_event_to_channel_with_parameters,
        stubs={JOBS: ["jobs_finished"]},
        notes={START_CHANGED, ALERT_CHANGED, CLASS_GONE},
    ),
    Step(
        "nothing-changed",
        step_nothing_changed,
        notes={START_CHANGED, ALERT_CHANGED, CLASS_GONE},
        check=0,
    ),
    Step(
        "remove-event-operation",
        step_remove_event_operation,
        notes={START_CHANGED, CLASS_GONE, ALERT_GONE, ALERT_EVENT_KEPT},
        user_fix=(CHAT, "alert", "AlertEvent"),
    ),
]

STUB = re.compile(r'^(\s*)raise NotImplementedError\("([^"]+)"\)$', re.MULTILINE)


def fill_in(text: str, tag: str) -> str:
    """The user's edit of a consumer module: every stub body replaced by user lines."""

    def body(match: re.Match[str]) -> str:
        indent, op = match.group(1), match.group(2)
        return (
            f"{indent}# {tag}: the user's code for {op}\n"
            f'{indent}raise RuntimeError("{op} is handled by the user ({tag})")'
        )

    return STUB.sub(body, text)


def add_user_helpers(text: str, tag: str) -> str:
    """A class attribute and helper method after the class docstring, a module-level line."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith('    """Serves channel'))
    helper = [
        "",
        f"    retries = 3  # {tag}: user attribute",
        "",
        "    def describe(self) -> str:",
        f'        return "{tag}: a user helper"',
    ]
    lines[at + 1 : at + 1] = helper
    lines += ["", f'USER_NOTE = "{tag}: module line"']
    return "\n".join(lines) + "\n"


def is_subsequence(old: str, new: str) -> bool:
    remaining = iter(new.splitlines())
    return all(any(line == candidate for candidate in remaining) for line in old.splitlines())


def remove_method(text: str, method: str) -> str:
    """``text`` without the decorated method ``method`` of the consumer class."""
    lines = text.splitlines()
    start = method_line(text, method) - 2  # its decorator
    assert lines[start].startswith("    @"), lines[start]
    end = start + 2
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith("        ")):
        end += 1
    return "\n".join(lines[:start] + lines[end:]) + "\n"


def import_and_emit(root: Path) -> list[str]:
    """Import ``app.main`` in a fresh interpreter; returns the emitted operation ids."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["PYTHONPATH"] = str(root)
    code = (
        "import json, app.main\n"
        "from chanspec.runtime.app import document_of\n"
        "print(json.dumps(sorted(document_of(app.main.app)['operations'])))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
        check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    emitted: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return emitted


def method_line(text: str, method: str) -> int:
    found = [i for i, t in enumerate(text.splitlines(), 1) if f"async def {method}(" in t]
    assert len(found) == 1, (method, found)
    return found[0]


def test_regeneration_replay(tmp_path: Path) -> None:
    spec_path, out = tmp_path / "spec.yaml", tmp_path / "app"
    doc = copy.deepcopy(BASE)

    def write_spec() -> None:
        spec_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    write_spec()
    first = generate(spec_path, out, package="app")
    assert not first.failed, [p.format() for p in first.problems]
    user: dict[str, str] = {}  # consumer module -> the text the user last saved

    def take_over(module: str, tag: str) -> None:
        path = out / module
        text = fill_in(path.read_text(encoding="utf-8"), tag)
        if module not in user:
            text = add_user_helpers(text, tag)
        path.write_text(text, encoding="utf-8")
        user[module] = text

    for module in (CHAT, JOBS):
        take_over(module, "initial")
    main_py = out / "main.py"
    main_py.write_text(main_py.read_text() + "\n# the user's line in main.py\n")
    user["main.py"] = main_py.read_text()
    assert "NotImplementedError" not in (out / CHAT).read_text()

    runner = CliRunner()
    seen_ops = set(ops(doc))
    for step in STEPS:
        step.edit(doc)
        write_spec()
        where = f"step {step.name}"
        # stale output, a missing handler or a mismatched one (G002/G003): exit 1
        check = runner.invoke(main, ["check", str(spec_path), "-o", str(out)])
        assert check.exit_code == (1 if step.check or step.notes else 0), (where, check.output)
        result = generate(spec_path, out, package="app")
        assert not result.failed, (where, [p.format() for p in result.problems])
        report = result.report
        assert report is not None
        # every user line is still there, in order; main.py and scaffolds are never rewritten
        for module, text in user.items():
            assert is_subsequence(text, (out / module).read_text()), (where, module)
        assert main_py.read_text() == user["main.py"]
        # new operations have stubs, in the module of their channel
        assert report.updated == step.stubs, where
        assert sorted(report.created) == sorted(step.created), where
        for module, op_ids in step.stubs.items():
            text = (out / module).read_text()
            for op_id in op_ids:
                assert f'handler("{op_id}")' in text, (where, op_id)
                assert f'raise NotImplementedError("{op_id}")' in text, (where, op_id)
        # removals and changed signatures are reported at the method's file:line
        notes = {
            (n.code, Path(n.position.file).relative_to(out).as_posix(), subject(n.message))
            for n in report.notes
            if n.position is not None
        }
        assert notes == step.notes, where
        for note in report.notes:
            assert note.position is not None
            module = Path(note.position.file).relative_to(out).as_posix()
            line = subject_line(note.code, (out / module).read_text(), subject(note.message))
            assert note.position.line == line, (where, note.format())
        # up to date afterwards; check still fails while a handler does not match the spec
        assert not check_tree(out, result.files).changed, where
        check = runner.invoke(main, ["check", str(spec_path), "-o", str(out)])
        assert check.exit_code == (1 if step.notes else 0), (where, check.output)
        if step.user_fix is not None:
            module, method, name = step.user_fix
            text = remove_method((out / module).read_text(), method)
            if name:  # the class is no longer generated: its import goes too
                gone = (f"from ..generated.messages import {name}", f"    {name},")
                text = "".join(t for t in text.splitlines(True) if t.rstrip("\n") not in gone)
            user[module] = text
            (out / module).write_text(user[module])
        if step.user_edit is not None:
            module, old, new = step.user_edit
            text = (out / module).read_text()
            assert text.count(old) == 1, (where, old)
            user[module] = text.replace(old, new)
            (out / module).write_text(user[module])
        if step.user_delete is not None:
            (out / step.user_delete).unlink()
            del user[step.user_delete]
        # the app imports and emits the spec's operations and the handlers the user kept
        orphans = seen_ops - set(ops(doc))
        emitted = set(import_and_emit(tmp_path))
        assert set(ops(doc)) <= emitted, (where, set(ops(doc)) - emitted)
        assert emitted - set(ops(doc)) <= orphans, (where, emitted - set(ops(doc)))
        seen_ops |= set(ops(doc))
        # the user fills in the new stubs and adopts new consumer modules
        for module in [*step.stubs, *step.created]:
            take_over(module, step.name)
    assert len(STEPS) >= 20


def method_name(message: str) -> str:
    """``"ChatConsumer.post handles ..."`` -> ``"post"``."""
    match = re.match(r"\w+\.(\w+)", message)
    assert match, message
    return match.group(1)


def subject(message: str) -> str:
    """What a note is about: the method (G002/G003/G005), the imported class
    (``"consumers/chat.py imports AlertEvent from ..."``, G006) or the channel id
    (``"consumers/alerts.py serves channel 'alerts', ..."``, G007)."""
    imports = re.match(r"\S+ imports (\w+) from ", message)
    if imports:
        return imports.group(1)
    serves = re.match(r"\S+ serves channel '(\w+)'", message)
    if serves:
        return serves.group(1)
    return method_name(message)


def subject_line(code: str, text: str, name: str) -> int:
    """The line a note about ``name`` must point at: the import of the class (G006), the
    ``@channel`` consumer class (G007), the handler method (the others)."""
    lines = text.splitlines()
    if code == "G006":
        found = [
            i
            for i, t in enumerate(lines, 1)
            if re.search(rf"\b{name}\b", t) and ("import" in t or t.strip() == f"{name},")
        ]
        assert len(found) == 1, (name, found)
        return found[0]
    if code == "G007":
        (found_line,) = [i for i, t in enumerate(lines, 1) if t.startswith("class ")]
        return found_line
    return method_line(text, name)


def regenerate_after(
    tmp_path: Path, edit: Callable[[Doc], None]
) -> subprocess.CompletedProcess[str]:
    """Generate BASE plus ``chat_alert``, fill nothing in, apply ``edit``, regenerate; the
    result of importing the app."""
    spec_path, out = tmp_path / "spec.yaml", tmp_path / "app"
    doc = copy.deepcopy(BASE)
    step_add_event(doc)
    spec_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    assert not generate(spec_path, out, package="app").failed
    edit(doc)
    spec_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    result = generate(spec_path, out, package="app")
    assert not result.failed
    assert result.report is not None
    assert any(n.code in ("G002", "G005") for n in result.report.notes)
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["PYTHONPATH"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-c", "import app.main"], cwd=tmp_path, env=env, capture_output=True,
        text=True, check=False, timeout=120,
    )  # fmt: skip


def test_app_imports_right_after_an_operation_is_renamed(tmp_path: Path) -> None:
    imported = regenerate_after(tmp_path, step_rename_operation)
    assert imported.returncode == 0, imported.stderr


def test_app_imports_right_after_an_event_operation_is_removed(tmp_path: Path) -> None:
    """The event class the handler imports is kept, deprecated, in generated/messages.py."""
    imported = regenerate_after(tmp_path, step_remove_event_operation)
    assert imported.returncode == 0, imported.stderr


def test_check_fails_on_a_changed_signature(tmp_path: Path) -> None:
    spec_path, out = tmp_path / "spec.yaml", tmp_path / "app"
    doc = copy.deepcopy(BASE)
    spec_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    assert not generate(spec_path, out, package="app").failed
    step_change_reply(doc)
    spec_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    assert not generate(spec_path, out, package="app").failed  # reports G003, keeps the code
    check = CliRunner().invoke(main, ["check", str(spec_path), "-o", str(out)])
    assert "G003" in check.output
    assert check.exit_code == 1


def test_note_lines_point_into_the_file_as_written(tmp_path: Path) -> None:
    spec_path, out = tmp_path / "spec.yaml", tmp_path / "app"
    doc = copy.deepcopy(BASE)
    spec_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    assert not generate(spec_path, out, package="app").failed
    step_remove_operation(doc)  # the handler of chat_post: G002
    step_add_receive(doc)  # a stub whose message class needs a new import line
    spec_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    result = generate(spec_path, out, package="app")
    assert result.report is not None and result.report.updated == {CHAT: ["chat_shout"]}
    (note,) = [n for n in result.report.notes if n.code == "G002"]
    assert note.position is not None
    assert note.position.line == method_line((out / CHAT).read_text(), "post")
