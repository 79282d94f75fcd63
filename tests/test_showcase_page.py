"""The showcase page (``examples/showcase/page``) in headless Chromium against the real showcase.

The showcase runs as ``python -m examples.showcase.dev`` runs it with Redis: one uvicorn server
with ``REDIS_URL`` (a real redis-server from the session fixture, so every declared layer is
real) and one arq worker, so background jobs run in the worker and the external sender, a
separate process, reaches the server's consumers. Browsers are Debian's chromium driven through
selenium and chromedriver, as in ``test_html_docs.py``; a missing browser, driver or selenium
fails the tests with how to install them, never skips. One test also runs the showcase as plain
``uvicorn examples.showcase.main:app`` does (no Redis: in-memory layers, jobs in the server).

Set ``CHANSPEC_SHOWCASE_SCREENSHOT=docs/showcase-page.png`` to also save the screenshot used in
``docs/showcase-page.md`` (taken by ``test_every_panel_round_trips_its_messages``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from .servers import REPO, RedisServer, background, uvicorn_server
from .test_html_docs import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS, INSTALL, severe, wait_for

PAGE_DIR = REPO / "examples" / "showcase" / "page"
LOCAL = ("sent", "local", "info")  # log entries the page writes itself, not server frames
CONSUMER_PANELS = {  # channel id -> action of the notices an external sender makes it show
    "chat": "chat_notification",
    "reliable_chat": "reliable_chat_notification",
    "notifications": "notification_broadcast",
    "analytics": "analytics_notification",
}


# ---- the server and the browsers ----------------------------------------------------------------


@pytest.fixture(scope="module")
def showcase(redis_session: RedisServer) -> Iterator[str]:
    """The showcase (server + arq worker) on one real Redis; yields its http base URL."""
    redis_session.flush()
    env = {"REDIS_URL": redis_session.url, "SHOWCASE_JOB_DELAY": "0.1"}
    worker = [sys.executable, "-m", "arq", "examples.showcase.jobs.WorkerSettings"]
    with background(worker, env), uvicorn_server("examples.showcase.main:app", env) as url:
        yield url.replace("ws://", "http://", 1)


@pytest.fixture(scope="module")
def embedded() -> Iterator[str]:
    """The showcase as ``uvicorn examples.showcase.main:app`` runs it: no Redis, no worker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "CHANSPEC_"))}
    with uvicorn_server("examples.showcase.main:app", env) as url:
        yield url.replace("ws://", "http://", 1)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Callable[[], Any]]:
    """A factory of fresh headless Chromium sessions (own profile each), all quit at the end."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (Python package)")
    if missing:
        pytest.fail(f"missing {', '.join(missing)}; {INSTALL}", pytrace=False)
    started: list[tuple[Any, str]] = []

    def start() -> Any:
        profile = tempfile.mkdtemp(prefix="chanspec-chromium-")
        options = Options()
        options.binary_location = CHROMIUM
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,1400"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        started.append((driver, profile))
        return driver

    try:
        yield start
    finally:
        for driver, profile in started:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def alice(chromium: Callable[[], Any]) -> Any:
    return chromium()


@pytest.fixture(scope="module")
def bob(chromium: Callable[[], Any]) -> Any:
    return chromium()


@pytest.fixture(scope="module")
def carol(chromium: Callable[[], Any]) -> Any:
    return chromium()


# ---- driving the page ---------------------------------------------------------------------------


def open_page(driver: Any, base: str, path: str = "/") -> None:
    """Load the page fresh (``/`` redirects to ``/showcase/``) with an empty console log."""
    driver.get("about:blank")
    driver.get_log("browser")
    driver.get(base + path)
    assert wait_for(
        lambda: driver.execute_script("return document.body.dataset.ready === 'true'"), 10
    ), driver.find_element("id", "load-status").text
    assert driver.current_url == f"{base}/showcase/"


def panel(driver: Any, cid: str) -> Any:
    return driver.find_element("id", f"panel-{cid}")


def state(driver: Any, cid: str) -> str:
    return str(panel(driver, cid).get_attribute("data-state"))


def connect(driver: Any, cid: str, **params: str) -> None:
    section = panel(driver, cid)
    for name, value in params.items():
        box = section.find_element("css selector", f'input[name="param-{name}"]')
        box.clear()
        box.send_keys(value)
    section.find_element("css selector", "button.connect").click()
    assert wait_for(lambda: state(driver, cid) == "connected"), state(driver, cid)
    # The socket opens before the server joins the groups; frames of a connection are handled
    # after its connect handler, so a pong proves the joins are done.
    pongs = lambda: sum(e["action"] == "pong" for e in entries(driver, cid))  # noqa: E731
    before = pongs()
    send(driver, cid, "ping")
    assert wait_for(lambda: pongs() > before), entries(driver, cid)


def send(driver: Any, cid: str, message: str, **fields: str) -> None:
    """Fill the form of ``message`` (field name = dotted path, ``payload__x`` for ``payload.x``)."""
    from selenium.webdriver.support.select import Select

    form = panel(driver, cid).find_element("css selector", f'form[data-message="{message}"]')
    for key, value in fields.items():
        control = form.find_element("css selector", f'[name="{key.replace("__", ".")}"]')
        if control.tag_name == "select":
            Select(control).select_by_visible_text(value)
        else:
            control.clear()
            control.send_keys(value)
    form.find_element("css selector", 'button[type="submit"]').click()


def send_raw(driver: Any, cid: str, text: str) -> None:
    section = panel(driver, cid)
    section.find_element("css selector", "details.raw > summary").click()
    area = section.find_element("css selector", 'textarea[name="raw"]')
    area.clear()
    area.send_keys(text)
    section.find_element("css selector", "details.raw button[type=submit]").click()


def entries(driver: Any, cid: str) -> list[dict[str, Any]]:
    """The panel's log: kind, action, text and (parsed) frame of each entry."""
    rows: list[dict[str, Any]] = driver.execute_script(
        """
        return [...document.querySelectorAll(`#panel-${arguments[0]} .log > li`)].map(li => ({
          kind: li.dataset.kind, action: li.dataset.action,
          text: li.querySelector('.text').textContent,
          frame: li.querySelector('.frame') ? li.querySelector('.frame').textContent : null,
        }));
        """,
        cid,
    )
    for row in rows:
        if row["frame"] is not None and row["kind"] != "sent":
            row["frame"] = json.loads(row["frame"])
    return rows


def received(driver: Any, cid: str, text: str, timeout: float = 8.0) -> dict[str, Any]:
    """Wait for a frame from the server whose text contains ``text``; fail on timeout."""

    def find() -> dict[str, Any] | None:
        return next(
            (e for e in entries(driver, cid) if e["kind"] not in LOCAL and text in e["text"]),
            None,
        )

    found = wait_for(find, timeout)
    assert found, f"{text!r} not in the {cid} panel: {entries(driver, cid)}"
    return found  # type: ignore[no-any-return]


def texts(driver: Any, cid: str) -> str:
    return "\n".join(e["text"] for e in entries(driver, cid))


def document(base: str) -> dict[str, Any]:
    doc: dict[str, Any] = httpx.get(f"{base}/asyncapi.json", timeout=10).json()
    return doc


def receive_messages(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Per channel with an address: the keys of the messages its receive operations take."""
    out: dict[str, list[str]] = {cid: [] for cid, ch in doc["channels"].items() if ch["address"]}
    for op in doc["operations"].values():
        cid = op["channel"]["$ref"].removeprefix("#/channels/")
        if op["action"] == "receive" and cid in out:
            for ref in op["messages"]:
                key = ref["$ref"].rsplit("/", 1)[1]
                if key not in out[cid]:
                    out[cid].append(key)
    return out


# ---- tests --------------------------------------------------------------------------------------


def test_page_is_served_and_self_contained(showcase: str) -> None:
    root = httpx.get(f"{showcase}/", timeout=10)
    assert (root.status_code, root.headers["location"]) == (307, "/showcase/")
    bare = httpx.get(f"{showcase}/showcase", timeout=10)
    assert bare.status_code == 307 and bare.headers["location"].endswith("/showcase/")
    for name, media in (
        ("", "text/html"),
        ("app.js", "text/javascript"),
        ("style.css", "text/css"),
    ):
        response = httpx.get(f"{showcase}/showcase/{name}", timeout=10)
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith(media), name
        assert response.text == (PAGE_DIR / (name or "index.html")).read_text(encoding="utf-8")
    assert httpx.get(f"{showcase}/showcase/__init__.py", timeout=10).status_code == 404

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[tuple[str, dict[str, str]]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append((tag, {k: v or "" for k, v in attrs}))

    parser = Tags()
    parser.feed((PAGE_DIR / "index.html").read_text(encoding="utf-8"))
    urls = [a[k] for _, a in parser.tags for k in ("src", "href") if k in a]
    assert sorted(urls) == ["../asyncapi", "../asyncapi.json", "app.js", "data:,", "style.css"]
    csp = next(a for t, a in parser.tags if a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp["content"] and "connect-src 'self'" in csp["content"]
    script = (PAGE_DIR / "app.js").read_text(encoding="utf-8")
    css = (PAGE_DIR / "style.css").read_text(encoding="utf-8")
    assert not re.search(r"https?:|//[a-z]", script.replace("// ", "")), "a URL in app.js"
    assert "innerHTML" not in script and "eval(" not in script
    assert "url(" not in css and "@import" not in css


def test_page_builds_a_panel_per_channel_from_the_document(alice: Any, showcase: str) -> None:
    open_page(alice, showcase)
    doc = document(showcase)
    expected = receive_messages(doc)
    assert list(expected) == [
        "system", "room_chat", "background_jobs", "chat", "reliable_chat", "notifications",
        "analytics",
    ]  # fmt: skip
    shown = alice.execute_script(
        "return [...document.querySelectorAll('section.panel')].map(s => [s.dataset.channel,"
        " [...s.querySelectorAll('form.send-form')].map(f => f.dataset.message)])"
    )
    assert dict(shown) == expected and [cid for cid, _ in shown] == list(expected)
    assert alice.title == "chanspec showcase \u2014 live"
    for cid, channel in doc["channels"].items():
        head = panel(alice, cid).find_element("css selector", ".panel-head").text
        assert channel["address"] in head
        assert channel.get("x-channel-layer", "no channel layer") in head
    # the room name is an input; the job type a select of the spec's enum
    room = panel(alice, "room_chat").find_element("css selector", 'input[name="param-room_name"]')
    assert room.is_displayed()
    options = panel(alice, "background_jobs").find_elements(
        "css selector", 'select[name="payload.type"] option'
    )
    job = doc["channels"]["background_jobs"]["messages"]["job"]["payload"]
    assert [o.text for o in options] == job["properties"]["payload"]["properties"]["type"]["enum"]
    # nothing is connected until asked
    assert {state(alice, cid) for cid in expected} == {"disconnected"}
    assert severe(alice) == []


def test_two_sessions_in_one_room_see_each_other_and_not_another_room(
    alice: Any, bob: Any, carol: Any, showcase: str
) -> None:
    tag = uuid.uuid4().hex[:6]
    for driver in (alice, bob, carol):
        open_page(driver, showcase)
    connect(alice, "room_chat", room_name=f"alpha-{tag}")
    connect(bob, "room_chat", room_name=f"alpha-{tag}")
    received(alice, "room_chat", f"Someone joined room 'alpha-{tag}'")
    connect(carol, "room_chat", room_name=f"beta-{tag}")

    send(alice, "room_chat", "room_chat", payload__message="hello from alice")
    for driver in (alice, bob):
        got = received(driver, "room_chat", "hello from alice")
        assert (got["kind"], got["action"]) == ("broadcast", "room_notification")
        assert got["frame"]["payload"] == {
            "message": "\U0001f4ac hello from alice",
            "room_name": f"alpha-{tag}",
        }
    send(bob, "room_chat", "room_chat", payload__message="hi alice, bob here")
    received(alice, "room_chat", "hi alice, bob here")
    send(carol, "room_chat", "room_chat", payload__message="only beta hears this")
    received(carol, "room_chat", "only beta hears this")
    # after beta's message, one more alpha message: if beta's had leaked, it would be there first
    send(alice, "room_chat", "room_chat", payload__message="still alpha")
    for driver in (alice, bob):
        received(driver, "room_chat", "still alpha")
        assert "only beta hears this" not in texts(driver, "room_chat")
    beta = texts(carol, "room_chat")
    assert "hello from alice" not in beta and "bob here" not in beta and "still alpha" not in beta
    assert "joined" not in beta  # carol was alone in beta
    # bob leaves: alice is told, carol is not
    panel(bob, "room_chat").find_element("css selector", "button.disconnect").click()
    assert wait_for(lambda: state(bob, "room_chat") == "disconnected")
    received(alice, "room_chat", f"Someone left room 'alpha-{tag}'")
    for driver in (alice, bob, carol):
        assert severe(driver) == []


def test_a_background_job_result_appears_in_the_jobs_panel(alice: Any, showcase: str) -> None:
    open_page(alice, showcase)
    connect(alice, "background_jobs")
    send(alice, "background_jobs", "job", payload__type="translate", payload__content="hello")
    queued = received(alice, "background_jobs", "queued")
    assert queued["action"] == "job_status" and queued["frame"]["payload"]["status"] == "queued"
    job_id = queued["frame"]["payload"]["job_id"]
    done = received(alice, "background_jobs", f"job {job_id} finished")
    assert done["frame"]["payload"]["result"] == "\U0001f30d Translated: 'hello' \u2192 'hola'"
    send(alice, "background_jobs", "job", payload__type="analyze", payload__content="two words")
    analysed = wait_for(
        lambda: [
            e
            for e in entries(alice, "background_jobs")
            if "analyze job" in e["text"] and e["frame"]["payload"]["status"] == "done"
        ],  # fmt: skip
        8,
    )
    assert analysed and "words=2" in analysed[0]["frame"]["payload"]["result"]
    assert severe(alice) == []


def test_external_sender_notice_appears_on_the_consumer_panels(
    alice: Any, showcase: str, redis_session: RedisServer
) -> None:
    open_page(alice, showcase)
    for cid in CONSUMER_PANELS:
        connect(alice, cid)
    received(alice, "notifications", "Connected to notifications!")  # subscribed
    notice = f"maintenance at 5 ({uuid.uuid4().hex[:6]})"
    proc = subprocess.run(
        [sys.executable, "-m", "examples.showcase.external_sender", notice, "--periodic", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
        env={**os.environ, "REDIS_URL": redis_session.url, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = received(alice, "notifications", f"\U0001f6a8 {notice}")
    assert got["action"] == "notification_broadcast"
    assert "event" in got["kind"].split()
    assert got["frame"]["payload"] == {"type": "system", "message": f"\U0001f6a8 {notice}"}
    received(alice, "notifications", f"#1 {notice}")
    for cid, action in CONSUMER_PANELS.items():
        assert received(alice, cid, notice)["action"] == action
    assert severe(alice) == []


def test_error_frames_are_logged_and_the_connection_stays_open(alice: Any, showcase: str) -> None:
    open_page(alice, showcase)
    connect(alice, "background_jobs")
    send_raw(alice, "background_jobs", "this is not JSON")
    error = received(alice, "background_jobs", "invalid_json")
    assert error["kind"] == "error" and error["frame"]["payload"]["code"] == "invalid_json"
    send(alice, "background_jobs", "job", payload__type="analyze", payload__content="")
    invalid = received(alice, "background_jobs", "validation_error")
    assert invalid["frame"]["payload"]["errors"][0]["loc"] == ["payload", "content"]
    assert "payload.content" in invalid["text"]
    # a bad JSON value typed in a free-form field is not sent at all
    connect(alice, "analytics")
    send(alice, "analytics", "analytics_event", payload__event="e", payload__data="{oops")
    local = wait_for(lambda: [e for e in entries(alice, "analytics") if e["kind"] == "local"])
    assert local and "payload.data: not JSON" in local[0]["text"]
    assert [e["action"] for e in entries(alice, "analytics") if e["kind"] == "sent"] == ["ping"]
    assert state(alice, "background_jobs") == "connected"
    send(alice, "background_jobs", "ping")
    assert wait_for(
        lambda: [e["action"] for e in entries(alice, "background_jobs")][-2:] == ["ping", "pong"]
    )
    assert severe(alice) == []


def test_every_panel_round_trips_its_messages(alice: Any, showcase: str) -> None:
    alice.set_window_size(1280, 1400)
    open_page(alice, showcase)
    alice.find_element("id", "connect-all").click()
    cids = list(receive_messages(document(showcase)))
    assert wait_for(lambda: all(state(alice, cid) == "connected" for cid in cids))
    send(alice, "system", "user_message", payload__message="hi there")
    echo = received(alice, "system", "System Echo: hi there")
    assert (echo["kind"], echo["action"]) == ("reply", "system_echo")
    send(alice, "system", "ping")
    send_raw(alice, "system", '{"action": "shout"}')
    unknown = received(alice, "system", "unknown_message")
    assert (unknown["kind"], unknown["action"]) == ("error", "error")
    assert wait_for(lambda: [e for e in entries(alice, "system") if e["kind"] == "reply"
                             and e["action"] == "pong"])  # fmt: skip
    send(alice, "room_chat", "room_chat", payload__message="anyone in the demo room?")
    received(alice, "room_chat", "anyone in the demo room?")
    send(alice, "background_jobs", "job", payload__type="translate", payload__content="thank you")
    received(alice, "background_jobs", "finished")
    send(alice, "chat", "chat", payload__message="hello chat")
    received(alice, "chat", "\U0001f4ac hello chat")
    send(alice, "reliable_chat", "reliable_chat", payload__message="queued delivery")
    received(alice, "reliable_chat", "\U0001f4e8 queued delivery")
    send(alice, "notifications", "notification", payload__message="deploy done")
    received(alice, "notifications", "Notification: deploy done")
    send(alice, "analytics", "analytics_event", payload__event="page_view",
         payload__data='{"url": "/showcase/"}')  # fmt: skip
    received(alice, "analytics", 'page_view {"url": "/showcase/"}')
    assert severe(alice) == []
    shot = os.environ.get("CHANSPEC_SHOWCASE_SCREENSHOT")
    if shot:  # the whole page, 1280 CSS pixels wide
        height = alice.execute_script("return document.documentElement.scrollHeight")
        metrics = {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False}
        alice.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        alice.execute_script("window.scrollTo(0, 0)")
        alice.save_screenshot(str(REPO / shot))
        alice.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    alice.find_element("id", "disconnect-all").click()
    assert wait_for(lambda: all(state(alice, cid) == "disconnected" for cid in cids))


def test_without_redis_jobs_run_in_the_server_and_tabs_share_a_room(
    alice: Any, bob: Any, embedded: str
) -> None:
    for driver in (alice, bob):
        open_page(driver, embedded)
        connect(driver, "room_chat", room_name="lobby")
    send(bob, "room_chat", "room_chat", payload__message="in-memory layer")
    received(alice, "room_chat", "in-memory layer")
    connect(alice, "background_jobs")
    send(alice, "background_jobs", "job", payload__type="translate", payload__content="world")
    done = received(alice, "background_jobs", "finished")
    assert done["frame"]["payload"]["result"] == "\U0001f30d Translated: 'world' \u2192 'mundo'"
    for driver in (alice, bob):
        assert severe(driver) == []
