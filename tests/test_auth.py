"""Authentication before accept, generated from the spec's securitySchemes (issue #5, item 2).

End to end: the golden ``security`` app (generated from ``tests/golden/security``) with its
verifiers and handlers filled in, served by real uvicorn and driven by a real WebSocket client.
The credential readers of ``chanspec.runtime.auth`` are also checked on handshake scopes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shutil
import textwrap
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import websockets
from chanspec.codegen.pipeline import generate
from chanspec.runtime.auth import (
    ApiKey,
    ApiKeyScheme,
    Basic,
    Bearer,
    CredentialsRejected,
    HttpApiKeyScheme,
    HttpScheme,
    MissingCredentials,
    UnsupportedScheme,
    UserPasswordScheme,
    authenticate_scope,
)
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from .conftest import Client, connect
from .golden_cases import GOLDEN
from .servers import uvicorn_server

AUTH = '''
"""Verifiers of the test app: fixed users."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chanspec.runtime.auth import ApiKey, Basic, Bearer, CredentialsRejected

__all__ = ["verify_admin_key", "verify_api_key", "verify_bearer", "verify_operator"]


async def verify_api_key(credentials: ApiKey, scope: Mapping[str, Any]) -> Any:
    return {"k-alice": "alice"}.get(credentials.value)


async def verify_bearer(credentials: Bearer, scope: Mapping[str, Any]) -> Any:
    if credentials.token == "t-bob":
        return "bob"
    raise CredentialsRejected("unknown token")


async def verify_operator(credentials: Basic, scope: Mapping[str, Any]) -> Any:
    if (credentials.username, credentials.password) == ("carol", "s3cret:pw"):
        return "carol"
    return None


async def verify_admin_key(credentials: ApiKey, scope: Mapping[str, Any]) -> Any:
    if credentials.value == "stub":  # as if this verifier were still the generated stub
        raise NotImplementedError("verify_admin_key")
    return "admin" if credentials.value == "adm-1" else None
'''

CHAT = """
from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import ChatChannel
from ..generated.messages import (
    ChatNoticeMessage,
    ChatPingMessage,
    ChatPongMessage,
    ChatPostMessage,
)

__all__ = ["ChatConsumer"]


@channel("chat")
class ChatConsumer(ChatChannel):
    @ws_handler("chat_ping")
    async def ping(self, message: ChatPingMessage) -> ChatPongMessage:
        return ChatPongMessage()

    @ws_handler("chat_post")
    async def post(self, message: ChatPostMessage) -> None:
        await self.broadcast_message(ChatNoticeMessage(text=f"{self.user}: {message.text}"))
"""

ADMIN = """
from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import AdminChannel
from ..generated.messages import AdminKickedMessage, AdminKickMessage

__all__ = ["AdminConsumer"]


@channel("admin")
class AdminConsumer(AdminChannel):
    auth_refusal = "close"  # refused handshakes end with a close code the client can read
    groups = ["admins"]

    @ws_handler("admin_kick")
    async def kick(self, message: AdminKickMessage) -> AdminKickedMessage:
        return AdminKickedMessage(who=f"{message.who} by {self.auth['operator']}")
"""

PUBLIC = """
from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import PublicChannel
from ..generated.messages import PublicHelloMessage

__all__ = ["PublicConsumer"]


@channel("public")
class PublicConsumer(PublicChannel):
    @ws_handler("public_hello")
    async def hello(self, message: PublicHelloMessage) -> PublicHelloMessage:
        return PublicHelloMessage()
"""

MAIN = '''
from fast_channels.layers import get_channel_layer
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chanspec.runtime import create_app

from .generated.document import METADATA
from .generated.layers import LAYERS
from .generated.routing import CONSUMERS, ROUTES


async def groups(request: Request) -> JSONResponse:
    """Test instrument: members per group of the in-memory layer of this process."""
    layer = get_channel_layer("chat")
    return JSONResponse({g: sorted(m) for g, m in getattr(layer, "groups", {}).items()})


app = create_app(
    ROUTES, layers=LAYERS, metadata=METADATA, consumers=CONSUMERS,
    extra_routes=[Route("/groups", groups)],
)
'''


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("security")
    app = root / "app"
    shutil.copytree(GOLDEN / "security" / "expected", app)
    for path, text in {"auth.py": AUTH, "consumers/chat.py": CHAT, "consumers/admin.py": ADMIN,
                       "consumers/public.py": PUBLIC, "main.py": MAIN}.items():  # fmt: skip
        (app / path).write_text(textwrap.dedent(text))
    with uvicorn_server("app.main:app", env={"REDIS_URL": ""}, cwd=Path(root)) as url:
        yield url


def groups(url: str) -> dict[str, list[str]]:
    http = url.replace("ws://", "http://") + "/groups"
    with urllib.request.urlopen(http, timeout=5) as response:
        data: dict[str, list[str]] = json.loads(response.read())
    return data


async def refused(url: str, **kwargs: Any) -> tuple[int, Any]:
    """Open a handshake that must be refused; returns the HTTP status and the JSON body."""
    with pytest.raises(InvalidStatus) as info:
        await websockets.connect(url, open_timeout=5, **kwargs)
    response = info.value.response
    REFUSALS.append(response.headers)
    return response.status_code, json.loads(response.body or b"null")


REFUSALS: list[Any] = []  # response headers of the refused handshakes, latest last


async def closed(url: str, **kwargs: Any) -> int:
    """Open a handshake refused in "close" mode; returns the close code (no frame before it).

    A frame is sent at once, racing the close: it must not be handled.
    """
    ws = await websockets.connect(url, open_timeout=5, **kwargs)
    with contextlib.suppress(websockets.ConnectionClosed):
        await ws.send(json.dumps({"action": "kick", "who": "x"}))
    with pytest.raises(ConnectionClosedError) as info:
        frame = await asyncio.wait_for(ws.recv(), 5)
        raise AssertionError(f"a refused client received {frame!r}")
    assert info.value.rcvd is not None
    return info.value.rcvd.code


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


# ---- end to end -------------------------------------------------------------------------------


async def test_unauthenticated_client_never_receives_a_broadcast(server: str) -> None:
    chat = server + "/ws/chat"
    member = await connect(chat + "?token=k-alice")
    poster = await connect(chat, additional_headers={"Authorization": "Bearer t-bob"})
    # refused before accept: never a WebSocket, so never a group member
    assert await refused(chat) == (401, {"code": 4401})
    assert REFUSALS[-1]["WWW-Authenticate"] == "Bearer"  # RFC 7235; the API key has no challenge
    assert await refused(chat + "?token=k-mallory") == (403, {"code": 4403})
    assert "WWW-Authenticate" not in REFUSALS[-1]
    assert await refused(chat, additional_headers={"Authorization": "Bearer t-eve"}) == (
        403, {"code": 4403},
    )  # fmt: skip
    members = await asyncio.to_thread(groups, server)
    assert len(members["chat_room"]) == 2

    await poster.send({"action": "post", "text": "members only"})
    expected = {"action": "notice", "text": "bob: members only"}
    assert await member.recv_action("notice") == expected
    assert await poster.recv_action("notice") == expected
    # in "close" mode too: the handshake completes only to carry the close code
    admin = server + "/ws/admin"
    assert await closed(admin) == 4401
    assert await closed(admin, additional_headers=basic("carol", "wrong")) == 4403
    assert "admins" not in await asyncio.to_thread(groups, server)
    for client in (member, poster):
        await client.close()


async def test_a_good_credential_works_for_each_scheme_type(server: str) -> None:
    chat = server + "/ws/chat"
    # httpApiKey in query; http bearer (header); either satisfies the server's security list
    for url, headers in ((chat + "?token=k-alice", {}),
                         (chat, {"Authorization": "bearer t-bob"})):  # fmt: skip
        client = await connect(url, additional_headers=headers)
        await client.send({"action": "ping"})
        assert await client.recv() == {"action": "pong"}
        await client.close()
    # userPassword (server) and httpApiKey in a header (the operation): both required
    headers = {**basic("carol", "s3cret:pw"), "X-Admin-Key": "adm-1"}
    admin = await connect(server + "/ws/admin", additional_headers=headers)
    await admin.send({"action": "kick", "who": "mallory"})
    assert await admin.recv() == {"action": "kicked", "who": "mallory by carol"}
    assert len((await asyncio.to_thread(groups, server))["admins"]) == 1
    await admin.close()
    # ws://user:password@host sends the same Authorization: Basic
    userinfo = server.replace("ws://", "ws://carol:s3cret%3Apw@") + "/ws/admin"
    admin = await connect(userinfo, additional_headers={"X-Admin-Key": "adm-1"})
    await admin.send({"action": "kick", "who": "eve"})
    assert await admin.recv() == {"action": "kicked", "who": "eve by carol"}
    await admin.close()
    # a channel whose servers declare no security stays open
    public = await connect(server + "/ws/public")
    await public.send({"action": "hello"})
    assert await public.recv() == {"action": "hello"}
    await public.close()


async def test_wrong_or_missing_credentials_close_with_documented_codes(server: str) -> None:
    chat, admin = server + "/ws/chat", server + "/ws/admin"
    operator = basic("carol", "s3cret:pw")
    # missing: 4401 (HTTP 401 when refused before accept)
    assert await refused(chat + "?other=1") == (401, {"code": 4401})
    assert await refused(chat + "?token=") == (401, {"code": 4401})
    assert await refused(chat, additional_headers={"Authorization": "Token k-alice"}) == (
        401, {"code": 4401},
    )  # fmt: skip
    assert await closed(admin, additional_headers={"X-Admin-Key": "adm-1"}) == 4401
    assert await closed(admin, additional_headers=operator) == 4401  # second requirement
    # rejected: 4403
    assert await closed(admin, additional_headers={**operator, "X-Admin-Key": "nope"}) == 4403
    assert await closed(admin, additional_headers={**basic("carol", "s3cret"),
                                                   "X-Admin-Key": "adm-1"}) == 4403  # fmt: skip
    # a verifier that is still a stub: 4501
    assert await closed(admin, additional_headers={**operator, "X-Admin-Key": "stub"}) == 4501
    # the server is fine afterwards
    client = await connect(chat + "?token=k-alice")
    await client.send({"action": "ping"})
    assert await client.recv() == {"action": "pong"}
    await client.close()


async def test_unfilled_generated_stubs_refuse_with_4501(tmp_path: Path) -> None:
    shutil.copytree(GOLDEN / "security" / "expected", tmp_path / "app")
    with uvicorn_server("app.main:app", env={"REDIS_URL": ""}, cwd=tmp_path) as url:
        assert await refused(url + "/ws/chat?token=anything") == (501, {"code": 4501})
        assert await refused(url + "/ws/chat") == (401, {"code": 4401})
        client = Client(await websockets.connect(url + "/ws/public", open_timeout=5))
        await client.send({"action": "hello"})
        assert (await client.recv())["payload"]["code"] == "not_implemented"
        await client.close()


# ---- reading credentials from the handshake scope ---------------------------------------------


def scope(query: bytes = b"", **headers: str) -> dict[str, Any]:
    return {
        "type": "websocket",
        "query_string": query,
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


def test_extractors_read_each_location() -> None:
    query = HttpApiKeyScheme("q", param="token", location="query")
    header = HttpApiKeyScheme("h", param="X-Key", location="header")
    cookie = HttpApiKeyScheme("c", param="session", location="cookie")
    assert query.extract(scope(b"a=1&token=k%20y")) == ApiKey("k y")
    assert query.extract(scope(b"token=")) is None
    assert header.extract(scope(x_key="v")) == ApiKey("v")  # header names case-insensitive
    assert cookie.extract(scope(cookie="a=1; session=s-1")) == ApiKey("s-1")
    assert cookie.extract(scope(cookie="a=1")) is None

    auth = base64.b64encode(b"user-key:pass-key").decode()
    user = ApiKeyScheme("u", location="user")
    password = ApiKeyScheme("p", location="password")
    assert user.extract(scope(authorization=f"Basic {auth}")) == ApiKey("user-key")
    assert password.extract(scope(authorization=f"basic {auth}")) == ApiKey("pass-key")
    assert UserPasswordScheme("b").extract(scope(authorization=f"Basic {auth}")) == Basic(
        "user-key", "pass-key"
    )
    for junk in ("Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(),
                 "Basic " + base64.b64encode(b"\xff:\xfe").decode(), "Basic", ""):  # fmt: skip
        assert UserPasswordScheme("b").extract(scope(authorization=junk)) is None

    bearer = HttpScheme("t", scheme="bearer")
    assert bearer.extract(scope(authorization="Bearer  abc.def ")) == Bearer("abc.def")
    assert bearer.extract(scope(authorization="Basic abc")) is None
    assert HttpScheme("b", scheme="basic").extract(scope(authorization=f"Basic {auth}")) == Basic(
        "user-key", "pass-key"
    )
    assert UnsupportedScheme("o", scheme_type="oauth2").extract(scope(authorization="x")) is None


async def test_requirements_all_hold_and_alternatives_any() -> None:
    seen: list[str] = []

    async def good(credentials: Any, _: Mapping[str, Any]) -> Any:
        seen.append(repr(credentials))
        return "ok" if getattr(credentials, "value", "") != "bad" else None

    key = HttpApiKeyScheme("key", verify=good, param="k", location="query")
    other = HttpApiKeyScheme("other", verify=good, param="o", location="query")
    sso = UnsupportedScheme("sso", scheme_type="oauth2")
    assert await authenticate_scope([], scope()) == {}
    assert await authenticate_scope([(sso, key)], scope(b"k=1")) == {"key": "ok"}
    with pytest.raises(MissingCredentials, match="sso, key") as missing:
        await authenticate_scope([(sso, key)], scope())
    assert missing.value.challenges == ()  # API keys have no RFC 7235 challenge
    login = (HttpScheme("jwt", scheme="bearer"), UserPasswordScheme('op"\r\nX: 1'))
    with pytest.raises(MissingCredentials) as missing:
        await authenticate_scope([login], scope())
    assert missing.value.challenges == ("Bearer", 'Basic realm="op___X: 1"')
    with pytest.raises(CredentialsRejected, match="key"):
        await authenticate_scope([(key,)], scope(b"k=bad"))
    # a rejected alternative does not stop the next one from satisfying the requirement
    assert await authenticate_scope([(key, other)], scope(b"k=bad&o=1")) == {"other": "ok"}
    # every requirement must hold
    with pytest.raises(MissingCredentials, match="other"):
        await authenticate_scope([(key,), (other,)], scope(b"k=1"))
    seen.clear()
    assert await authenticate_scope([(key,), (key, other)], scope(b"k=1&o=1")) == {"key": "ok"}
    assert len(seen) == 1  # a scheme satisfied once is not verified again
    with pytest.raises(NotImplementedError):
        await authenticate_scope([(HttpApiKeyScheme("stub", param="k"),)], scope(b"k=1"))


# ---- generation -------------------------------------------------------------------------------

SPEC = GOLDEN / "security" / "spec.asyncapi.yaml"


def test_regeneration_appends_a_stub_for_a_new_scheme_and_keeps_the_users_verifiers(
    tmp_path: Path,
) -> None:
    out = tmp_path / "app"
    assert generate(SPEC, out, package="app").report is not None
    mine = textwrap.dedent(AUTH).lstrip()
    (out / "auth.py").write_text(mine)
    spec = tmp_path / "spec.yaml"
    text = SPEC.read_text()
    text = text.replace(  # the public server now wants a session cookie
        "    host: public.example.com\n    protocol: wss\n",
        "    host: public.example.com\n    protocol: wss\n    security:\n"
        "      - $ref: '#/components/securitySchemes/session'\n",
    )
    text += "    session:\n      type: httpApiKey\n      name: sid\n      in: cookie\n"
    spec.write_text(text)
    assert generate(spec, out, package="app", mode="check").report.changed  # type: ignore[union-attr]
    result = generate(spec, out, package="app")
    assert not result.failed and result.report is not None
    assert result.report.updated == {"auth.py": ["verify_session"]}
    updated = (out / "auth.py").read_text()
    assert updated.startswith(mine)  # every line of the user's module, untouched
    assert "async def verify_session(credentials: ApiKey, scope: Mapping[str, Any]) -> Any:" in (
        updated
    )
    assert "the cookie 'sid'" in updated
    assert "security = ((SESSION,),)" in (out / "generated" / "channels.py").read_text()
    again = generate(spec, out, package="app")
    assert again.report is not None and not again.report.changed


def test_scheme_problems_are_located_warnings(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        textwrap.dedent(
            """\
            asyncapi: 3.0.0
            info: {title: t, version: '1'}
            servers:
              open: {host: a, protocol: ws}
              locked:
                host: b
                protocol: ws
                security:
                  - $ref: '#/components/securitySchemes/cert'
                  - $ref: '#/components/securitySchemes/digest'
                  - $ref: '#/components/securitySchemes/key'
            channels:
              c:
                address: /ws/c
                messages:
                  m: {payload: {type: object}}
            operations:
              c_m:
                action: receive
                channel: {$ref: '#/channels/c'}
            components:
              securitySchemes:
                cert: {type: X509}
                digest: {type: http, scheme: digest}
                key: {type: apiKey, in: password}
            """
        )
    )
    result = generate(spec, tmp_path / "app", package="app")
    assert not result.failed
    found = {(p.code, p.pointer) for p in result.problems if p.code.startswith("N06")}
    assert found == {
        ("N060", "/components/securitySchemes/cert"),
        ("N061", "/components/securitySchemes/digest"),
        ("N062", "/channels/c"),
    }
    assert all(p.position is not None for p in result.problems if p.code.startswith("N06"))
    channels = (tmp_path / "app" / "generated" / "channels.py").read_text()
    assert "security = ((CERT, DIGEST, KEY),)" in channels
    auth = (tmp_path / "app" / "auth.py").read_text()
    assert "def verify_key(" in auth and "verify_cert" not in auth


def test_no_handler_or_parameter_property_can_shadow_a_consumer_attribute() -> None:
    """``security``, ``user``, ``auth`` ... are consumer attributes: an operation or a path
    parameter with such a name must get another method/property name (``on_user``)."""
    from chanspec.codegen.naming import RESERVED_METHODS
    from chanspec.runtime import Consumer

    public = {n for n in dir(Consumer) if not n.startswith("_") and not n.startswith("websocket_")}
    assert public - RESERVED_METHODS == set()
    assert {"security", "user", "auth", "auth_refusal", "authenticate"} <= RESERVED_METHODS


OTHER_SCHEMES_APP = '''
"""The scheme types the golden spec does not use, wired by hand on the runtime classes."""

from collections.abc import Mapping
from typing import Any, Literal

from starlette.routing import WebSocketRoute

from chanspec.runtime import Consumer, Message, create_app, ws_handler
from chanspec.runtime.auth import ApiKeyScheme, HttpApiKeyScheme, HttpScheme


async def verify(credentials: Any, scope: Mapping[str, Any]) -> Any:
    return {"ApiKey(value='c-1')": "cookie", "ApiKey(value='u-1')": "user",
            "Basic(username='dan', password='pw')": "basic"}.get(repr(credentials))


class WhoAmI(Message):
    action: Literal["whoami"] = "whoami"
    name: str = ""


class Other(Consumer):
    address = "/ws/other"
    auth_refusal = "close"
    security = ((
        HttpApiKeyScheme("session", verify=verify, param="sid", location="cookie"),
        ApiKeyScheme("userKey", verify=verify, location="user"),
        HttpScheme("basic", verify=verify, scheme="basic"),
    ),)

    @ws_handler
    async def whoami(self, message: WhoAmI) -> WhoAmI:
        return WhoAmI(name=str(self.user))


app = create_app([WebSocketRoute("/ws/other", Other.as_asgi())], environ={})
'''


async def test_cookie_api_key_in_user_and_http_basic(tmp_path: Path) -> None:
    (tmp_path / "other_app.py").write_text(OTHER_SCHEMES_APP)
    with uvicorn_server("other_app:app", cwd=tmp_path) as base:
        url = base + "/ws/other"
        for headers, name in (
            ({"Cookie": "theme=dark; sid=c-1"}, "cookie"),
            (basic("u-1", ""), "user"),  # apiKey in: user (ws://u-1@host)
            (basic("dan", "pw"), "basic"),
        ):
            client = await connect(url, additional_headers=headers)
            await client.send({"action": "whoami"})
            assert await client.recv() == {"action": "whoami", "name": name}
            await client.close()
        assert await closed(url) == 4401
        assert await closed(url, additional_headers={"Cookie": "sid=c-2"}) == 4403
        assert await closed(url, additional_headers=basic("dan", "nope")) == 4403


def test_hostile_scheme_names_and_descriptions_stay_inert(tmp_path: Path) -> None:
    hostile = "\"\"\"\\n__import__('os').system('boom') #"
    spec = tmp_path / "spec.json"
    scheme = {"type": "httpApiKey", "name": hostile, "in": "header", "description": hostile}
    ref = "#/components/securitySchemes/" + urllib.parse.quote(hostile)
    spec.write_text(
        json.dumps(
            {
                "asyncapi": "3.0.0",
                "info": {"title": hostile, "version": "1"},
                "servers": {"s": {"host": "h", "protocol": "ws",
                                  "security": [{"$ref": "#/components/securitySchemes/x"},
                                               {"$ref": ref}]}},
                "channels": {"c": {"address": "/ws/c", "messages": {"m": {"payload": {}}}}},
                "operations": {"o": {"action": "receive", "channel": {"$ref": "#/channels/c"}}},
                "components": {"securitySchemes": {"x": scheme, hostile: scheme}},
            }
        )
    )  # fmt: skip
    out = tmp_path / "app"
    result = generate(spec, out, package="app")
    assert not result.failed, result.problems
    for name in ("auth.py", "generated/security.py", "generated/channels.py"):
        source = (out / name).read_text()
        compile(source, name, "exec")  # still Python
        assert "\n__import__" not in source  # the spec's text never became a statement
    security = (out / "generated" / "security.py").read_text()
    assert security.count("HttpApiKeyScheme(") == 2  # both schemes, the hostile name too


async def test_in_process_communicator_sees_the_close_codes() -> None:
    from chanspec.runtime import Consumer
    from chanspec.runtime.testing import Communicator

    async def verify(credentials: Any, scope: Mapping[str, Any]) -> Any:
        if credentials.value == "todo":
            raise NotImplementedError("verify")
        return {"good": "ann"}.get(credentials.value)

    class Guarded(Consumer):
        address = "/ws/guarded"
        security = ((HttpApiKeyScheme("key", verify=verify, param="k", location="query"),),)

    for query, code in ((b"", 4401), (b"k=bad", 4403), (b"k=todo", 4501)):
        comm = Communicator(Guarded, "/ws/guarded", query_string=query)
        assert await comm.connect() == (False, code)
        await comm.disconnect()
    async with Communicator(Guarded, "/ws/guarded", query_string=b"k=good") as comm:
        assert comm.instance.user == "ann" and comm.instance.auth == {"key": "ann"}
