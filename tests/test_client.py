"""The typed client (``chanspec generate --client``) against real generated servers.

The showcase's generated client (``examples/showcase/generated/client.py``) talks to the
showcase under real uvicorn (in-memory layers): typed request/reply, broadcasts by typed
iteration, error frames as ``ErrorFrame``, path parameters, reconnection across a server
restart on the same port. A small secured spec checks credentials end to end; clients generated
for golden cases pass ruff and ``mypy --strict`` and are deterministic.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from chanspec.codegen.cli import main
from chanspec.codegen.client_render import CLIENT_RESERVED
from chanspec.runtime.client import (
    Backoff,
    ChannelClient,
    ClientClosed,
    ErrorFrame,
    ErrorFrameReceived,
    HandshakeRejected,
    UnexpectedFrame,
    build_message,
    expand_address,
)
from click.testing import CliRunner
from pydantic import BaseModel

from examples.showcase.generated.client import (
    BackgroundJobsClient,
    ChatClient,
    RoomChatClient,
    SystemClient,
)
from examples.showcase.generated.messages import (
    ChatNotificationMessage,
    JobState,
    JobType,
    PingMessage,
    PingPayload,
    PongMessage,
    RoomNotificationMessage,
    RoomText,
    SystemEchoMessage,
    Text,
    UserMessageMessage,
)

from .golden_cases import spec_of
from .servers import REPO, free_port, stop, uvicorn_server, wait_port


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "CHANSPEC_"))}
    env.setdefault("PYTHONPATH", str(REPO))
    return {**env, **(extra or {})}


@pytest.fixture(scope="module")
def showcase() -> Iterator[str]:
    with uvicorn_server("examples.showcase.main:app", _env()) as url:
        yield url


# ---- typed round trips ------------------------------------------------------------------------


async def test_request_returns_the_typed_reply(showcase: str) -> None:
    async with SystemClient(showcase) as client:
        echo = await client.request_user_message(message="hi")  # payload fields as keywords
        assert isinstance(echo, SystemEchoMessage)
        assert echo.payload.message == "🔧 System Echo: hi"
        by_model = await client.request_user_message(
            UserMessageMessage(payload=Text(message="again"))
        )
        assert by_model == SystemEchoMessage(payload=Text(message="🔧 System Echo: again"))
        assert await client.request_ping() == PongMessage()
        anything = PingMessage(payload=PingPayload.model_validate({"anything": [1, 2]}))
        assert await client.request_ping(anything) == PongMessage()
        with pytest.raises(TimeoutError):  # replies were taken by the requests, nothing else
            await client.receive(timeout=0.3)


async def test_send_without_waiting_then_iterate_the_reply(showcase: str) -> None:
    async with SystemClient(showcase) as client:
        await client.send_user_message(message="fire and forget")
        await client.send_ping()
        got = [await client.receive(timeout=5), await client.receive(timeout=5)]
        assert got == [
            SystemEchoMessage(payload=Text(message="🔧 System Echo: fire and forget")),
            PongMessage(),
        ]


async def test_broadcast_is_received_by_typed_iteration(showcase: str) -> None:
    async with ChatClient(showcase) as listener:
        await asyncio.sleep(0.2)  # its own join notice goes out before the sender joins
        async with ChatClient(showcase) as sender:
            joined = await listener.receive(timeout=5)
            assert joined == ChatNotificationMessage(
                payload=Text(message="📢 Someone joined the chat")
            )
            await sender.send_post(message="hey")
            received: list[object] = []
            async for message in listener:
                received.append(message)
                break
            assert received == [ChatNotificationMessage(payload=Text(message="💬 hey"))]
            assert isinstance(received[0], ChatNotificationMessage)
            assert received[0].payload.message == "💬 hey"  # typed attribute access


async def test_error_frames_are_typed_and_the_connection_stays_open(showcase: str) -> None:
    async with ChatClient(showcase) as client:
        await client.send_raw('{"action": "chat", "payload": {"message": 5}}')
        error = await client.receive(timeout=5)
        assert isinstance(error, ErrorFrame)
        assert error.payload.code == "validation_error"
        assert error.payload.errors is not None
        assert [e.loc for e in error.payload.errors] == [["payload", "message"]]
        await client.send_raw("{not json")
        invalid = await client.receive(timeout=5)
        assert isinstance(invalid, ErrorFrame) and invalid.payload.code == "invalid_json"
        await client.send_raw(b"\x00\x01")
        binary = await client.receive(timeout=5)
        assert isinstance(binary, ErrorFrame) and binary.payload.code == "binary_frame"
        assert await client.request_ping() == PongMessage()  # still open


async def test_an_error_frame_answers_the_waiting_request(showcase: str) -> None:
    """A frame the server rejects while a request waits: the request raises with the frame."""
    async with SystemClient(showcase) as client:
        bad = Unchecked(action="user_message")  # the server requires a payload
        with pytest.raises(ErrorFrameReceived) as caught:
            await client.request_model(bad, (SystemEchoMessage,))
        assert caught.value.frame.payload.code == "validation_error"
        assert await client.request_ping() == PongMessage()


async def test_path_parameters_choose_the_room(showcase: str) -> None:
    async with (
        RoomChatClient(showcase, "alpha") as alpha,
        RoomChatClient(showcase, room_name="beta") as beta,
    ):
        assert alpha.url == f"{showcase}/ws/room/alpha"
        async with RoomChatClient(showcase, "alpha") as alpha2:
            joined = await alpha.receive(timeout=5)
            assert isinstance(joined, RoomNotificationMessage)
            assert joined.payload.room_name == "alpha"
            await alpha2.send_post(message="hello alpha")
            expected = RoomNotificationMessage(
                payload=RoomText(message="💬 hello alpha", room_name="alpha")
            )
            assert await alpha.receive(timeout=5) == expected
            assert await alpha2.receive(timeout=5) == expected
        with pytest.raises(TimeoutError):
            await beta.receive(timeout=0.3)  # another room hears nothing
        spaced = RoomChatClient(showcase, "a room/with slash")
        assert spaced.url == f"{showcase}/ws/room/a%20room%2Fwith%20slash"


async def test_job_reply_then_the_pushed_result(showcase: str) -> None:
    async with BackgroundJobsClient(showcase) as client:
        queued = await client.request_submit(type=JobType.translate, content="hello")
        assert queued.payload.status is JobState.queued
        done = await client.receive(timeout=15)  # pushed later by the job, not a reply
        assert not isinstance(done, ErrorFrame)
        assert done.action == "job_status"
        assert done.payload.job_id == queued.payload.job_id
        assert done.payload.result == "🌍 Translated: 'hello' → 'hola'"


class Unchecked(BaseModel):
    """A frame the client does not validate against the channel's models."""

    action: str


def test_client_demo_runs_against_the_showcase(showcase: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "examples.showcase.client_demo", "--url", showcase],
        cwd=REPO, env=_env(), capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "system    reply      🔧 System Echo: hello from the typed client"
    assert "room      alice sees 💬 hi alice (room demo)" in lines
    assert any(line.startswith("jobs      pushed     ✅ analyze job") for line in lines)
    assert lines[-1].startswith("system    error      validation_error: ")


def test_client_demo_reports_an_unreachable_server() -> None:
    url = f"ws://127.0.0.1:{free_port()}"
    proc = subprocess.run(
        [sys.executable, "-m", "examples.showcase.client_demo", "--url", url],
        cwd=REPO, env=_env(), capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"cannot reach the showcase at {url}")
    assert "Traceback" not in proc.stderr


# ---- reconnection -----------------------------------------------------------------------------


@contextlib.contextmanager
def showcase_on(port: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "examples.showcase.main:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=REPO, env=_env(),
    )  # fmt: skip
    try:
        wait_port(port, proc)
        yield proc
    finally:
        stop(proc)


async def test_reconnect_after_a_server_restart_on_the_same_port() -> None:
    port = free_port()
    url = f"ws://127.0.0.1:{port}"
    backoff = Backoff(initial=0.05, factor=2.0, maximum=0.4)
    with showcase_on(port) as first:
        client = await ChatClient(url, reconnect=backoff).connect()
        watcher = await ChatClient(url).connect()  # without reconnect
        assert await client.request_ping() == PongMessage()
        await asyncio.to_thread(stop, first)
        # without reconnect: iteration ends, sending fails
        async for message in watcher:
            assert isinstance(message, ChatNotificationMessage)  # notices before the stop
        with pytest.raises(ClientClosed):
            await watcher.send_ping()
        # with reconnect: a request made while the server is down waits for the new connection
        waiting = asyncio.create_task(client.request_ping())
        await asyncio.sleep(0.5)
        assert not waiting.done()
    with showcase_on(port):
        assert await asyncio.wait_for(waiting, 10) == PongMessage()
        assert client.connections == 2
        async with ChatClient(url) as other:
            await other.send_post(message="after restart")
            seen = []
            async for message in client:  # iteration continues on the new connection
                seen.append(message)
                if message == ChatNotificationMessage(payload=Text(message="💬 after restart")):
                    break
            assert all(isinstance(m, ChatNotificationMessage) for m in seen)
        await client.close()
        await watcher.close()
    with pytest.raises(ClientClosed):
        await client.send_ping()


async def test_first_connection_failure_and_refused_handshake_raise(showcase: str) -> None:
    with pytest.raises(OSError):
        await SystemClient(f"ws://127.0.0.1:{free_port()}").connect()

    class Nowhere(ChannelClient[ErrorFrame]):
        address = "/ws/not-served"

    with pytest.raises(HandshakeRejected) as refused:
        await Nowhere(showcase).connect()
    assert refused.value.status == 403  # starlette refuses unknown WebSocket routes with 403


# ---- runtime helpers --------------------------------------------------------------------------


def test_build_message_takes_a_model_or_fields_not_both() -> None:
    model = UserMessageMessage(payload=Text(message="x"))
    assert build_message(UserMessageMessage, (model,), {}, Text) is model
    built = build_message(UserMessageMessage, (), {"message": "y"}, Text)
    assert built.model_dump(by_alias=True) == {
        "action": "user_message",
        "payload": {"message": "y"},
    }
    with pytest.raises(TypeError, match="not both"):
        build_message(UserMessageMessage, (model,), {"message": "y"}, Text)
    with pytest.raises(TypeError, match="expected UserMessageMessage"):
        build_message(UserMessageMessage, (PongMessage(),), {}, Text)  # type: ignore[arg-type]
    assert build_message(PingMessage, (), {}, PingPayload, payload_required=False) == PingMessage()


def test_expand_address_encodes_each_parameter_as_one_segment() -> None:
    assert expand_address("/ws/room/{room}", {"room": "a/b c"}) == "/ws/room/a%2Fb%20c"
    assert expand_address("ws/{a}/{b}", {"a": "1", "b": "{b}"}) == "/ws/1/%7Bb%7D"
    with pytest.raises(KeyError):
        expand_address("/ws/{missing}", {})


def test_unexpected_frame_is_raised_not_swallowed() -> None:
    client = SystemClient("ws://127.0.0.1:1")
    with pytest.raises(UnexpectedFrame):
        client._parse('{"action": "system_echo", "payload": {}}')
    assert client._parse('{"action": "complete"}') is None
    error = client._parse('{"action": "error", "payload": {"code": "x", "detail": "d"}}')
    assert isinstance(error, ErrorFrame)


def test_reserved_names_cover_the_base_class() -> None:
    public = {n for n in dir(ChannelClient) if not n.startswith("_")}
    assert public <= CLIENT_RESERVED


def test_runtime_imports_without_websockets() -> None:
    probe = textwrap.dedent(
        """
        import asyncio, sys
        sys.modules["websockets"] = None  # as if not installed
        import chanspec.runtime, chanspec.runtime.client as c
        class X(c.ChannelClient[c.ErrorFrame]):
            address = "/x"
        try:
            asyncio.run(X("ws://127.0.0.1:1").connect())
        except ImportError as exc:
            print(exc)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'chanspec[client]'" in proc.stdout


# ---- credentials and typed path parameters, end to end -----------------------------------------

SECURE_SPEC = """
asyncapi: 3.0.0
info: {title: secure, version: 1.0.0}
servers:
  dev:
    host: localhost
    protocol: ws
    security:
      - $ref: '#/components/securitySchemes/queryKey'
      - $ref: '#/components/securitySchemes/headerKey'
      - $ref: '#/components/securitySchemes/token'
      - $ref: '#/components/securitySchemes/login'
      - $ref: '#/components/securitySchemes/cert'
channels:
  whoami:
    address: /ws/whoami/{tenant}
    parameters:
      tenant:
        enum: [acme, globex]
        description: The tenant.
    messages:
      ask: {$ref: '#/components/messages/ask'}
      identity: {$ref: '#/components/messages/identity'}
  closing:
    address: /ws/closing
    messages:
      ask: {$ref: '#/components/messages/ask'}
      identity: {$ref: '#/components/messages/identity'}
operations:
  whoami_ask:
    action: receive
    channel: {$ref: '#/channels/whoami'}
    messages: [{$ref: '#/channels/whoami/messages/ask'}]
    reply:
      channel: {$ref: '#/channels/whoami'}
      messages: [{$ref: '#/channels/whoami/messages/identity'}]
  closing_ask:
    action: receive
    channel: {$ref: '#/channels/closing'}
    messages: [{$ref: '#/channels/closing/messages/ask'}]
    reply:
      channel: {$ref: '#/channels/closing'}
      messages: [{$ref: '#/channels/closing/messages/identity'}]
components:
  messages:
    ask:
      payload:
        type: object
        properties:
          action: {const: ask}
        required: [action]
    identity:
      payload:
        type: object
        properties:
          action: {const: identity}
          payload: {$ref: '#/components/schemas/Identity'}
        required: [action, payload]
  schemas:
    Identity:
      type: object
      properties:
        tenant: {type: string}
        query: {type: string}
        key: {type: string}
        authorization: {type: string}
      required: [tenant, query]
  securitySchemes:
    queryKey: {type: httpApiKey, name: api_key, in: query}
    headerKey: {type: httpApiKey, name: X-Api-Key, in: header}
    token: {type: http, scheme: bearer}
    login: {type: userPassword}
    cert: {type: X509}
"""

# The server side echoes what the handshake carried (checking credentials is the server's
# business, tested elsewhere): authenticate() refuses only the query key "deny".
SECURE_CONSUMERS = {
    "whoami": """
from __future__ import annotations

from urllib.parse import parse_qsl

from chanspec.runtime import channel, ws_handler

from ..generated.channels import WhoamiChannel
from ..generated.messages import AskMessage, Identity, IdentityMessage


@channel("whoami")
class WhoamiConsumer(WhoamiChannel):
    async def authenticate(self) -> bool:
        return b"api_key=deny" not in self.scope["query_string"]

    @ws_handler("whoami_ask")
    async def ask(self, message: AskMessage) -> IdentityMessage:
        headers = {k.decode().lower(): v.decode() for k, v in self.scope["headers"]}
        query = parse_qsl(self.scope["query_string"].decode())
        return IdentityMessage(
            payload=Identity(
                tenant=self.path_params["tenant"],
                query=" ".join(f"{k}={v}" for k, v in query),
                key=headers.get("x-api-key"),
                authorization=headers.get("authorization"),
            )
        )
""",
    "closing": """
from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import ClosingChannel
from ..generated.messages import AskMessage, Identity, IdentityMessage


@channel("closing")
class ClosingConsumer(ClosingChannel):
    auth_refusal = "close"  # accept, then close with 4401 (what browsers can see)

    async def authenticate(self) -> bool:
        return b"api_key=deny" not in self.scope["query_string"]

    @ws_handler("closing_ask")
    async def ask(self, message: AskMessage) -> IdentityMessage:
        return IdentityMessage(payload=Identity(tenant="-", query="-"))
""",
}

SECURE_USE = """
from secure_app.generated.client import WhoamiClient

WhoamiClient("ws://x", "acme", query_key="k", token="t", login=("u", "p"))
WhoamiClient("ws://x", "initech")
WhoamiClient("ws://x", "acme", login="u:p")
"""


@pytest.fixture(scope="module")
def secure_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("secure")
    spec = root / "secure.asyncapi.yaml"
    spec.write_text(SECURE_SPEC, encoding="utf-8")
    result = CliRunner().invoke(main, ["generate", str(spec), "-o", str(root / "secure_app"),
                                       "--client"])  # fmt: skip
    assert result.exit_code == 0, result.output
    for module, source in SECURE_CONSUMERS.items():
        (root / "secure_app" / "consumers" / f"{module}.py").write_text(source)
    return root


async def test_credentials_and_path_parameters_reach_the_server(secure_app: Path) -> None:
    sys.path.insert(0, str(secure_app))
    try:
        from secure_app.generated.client import (  # type: ignore[import-not-found]
            ClosingClient,
            WhoamiClient,
        )
    finally:
        sys.path.remove(str(secure_app))
    env = _env({"PYTHONPATH": str(secure_app)})
    with uvicorn_server("secure_app.main:app", env, cwd=secure_app) as url:
        async with WhoamiClient(url, "globex", query_key="k 1", header_key="hk", token="tok") as c:
            identity = (await c.request_ask()).payload
            assert identity.tenant == "globex"
            assert identity.query == "api_key=k 1"
            assert identity.key == "hk"
            assert identity.authorization == "Bearer tok"
        async with WhoamiClient(url, "acme", login=("ann", "pa:ss")) as c:
            identity = (await c.request_ask()).payload
            assert identity.authorization == "Basic YW5uOnBhOnNz"  # base64 of ann:pa:ss
            assert identity.query == "" and identity.key is None
        with pytest.raises(HandshakeRejected) as refused:  # refused before accept: HTTP 401
            await WhoamiClient(url, "acme", query_key="deny").connect()
        assert refused.value.status == 401
        async with ClosingClient(url, query_key="deny") as closing:  # accepted, then closed
            with pytest.raises(HandshakeRejected) as closed:
                await closing.request_ask()
            assert closed.value.close_code == 4401
            with pytest.raises(HandshakeRejected):
                await closing.send_ask()  # every later use says why, too
        async with ClosingClient(url, query_key="ok") as closing:
            assert (await closing.request_ask()).payload.tenant == "-"
    source = (secure_app / "secure_app" / "generated" / "client.py").read_text()
    assert "cert (X509)" in source  # documented as not sent, no parameter for it


def test_typed_path_parameters_and_credentials_under_mypy(secure_app: Path) -> None:
    use = secure_app / "use_client.py"
    use.write_text(SECURE_USE)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports",
         "silent", "use_client.py"],
        cwd=secure_app, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == ["5", "6"], proc.stdout
    assert "'initech'" in errors[0] and "login" in errors[1]


async def test_non_envelope_channel_and_an_unfilled_stub(tmp_path: Path) -> None:
    """A channel routed on ``type`` (no envelope): the request is sent by fields; the scaffold's
    handler still raises NotImplementedError, so the answer is a typed error frame."""
    spec = spec_of("non-envelope")
    result = CliRunner().invoke(main, ["generate", str(spec), "-o", str(tmp_path / "quotes_app"),
                                       "--client"])  # fmt: skip
    assert result.exit_code == 0, result.output
    sys.path.insert(0, str(tmp_path))
    try:
        from quotes_app.generated.client import QuotesClient  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(tmp_path))
    env = _env({"PYTHONPATH": str(tmp_path)})
    with uvicorn_server("quotes_app.main:app", env, cwd=tmp_path) as url:
        async with QuotesClient(url) as quotes:
            with pytest.raises(ErrorFrameReceived) as caught:
                await quotes.request_subscribe(symbol="ACME", request_id="r1")
            assert caught.value.frame.payload.code == "not_implemented"
            await quotes.send_raw('{"type": "subscribe"}')
            invalid = await quotes.receive(timeout=5)
            assert isinstance(invalid, ErrorFrame)
            assert invalid.payload.code == "validation_error"
            assert invalid.payload.errors is not None
            assert [e.loc for e in invalid.payload.errors] == [["symbol"]]


# ---- generated code quality -------------------------------------------------------------------

GOLDEN_CLIENTS = ("keywords", "aliases", "unions", "non-envelope", "multi-message", "no-address",
                  "naming-collisions", "layers-groups")  # fmt: skip


def _generate_client(case: str, out: Path, seed: str) -> Path:
    proc = subprocess.run(
        [sys.executable, "-m", "chanspec.codegen", "generate", str(spec_of(case)), "-o",
         str(out), "--client"],
        capture_output=True, text=True, check=False, timeout=300,
        env={**_env(), "PYTHONHASHSEED": seed},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out / "generated" / "client.py"


def test_golden_case_clients_are_deterministic_ruff_and_mypy_strict_clean(tmp_path: Path) -> None:
    packages = []
    for case in GOLDEN_CLIENTS:
        name = "c_" + case.replace("-", "_")
        if case in ("keywords", "unions"):  # two interpreters, two hash seeds, same bytes
            first = _generate_client(case, tmp_path / name, "1")
            again = _generate_client(case, tmp_path / "again" / name, "777")
            assert first.read_bytes() == again.read_bytes(), case
        else:
            args = ["generate", str(spec_of(case)), "-o", str(tmp_path / name), "--client"]
            result = CliRunner().invoke(main, args)
            assert result.exit_code == 0, result.output
        packages.append(name)
    shutil.rmtree(tmp_path / "again")
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--extend-select", "I,UP,B",
         *packages],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ruff.returncode == 0, ruff.stdout
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         *(f"{p}/generated/client.py" for p in packages)],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert mypy.returncode == 0, mypy.stdout
    keywords = (tmp_path / "c_keywords" / "generated" / "client.py").read_text()
    # a field called `self` cannot be a keyword parameter: that method takes the model only
    assert "async def send_import(self, message: ImportMessage, /)" in keywords
    no_address = (tmp_path / "c_no_address" / "generated" / "client.py").read_text()
    assert "class HeartbeatClient" not in no_address  # no address, nothing to connect to


CLASHING_SPEC = """
asyncapi: 3.0.0
info: {title: clashing, version: 1.0.0}
channels:
  clash:
    address: /ws/{options}/{base_url}/{self}/{class}
    messages:
      send: {payload: {type: object, properties: {action: {const: send}}, required: [action]}}
operations:
  model:
    action: receive
    channel: {$ref: '#/channels/clash'}
    messages: [{$ref: '#/channels/clash/messages/send'}]
"""


def test_names_that_clash_with_the_base_class_are_renamed(tmp_path: Path) -> None:
    spec = tmp_path / "clashing.asyncapi.yaml"
    spec.write_text(CLASHING_SPEC)
    result = CliRunner().invoke(main, ["generate", str(spec), "-o", str(tmp_path / "clash_app"),
                                       "--client"])  # fmt: skip
    assert result.exit_code == 0, result.output
    namespace: dict[str, object] = {}
    source = (tmp_path / "clash_app" / "generated" / "client.py").read_text()
    code = source.replace("from .messages import", "from clash_app.generated.messages import")
    sys.path.insert(0, str(tmp_path))
    try:
        exec(compile(code, "client.py", "exec"), namespace)
    finally:
        sys.path.remove(str(tmp_path))
    clash = namespace["ClashClient"]
    assert isinstance(clash, type) and issubclass(clash, ChannelClient)
    client = clash("ws://h", "o", "b", "s", "c")
    assert client.url == "ws://h/ws/o/b/s/c"
    assert callable(vars(clash)["send_model_2"])  # send_model is the base class's own
    assert "send_model" not in vars(clash)
    flat = " ".join(source.split())
    assert "base_url: str, options_2: str, base_url_2: str, self_2: str, class_: str," in flat


def test_client_option_and_config_key(tmp_path: Path) -> None:
    spec = spec_of("non-envelope")
    runner = CliRunner()
    plain = runner.invoke(main, ["generate", str(spec), "-o", str(tmp_path / "a")])
    assert plain.exit_code == 0 and not (tmp_path / "a" / "generated" / "client.py").exists()
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        f'[tool.chanspec]\nspec = {json.dumps(str(spec))}\noutput = "app"\nclient = true\n'
    )
    cwd = Path.cwd()
    os.chdir(project)
    try:
        configured = runner.invoke(main, ["generate"])
        assert configured.exit_code == 0, configured.output
        assert (project / "app" / "generated" / "client.py").exists()
        assert runner.invoke(main, ["check"]).exit_code == 0
        # --no-client overrides the config: check fails while the client generate --no-client
        # would remove is there
        no_client = runner.invoke(main, ["check", "--no-client"])
        assert no_client.exit_code == 1 and "client.py (--no-client)" in no_client.output
        (project / "app" / "generated" / "client.py").write_text("# stale\n")
        stale = runner.invoke(main, ["check"])
        assert stale.exit_code == 1 and "client.py" in stale.output
    finally:
        os.chdir(cwd)
