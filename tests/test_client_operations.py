"""The declarations generated client methods are made of (``runtime.send`` / ``runtime.request``).

A generated ``send_*`` / ``request_*`` method is a class attribute (an ``Operation``
descriptor) typed through ``typing.ParamSpec`` by a keyword stub. These tests check what a user
relies on: ``mypy --strict`` sees the precise call forms and reply types of the showcase's
client and rejects wrong ones; at run time a call builds the same message the model form sends,
checks its keywords like a method, and leaves an optional payload out. Sending over a real
connection is covered by tests/test_client.py.
"""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from chanspec.runtime import client as runtime

from examples.showcase.generated.client import (
    AnalyticsClient,
    BackgroundJobsClient,
    RoomChatClient,
    SystemClient,
)
from examples.showcase.generated.messages import (
    AnalyticsEventMessage,
    AnalyticsEventPayload,
    JobMessage,
    JobRequest,
    JobType,
    PingMessage,
    SystemEchoMessage,
    Text,
    UserMessageMessage,
)

ROOT = Path(__file__).resolve().parent.parent

USE = """
from examples.showcase.generated.client import AnalyticsClient, BackgroundJobsClient, SystemClient
from examples.showcase.generated.messages import JobType, Text, UserMessageMessage


async def use(system: SystemClient, jobs: BackgroundJobsClient, stats: AnalyticsClient) -> None:
    reveal_type(await system.request_user_message(message="hi"))
    reveal_type(await system.request_user_message(UserMessageMessage(payload=Text(message="x"))))
    reveal_type(await system.send_ping())
    reveal_type(await jobs.request_submit(type=JobType.translate, content="x"))
    await stats.send_post(event="e")
    await stats.send_post(event="e", data={"k": 1})
    await system.request_user_message(mesage="hi")
    await jobs.send_submit(type="translate", content="x")
    await stats.send_post()
    await system.send_user_message(Text(message="x"))
"""


def test_methods_are_precisely_typed_under_mypy_strict(tmp_path: Path) -> None:
    use = tmp_path / "use_showcase_client.py"
    use.write_text(textwrap.dedent(USE))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports",
         "silent", "--cache-dir", str(tmp_path / "cache"), str(use)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    lines = [line for line in proc.stdout.splitlines() if ": note: Revealed" in line]
    revealed = [line.split('"')[1].rsplit(".", 1)[-1] for line in lines]
    assert revealed == ["SystemEchoMessage", "SystemEchoMessage", "None", "JobStatusMessage"]
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert [int(line.split(":")[1]) for line in errors] == [13, 14, 15, 16], proc.stdout
    assert '"mesage"' in errors[0] and 'did you mean "message"' in errors[0]


def test_keywords_build_the_same_message_as_the_model() -> None:
    operation = SystemClient.request_user_message
    assert isinstance(operation, runtime.Operation)
    assert operation.name == "request_user_message"
    assert operation.replies == (SystemEchoMessage,)
    by_keywords = operation.build((), {"message": "hi"})
    assert by_keywords == UserMessageMessage(payload=Text(message="hi"))
    jobs = BackgroundJobsClient.send_submit.build((), {"type": "translate", "content": "c"})
    assert jobs == JobMessage(payload=JobRequest(type=JobType.translate, content="c"))
    given = AnalyticsEventMessage(payload=AnalyticsEventPayload(event="e"))
    assert AnalyticsClient.send_post.build((given,), {}) is given


def test_an_optional_payload_is_left_out_without_keywords() -> None:
    ping = SystemClient.send_ping.build((), {})
    assert ping == PingMessage() and ping.payload is None
    assert ping.model_dump_json(by_alias=True) == '{"action":"ping"}'


def test_keywords_are_checked_like_a_method() -> None:
    with pytest.raises(TypeError, match=r"send_post\(\): .*'message'"):
        RoomChatClient.send_post.build((), {})
    with pytest.raises(TypeError, match=r"send_post\(\): .*'mesage'"):
        RoomChatClient.send_post.build((), {"message": "x", "mesage": "x"})
    with pytest.raises(TypeError, match="not both"):
        RoomChatClient.send_post.build((UserMessageMessage(payload=Text(message="x")),), {"a": 1})
    with pytest.raises(TypeError, match="expected RoomChatMessage"):
        RoomChatClient.send_post.build((UserMessageMessage(payload=Text(message="x")),), {})


def test_a_bound_method_shows_its_keywords_and_needs_a_connection() -> None:
    client = RoomChatClient("ws://127.0.0.1:1", "alpha")
    bound = client.send_post
    assert isinstance(bound, runtime.BoundOperation)
    assert list(inspect.signature(bound).parameters) == ["message"]
    assert inspect.signature(bound).parameters["message"].kind is inspect.Parameter.KEYWORD_ONLY

    async def unconnected() -> None:
        with pytest.raises(runtime.ClientClosed, match="not connected"):
            await bound(message="x")
        with pytest.raises(runtime.ClientClosed, match="not connected"):
            await RoomChatClient.send_post(client, message="x")  # as an unbound method

    asyncio.run(unconnected())


def test_request_needs_a_reply_model() -> None:
    with pytest.raises(ValueError, match="at least one reply"):
        runtime.request(PingMessage, lambda: None)  # type: ignore[call-overload]


def _replies_spec(count: int) -> str:
    """One channel, operation ``two`` with 2 replies and ``many`` with ``count``."""
    names = [f"r{i}" for i in range(count)]
    messages = {"ask": "ask", **{n: n for n in names}}
    lines = [
        "asyncapi: 3.0.0",
        "info: {title: replies, version: 1.0.0}",
        "channels:",
        "  c:",
        "    address: /ws/c",
        "    messages:",
        *(f"      {m}: {{$ref: '#/components/messages/{m}'}}" for m in messages),
        "operations:",
    ]
    for op, replies in (("two", names[:2]), ("many", names)):
        refs = ", ".join(f"{{$ref: '#/channels/c/messages/{n}'}}" for n in replies)
        lines += [
            f"  {op}:",
            "    action: receive",
            "    channel: {$ref: '#/channels/c'}",
            "    messages: [{$ref: '#/channels/c/messages/ask'}]",
            f"    reply: {{channel: {{$ref: '#/channels/c'}}, messages: [{refs}]}}",
        ]
    lines += ["components:", "  messages:"]
    lines += [
        "    ask: {payload: {type: object, properties: {action: {const: ask}, payload:"
        " {type: object, properties: {q: {type: string}}, required: [q]}},"
        " required: [action, payload]}}"
    ]
    for n in names:
        lines.append(
            f"    {n}: {{payload: {{type: object, properties: {{action: {{const: {n}}}}},"
            " required: [action]}}"
        )
    return "\n".join(lines) + "\n"


USE_REPLIES = """
from replies_app.generated.client import CClient


async def use(c: CClient) -> None:
    reveal_type(await c.request_two(q="x"))
    reveal_type(await c.request_many(q="x"))
"""


def test_reply_unions_up_to_the_typed_limit_then_the_model_only(tmp_path: Path) -> None:
    from chanspec.codegen.cli import main
    from click.testing import CliRunner

    assert runtime.TYPED_REPLIES == 4
    spec = tmp_path / "replies.asyncapi.yaml"
    spec.write_text(_replies_spec(runtime.TYPED_REPLIES + 1))
    out = tmp_path / "replies_app"
    result = CliRunner().invoke(main, ["generate", str(spec), "-o", str(out), "--client"])
    assert result.exit_code == 0, result.output
    source = (out / "generated" / "client.py").read_text()
    flat = " ".join(source.split()).replace("( ", "(").replace(", )", ")").replace(" )", ")")
    assert "request_two = runtime.request(AskMessage, _ask_payload, R0Message, R1Message)" in flat
    assert "async def request_many(self, message: AskMessage, /)" in flat
    assert "send_many = runtime.send(AskMessage, _ask_payload)" in flat  # keywords: no reply
    (tmp_path / "use_replies.py").write_text(USE_REPLIES)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
         str(tmp_path / "cache"), "replies_app/generated/client.py", "use_replies.py"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    revealed = [line for line in proc.stdout.splitlines() if "Revealed type" in line]
    union = "replies_app.generated.messages.R0Message | replies_app.generated.messages.R1Message"
    assert revealed[0].endswith(f'"{union}"'), proc.stdout
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "use_replies.py:7:" in errors[0], proc.stdout  # model only
    assert 'keyword argument "q"' in errors[0], proc.stdout
