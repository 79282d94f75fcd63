"""The HTML documentation page: ``render_html``, the ``/asyncapi`` route, ``chanspec docs``.

Unit tests check the markup (escaping, anchors, schema trees, recursion, determinism). The
browser tests run the showcase under real uvicorn (in-memory layers) and drive Debian's headless
Chromium through selenium and chromedriver: the page loads with no console errors, lists every
channel, the search box filters and message links land on their messages. A missing browser,
driver or selenium fails those tests with how to install them; they never skip.

Set ``CHANSPEC_DOCS_SCREENSHOT=docs/html-docs.png`` to also save the screenshot used in
``docs/html-docs.md``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from chanspec.codegen.load import load_document
from chanspec.runtime import create_app
from chanspec.runtime.asyncapi.html import render_html

from .servers import REPO, uvicorn_server

SHOWCASE = REPO / "specs" / "showcase.asyncapi.yaml"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;"\''


# ---- helpers ------------------------------------------------------------------------------------


class Page(HTMLParser):
    """Every start tag with its attributes, and the text outside tags."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def ids(self) -> list[str]:
        return [a["id"] for _, a in self.tags if "id" in a]

    def by_id(self, element_id: str) -> dict[str, str]:
        return next(a for _, a in self.tags if a.get("id") == element_id)

    def hrefs(self) -> list[str]:
        return [a["href"] for t, a in self.tags if t == "a" and "href" in a]


def showcase_spec() -> dict[str, Any]:
    loaded = load_document(SHOWCASE)
    assert loaded.ok, loaded.problems
    return loaded.resolved


@pytest.fixture(scope="module")
def emitted() -> dict[str, Any]:
    """The showcase app's emitted document (with local refs), from a separate process."""
    proc = subprocess.run(
        [sys.executable, "-m", "chanspec.codegen", "emit", "examples.showcase.main:app"],
        cwd=REPO, capture_output=True, text=True, check=True,
        env={k: v for k, v in os.environ.items() if k != "REDIS_URL"},
    )  # fmt: skip
    document: dict[str, Any] = json.loads(proc.stdout)
    return document


def hostile_document() -> dict[str, Any]:
    """A document with a hostile string in every place the page shows text."""
    h = HOSTILE
    schema = {
        "type": "object",
        "description": h,
        "properties": {
            h: {"type": "string", "description": h, "pattern": h, "format": h, "default": h},
            "kind": {"enum": [h, "ok"], "const": h, "examples": [h]},
        },
        "required": [h],
    }
    message = {
        "name": h,
        "title": h,
        "summary": h,
        "description": h,
        "contentType": h,
        "payload": schema,
        "examples": [{"name": h, "summary": h, "payload": {h: h}}],
        "bindings": {"ws": {h: h}},
        "tags": [{"name": h}],
    }
    return {
        "asyncapi": "3.0.0",
        "id": h,
        "info": {
            "title": h,
            "version": h,
            "description": h,
            "license": {"name": h, "url": "javascript:alert(1)"},
            "contact": {"name": h, "url": h, "email": h},
            "tags": [{"name": h}],
        },
        "servers": {h: {"host": h, "protocol": h, "description": h, "variables": {h: {}}}},
        "x-channel-layers": {h: {"type": h, h: h}},
        "channels": {
            h: {
                "address": h,
                "title": h,
                "description": h,
                "parameters": {h: {"description": h, "enum": [h]}},
                "messages": {h: message},
                "x-channel-layer": h,
                "x-groups": [h],
            }
        },
        "operations": {
            h: {
                "action": h,
                "channel": {"$ref": "#/channels/" + h.replace("~", "~0").replace("/", "~1")},
                "summary": h,
                "description": h,
                "x-events": [{"name": h, "summary": h, "payload": schema}],
            }
        },
        "components": {"securitySchemes": {h: {"type": h, "description": h}}},
    }


# ---- render_html: escaping ----------------------------------------------------------------------


def test_hostile_description_is_text() -> None:
    document = {
        "asyncapi": "3.0.0",
        "info": {"title": "t", "version": "1", "description": "a <script>alert(1)</script>\nb"},
        "channels": {},
    }
    page = render_html(document)
    assert page.count("<script>") == 1  # the page's own
    assert "a &lt;script&gt;alert(1)&lt;/script&gt;\nb" in page
    assert "a <script>alert(1)</script>\nb" in "".join(Page(page).text)


def test_every_string_of_a_hostile_document_is_escaped() -> None:
    page = render_html(hostile_document())
    parsed = Page(page)
    tags = {t for t, _ in parsed.tags}
    assert "img" not in tags
    assert [t for t, _ in parsed.tags].count("script") == 1
    for _, attrs in parsed.tags:
        assert not [a for a in attrs if a.startswith("on")], attrs
    for element_id in parsed.ids():
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", element_id), element_id
    assert len(parsed.ids()) == len(set(parsed.ids()))
    for href in parsed.hrefs():
        assert href.startswith(("#", "https:", "http:", "mailto:")), href
    assert "javascript:" not in " ".join(parsed.hrefs())
    # the hostile text is shown (as text) wherever the document puts it
    assert "".join(parsed.text).count('<script>alert("x")</script>') >= 20


def test_internal_links_resolve_and_ids_are_sanitised() -> None:
    document = {
        "asyncapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "channels": {
            "a/b c": {"address": "/x", "messages": {"m/1": {"payload": {"type": "string"}}}},
            "a_b_c": {"address": "/y", "messages": {"m_1": {"payload": {"type": "string"}}}},
        },
        "operations": {
            "op one": {
                "action": "receive",
                "channel": {"$ref": "#/channels/a~1b%20c"},
                "messages": [{"$ref": "#/channels/a~1b%20c/messages/m~11"}],
            },
            "op_two": {
                "action": "send",
                "channel": {"$ref": "#/channels/a_b_c"},
                "messages": [{"$ref": "#/channels/a_b_c/messages/m_1"}],
            },
        },
    }
    parsed = Page(render_html(document))
    ids = set(parsed.ids())
    assert {"channel-a_b_c", "channel-a_b_c-2", "message-a_b_c-m_1", "message-a_b_c-m_1-2"} <= ids
    internal = [h[1:] for h in parsed.hrefs() if h.startswith("#")]
    assert internal and all(h in ids for h in internal)
    op = page_section(render_html(document), "operation-op_one")
    assert 'href="#message-a_b_c-m_1"' in op
    assert 'href="#message-a_b_c-m_1-2"' in page_section(render_html(document), "operation-op_two")


def page_section(page: str, element_id: str) -> str:
    """The markup of the ``<article>`` with ``element_id``."""
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</article>", start)]


# ---- render_html: the showcase ------------------------------------------------------------------


def expected_showcase() -> tuple[dict[str, str], dict[str, list[str]], dict[str, str]]:
    """Channel id -> address, channel id -> message keys, operation id -> channel id."""
    raw = yaml.safe_load(SHOWCASE.read_text(encoding="utf-8"))
    channels = {cid: c["address"] for cid, c in raw["channels"].items()}
    messages = {cid: list(c["messages"]) for cid, c in raw["channels"].items()}
    operations = {
        op_id: op["channel"]["$ref"].rsplit("/", 1)[1] for op_id, op in raw["operations"].items()
    }
    return channels, messages, operations


@pytest.mark.parametrize("source", ["spec", "emitted"])
def test_showcase_lists_every_channel_operation_and_message(
    source: str, emitted: dict[str, Any]
) -> None:
    document = showcase_spec() if source == "spec" else emitted
    page = render_html(document)
    parsed = Page(page)
    ids = set(parsed.ids())
    channels, messages, operations = expected_showcase()
    assert len(channels) == 7
    for cid, address in channels.items():
        assert f"channel-{cid}" in ids
        section = page[page.index(f'id="channel-{cid}"') :]
        assert f'<code class="addr">{address}</code>' in section[:2000]
        for key in messages[cid]:
            assert f"message-{cid}-{key}" in ids
    for op_id, cid in operations.items():
        assert f"operation-{op_id}" in ids
        start = page.index(f'id="channel-{cid}"')
        end = page.find('<section class="channel"', start + 1)
        assert page.index(f'id="operation-{op_id}"') in range(start, end if end > 0 else len(page))
    # every operation links to its messages (and replies) inside its own channel
    raw = yaml.safe_load(SHOWCASE.read_text(encoding="utf-8"))
    for op_id, op in raw["operations"].items():
        card = page_section(page, f"operation-{op_id}")
        cid = operations[op_id]
        refs = [m["$ref"] for m in op["messages"]]
        refs += [m["$ref"] for m in op.get("reply", {}).get("messages", [])]
        for ref in refs:
            assert f'href="#message-{cid}-{ref.rsplit("/", 1)[1]}"' in card, (op_id, ref)
        badge = "client \u2192 server" if op["action"] == "receive" else "server \u2192 client"
        assert badge in card
        for event in op.get("x-events", []):
            assert event["$ref"].rsplit("/", 1)[1] in card
    internal = {h[1:] for h in parsed.hrefs() if h.startswith("#")}
    assert internal <= ids, internal - ids
    # layers, groups, parameters and server
    assert 'class="tag group">room_{room_name}</code>' in page
    assert '<code>{room_name}</code></th><td><div class="desc">Name of the room to join.' in page
    assert 'href="#layer-analytics">analytics</a>' in page
    assert "localhost:8000" in page


def test_schema_tree_shows_types_constraints_and_required() -> None:
    payload = {
        "type": "object",
        "properties": {
            "content": {"type": "string", "minLength": 1, "maxLength": 10000},
            "count": {"type": "integer", "minimum": 1, "exclusiveMaximum": 10, "default": 3},
            "email": {"type": "string", "format": "email", "pattern": "^[^@]+@"},
            "kind": {"type": "string", "enum": ["translate", "analyze"]},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "opt"},
            "either": {"oneOf": [{"type": "integer"}, {"type": "boolean"}]},
        },
        "required": ["content"],
        "additionalProperties": False,
    }
    document = {
        "asyncapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "channels": {"c": {"address": "/c", "messages": {"m": {"payload": payload}}}},
    }
    page = render_html(document)
    content = page[page.index('<span class="prop">content</span>') :][:400]
    assert '<span class="req" title="required">required</span>' in content
    assert "length 1\u202610000" in content
    count = page[page.index('<span class="prop">count</span>') :][:600]
    assert "required" not in count.split("</div>")[0]
    assert "\u2265 1, &lt; 10" in count
    assert "default <code>3</code>" in count
    assert "format: email" in page and "pattern: <code>^[^@]+@</code>" in page
    assert "one of <code>&quot;translate&quot;</code> <code>&quot;analyze&quot;</code>" in page
    assert "array of string" in page and "unique items" in page
    note = page[page.index('<span class="prop">note</span>') :][:600]
    assert ">nullable<" in note and "t-string" in note and ">opt<" in note
    assert "one of #1" in page and "one of #2" in page
    assert "no other properties" in page


def test_recursion_is_marked_not_expanded() -> None:
    # refs to itself, mutual recursion through refs, and an already-resolved cyclic object
    cyclic: dict[str, Any] = {"type": "object", "title": "Cyclic", "properties": {}}
    cyclic["properties"]["self"] = cyclic
    cyclic["properties"]["list"] = {"type": "array", "items": cyclic}
    document = {
        "asyncapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "channels": {
            "c": {
                "address": "/c",
                "messages": {
                    "tree": {"payload": {"$ref": "#/components/schemas/Node"}},
                    "ping": {"payload": {"$ref": "#/components/schemas/Ping"}},
                    "cyclic": {"payload": cyclic},
                    "loop": {"payload": {"$ref": "#/components/schemas/Loop"}},
                },
            }
        },
        "components": {
            "schemas": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "children": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Node"},
                        }
                    },
                },
                "Ping": {
                    "type": "object",
                    "properties": {"pong": {"$ref": "#/components/schemas/Pong"}},
                },
                "Pong": {
                    "type": "object",
                    "properties": {"ping": {"$ref": "#/components/schemas/Ping"}},
                },
                "Loop": {"$ref": "#/components/schemas/Loop"},
            }
        },
    }
    started = time.monotonic()
    page = render_html(document)
    assert time.monotonic() - started < 5
    assert "recursive: Node" in page
    assert "recursive: Ping" in page
    assert "recursive: Cyclic" in page
    assert "unresolved $ref" in page  # a ref chain to itself has no object behind it
    assert len(page) < 200_000


def test_shared_subtrees_are_bounded() -> None:
    # each level refers to the next twice: 2**30 paths, no recursion
    schemas = {
        f"L{i}": {"type": "object", "properties": {
            "a": {"$ref": f"#/components/schemas/L{i + 1}"},
            "b": {"$ref": f"#/components/schemas/L{i + 1}"},
        }}
        for i in range(30)
    }  # fmt: skip
    schemas["L30"] = {"type": "string"}
    document = {
        "asyncapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "channels": {"c": {"address": "/c", "messages": {"m": {"payload": schemas["L0"]}}}},
        "components": {"schemas": schemas},
    }
    page = render_html(document)
    assert "\u2026 cut" in page and len(page) < 3_000_000


def test_output_is_deterministic(emitted: dict[str, Any]) -> None:
    spec = showcase_spec()
    first = render_html(spec)
    assert render_html(spec) == first
    assert render_html(copy.deepcopy(emitted)) == render_html(emitted)
    assert render_html(json.loads(json.dumps(emitted))) == render_html(emitted)
    # and across processes with different hash seeds (no set or id() order leaks out)
    code = (
        "import hashlib,sys;from chanspec.codegen.load import load_document;"
        "from chanspec.runtime.asyncapi.html import render_html;"
        "d=load_document(sys.argv[1]).resolved;"
        "print(hashlib.sha256(render_html(d).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code, str(SHOWCASE)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }  # fmt: skip
    assert digests == {hashlib.sha256(first.encode()).hexdigest()}


def test_page_is_self_contained() -> None:
    page = render_html(showcase_spec())
    parsed = Page(page)
    for tag, attrs in parsed.tags:
        assert tag not in ("link", "img", "iframe") or attrs.get("href") == "data:,", (tag, attrs)
        assert "src" not in attrs, (tag, attrs)
    assert "@import" not in page and "url(" not in page
    csp = next(a for t, a in parsed.tags if a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp["content"]
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")


def test_title_and_version_2_documents() -> None:
    document = {
        "asyncapi": "2.6.0",
        "info": {"title": "Old", "version": "2"},
        "channels": {
            "user/signedup": {
                "publish": {"operationId": "signUp", "message": {"name": "UserSignedUp"}},
                "subscribe": {"message": {"oneOf": [{"name": "A"}, {"messageId": "B"}]}},
            }
        },
    }
    page = render_html(document, title="Custom <title>")
    assert "<title>Custom &lt;title&gt;</title>" in page
    sign_up = page_section(page, "operation-signUp")
    assert (
        "client \u2192 server" in sign_up
        and 'href="#message-user_signedup-UserSignedUp"' in sign_up
    )
    assert 'id="message-user_signedup-A"' in page and 'id="message-user_signedup-B"' in page
    assert render_html({"asyncapi": "3.0.0"}).count('class="channel"') == 0


# ---- the /asyncapi route and chanspec docs ------------------------------------------------------


async def test_asyncapi_route_serves_the_page() -> None:
    app = create_app([], metadata={"info": {"title": "<b>t</b>", "version": "9"}}, environ={})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/asyncapi")
        again = await client.get("/asyncapi")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>&lt;b&gt;t&lt;/b&gt;</h1>" in response.text
    assert again.text == response.text


def run_docs(*args: str | Path) -> subprocess.CompletedProcess[str]:
    code = "from chanspec.codegen.docs_command import docs_command; docs_command()"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if k != "REDIS_URL"},
    )  # fmt: skip


def test_docs_command_for_a_spec_and_an_app(tmp_path: Path) -> None:
    from_spec = run_docs(SHOWCASE, "-o", tmp_path / "spec.html")
    assert from_spec.returncode == 0, from_spec.stderr
    assert "7 channel(s)" in from_spec.stdout
    from_app = run_docs("examples.showcase.main:app", "-o", tmp_path / "out" / "app.html")
    assert from_app.returncode == 0, from_app.stderr
    for name in ("spec.html", "out/app.html"):
        page = (tmp_path / name).read_text(encoding="utf-8")
        assert 'id="channel-room_chat"' in page and "/ws/room/{room_name}" in page
    to_stdout = run_docs(SHOWCASE, "--title", "Showcase docs")
    assert to_stdout.returncode == 0
    assert "<title>Showcase docs</title>" in to_stdout.stdout


def test_docs_command_reports_located_problems(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text(
        "asyncapi: 3.0.0\ninfo: {title: t, version: '1'}\nchannels:\n"
        "  a:\n    $ref: '#/components/channels/missing'\n",
        encoding="utf-8",
    )
    out = tmp_path / "docs.html"
    result = run_docs(spec, "-o", out)
    assert result.returncode == 1
    assert re.search(rf"{re.escape(str(spec))}:5:\d+: error\[L010\]", result.stderr), result.stderr
    assert not out.exists()
    missing_app = run_docs("no_such_module_here:app")
    assert missing_app.returncode == 1 and "cannot import" in missing_app.stderr


# ---- the page in a real browser -----------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL = (
    "the browser test needs Debian's chromium and chromium-driver and selenium: "
    "apt-get update && apt-get install -y chromium chromium-driver && pip install selenium "
    "(.ci/run installs them; `pip install '.[test]'` brings selenium)"
)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """The showcase under real uvicorn with in-memory layers; yields its http base URL."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    with uvicorn_server("examples.showcase.main:app", env) as url:
        yield url.replace("ws://", "http://", 1)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (Python package)")
    if missing:
        pytest.fail(f"missing {', '.join(missing)}; {INSTALL}", pytrace=False)
    profile = tempfile.mkdtemp(prefix="chanspec-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,2000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def severe(driver: Any) -> list[Any]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def wait_for(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@pytest.fixture
def page(browser: Any, served: str) -> Any:
    """The ``/asyncapi`` page freshly loaded at 1280x2000, console log emptied."""
    browser.set_window_size(1280, 2000)
    browser.get("about:blank")
    browser.get_log("browser")
    browser.get(f"{served}/asyncapi")
    assert wait_for(lambda: browser.execute_script("return document.readyState") == "complete")
    return browser


def channel_shown(driver: Any, cid: str) -> bool:
    from selenium.webdriver.common.by import By

    return bool(driver.find_element(By.ID, f"channel-{cid}").is_displayed())


def test_page_loads_with_every_channel_and_no_console_errors(page: Any) -> None:
    from selenium.webdriver.common.by import By

    assert page.title == "chanspec showcase 1.0.0"
    channels, _, _ = expected_showcase()
    nav = page.find_element(By.CSS_SELECTOR, ".nav").text
    for cid, address in channels.items():
        section = page.find_element(By.ID, f"channel-{cid}")
        assert section.is_displayed()
        head = section.find_element(By.CSS_SELECTOR, ".channel-head").text
        assert cid in head and address in head
        assert cid in nav and address in nav
    assert page.find_element(By.ID, "counter").text == "7 channel(s)"
    assert severe(page) == []
    shot = os.environ.get("CHANSPEC_DOCS_SCREENSHOT")
    if shot:  # exactly 1280x2000 CSS pixels, top of the page
        metrics = {"width": 1280, "height": 2000, "deviceScaleFactor": 1, "mobile": False}
        page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        page.execute_script("window.scrollTo(0, 0)")
        page.save_screenshot(str(REPO / shot))
        page.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_search_filters_channels_as_you_type(page: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = page.find_element(By.ID, "search")
    box.send_keys("ROOM")
    assert wait_for(lambda: not channel_shown(page, "chat"))
    assert not channel_shown(page, "analytics")
    assert channel_shown(page, "room_chat")
    shown = [cid for cid in expected_showcase()[0] if channel_shown(page, cid)]
    assert shown == ["room_chat"]
    assert page.find_element(By.ID, "counter").text == "1 of 7 channel(s)"
    nav = page.find_elements(By.CSS_SELECTOR, ".nav li")
    assert [li.text.split("\n")[0] for li in nav if li.is_displayed()] == ["room_chat"]
    # an operation-level match keeps only that operation of its channel
    box.clear()
    box.send_keys("queued")  # in one operation's summary and one message's, not channel text
    assert wait_for(lambda: not channel_shown(page, "room_chat"))
    assert [cid for cid in expected_showcase()[0] if channel_shown(page, cid)] == [
        "background_jobs"
    ]
    for element_id, shown in (
        ("operation-background_jobs_submit", True),
        ("message-background_jobs-job_status", True),
        ("operation-background_jobs_ping", False),
        ("message-background_jobs-ping", False),
    ):
        assert page.find_element(By.ID, element_id).is_displayed() is shown, element_id
    box.send_keys("zzz-nothing")
    assert wait_for(lambda: page.find_element(By.ID, "no-results").is_displayed())
    box.send_keys(Keys.ESCAPE)
    assert wait_for(lambda: all(channel_shown(page, c) for c in expected_showcase()[0]))
    assert severe(page) == []


def in_view(driver: Any, element_id: str) -> bool:
    top = driver.execute_script(
        "return document.getElementById(arguments[0]).getBoundingClientRect().top", element_id
    )
    return bool(0 <= top < driver.execute_script("return window.innerHeight") / 3)


def test_operation_message_link_targets_the_message(page: Any) -> None:
    from selenium.webdriver.common.by import By

    target = "message-room_chat-room_chat"
    link = page.find_element(By.CSS_SELECTOR, f'#operation-room_chat_post a[href="#{target}"]')
    link.click()
    assert wait_for(lambda: page.execute_script("return location.hash") == f"#{target}")
    assert page.execute_script("return document.querySelector(':target').id") == target
    assert wait_for(lambda: in_view(page, target))
    # back from the message to its operation
    back = page.find_element(By.CSS_SELECTOR, f'#{target} a[href="#operation-room_chat_post"]')
    back.click()
    assert wait_for(lambda: in_view(page, "operation-room_chat_post"))
    # a link to a message the search has hidden clears the search and shows it
    box = page.find_element(By.ID, "search")
    box.send_keys("submit")
    assert wait_for(
        lambda: not page.find_element(By.ID, "message-background_jobs-job").is_displayed()
    )
    page.find_element(
        By.CSS_SELECTOR, '#operation-background_jobs_submit a[href="#message-background_jobs-job"]'
    ).click()
    assert wait_for(lambda: page.find_element(By.ID, "message-background_jobs-job").is_displayed())
    assert wait_for(lambda: in_view(page, "message-background_jobs-job"))
    assert box.get_attribute("value") == ""
    # a malformed fragment is ignored without a script error
    page.execute_script("location.hash = '#%E0%A4%A'")
    page.execute_async_script("setTimeout(arguments[0], 100)")  # let hashchange run
    assert severe(page) == []


def test_page_fits_a_phone_width(page: Any) -> None:
    from selenium.webdriver.common.by import By

    page.set_window_size(390, 900)
    assert wait_for(lambda: page.execute_script("return window.innerWidth") <= 420)
    overflow = page.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert page.find_element(By.ID, "search").is_displayed()
    assert channel_shown(page, "room_chat")
    assert severe(page) == []
