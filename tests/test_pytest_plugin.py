"""The pytest plugin shipped for users: ``redis_server`` fixtures and the spec check.

Plugin behaviour is exercised in separate pytest processes (pytester), the way users run it:
loaded with ``-p`` and through its ``pytest11`` entry point.
"""

from __future__ import annotations

import copy
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from chanspec.runtime import create_app
from chanspec.runtime.pytest_plugin import (
    SpecMismatch,
    assert_matches_spec,
    find_redis_server,
    spec_differences,
)
from starlette.routing import WebSocketRoute

from .servers import REPO

pytest_plugins = ["pytester"]

PLUGIN = "chanspec.runtime.pytest_plugin"
# other installed plugins, left out of the inner runs (each costs seconds of start-up here)
OTHERS = ("hypothesispytest", "typeguard", "benchmark", "anyio", "asyncio", "platformdirs")


@pytest.fixture(autouse=True)
def lean_inner_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner pytest runs load only what ``-p`` names (the entry-point test turns this off)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


SHOWCASE_SPEC = REPO / "specs" / "showcase.asyncapi.yaml"


# ---- redis_server fixtures ----------------------------------------------------------------------


def test_redis_server_fixture_runs_a_real_flushed_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        from pathlib import Path

        import pytest
        import redis

        def test_first(redis_server, redis_server_process):
            assert redis_server == redis_server_process.url
            assert redis_server.startswith("redis://127.0.0.1:")
            client = redis.Redis.from_url(redis_server)
            client.set("k", "v")
            assert client.get("k") == b"v"
            client.close()
            Path("url.txt").write_text(redis_server)

        def test_second_gets_a_flushed_server(redis_server):
            client = redis.Redis.from_url(redis_server)
            assert client.get("k") is None
            client.close()

        def test_outage_and_restart_on_the_same_port(redis_server, redis_server_process):
            port = redis_server_process.port
            redis_server_process.stop()
            down = redis.Redis.from_url(redis_server, socket_connect_timeout=1)
            with pytest.raises(redis.ConnectionError):
                down.ping()
            down.close()
            redis_server_process.start()
            assert redis_server_process.port == port
            up = redis.Redis.from_url(redis_server)
            assert up.ping()
            up.close()
        """
    )
    result = pytester.runpytest_subprocess("-p", PLUGIN)
    result.assert_outcomes(passed=3)
    url = (pytester.path / "url.txt").read_text()
    gone = redis.Redis.from_url(url, socket_connect_timeout=1)
    with pytest.raises(redis.ConnectionError):  # stopped at the end of the session
        gone.ping()
    gone.close()


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ("CHANSPEC_REDIS_SERVER", "*CHANSPEC_REDIS_SERVER=*is not an executable file*"),
        ("PATH", "*redis-server is not installed (not on PATH)*"),
    ],
)
def test_missing_redis_server_fails_clearly(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, variable: str, message: str
) -> None:
    pytester.makepyfile(test_user="def test_needs_redis(redis_server):\n    pass\n")
    empty = pytester.mkdir("empty")
    monkeypatch.setenv(variable, str(empty / "redis-server") if "CHANSPEC" in variable else "")
    if variable == "PATH":
        monkeypatch.setenv("PATH", str(empty))
    result = pytester.runpytest_subprocess("-p", PLUGIN)
    result.assert_outcomes(errors=1)  # a failure, not a skip
    result.stdout.fnmatch_lines([message + "apt-get install -y redis-server*"])
    assert "Traceback" not in result.stdout.str()
    assert "def redis_server_process" not in result.stdout.str()  # no plugin source dumped


def test_find_redis_server_prefers_the_variable(tmp_path: Path) -> None:
    binary = find_redis_server({"PATH": os.environ["PATH"]})
    assert Path(binary).name == "redis-server"
    assert find_redis_server({"CHANSPEC_REDIS_SERVER": binary, "PATH": ""}) == binary


def test_entry_point_loads_the_plugin_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``pytest11`` entry point in pyproject.toml loads the plugin automatically, and an
    explicit ``-p`` next to it does not register it twice."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    entry_points = project["project"]["entry-points"]["pytest11"]
    assert entry_points == {PLUGIN: PLUGIN}
    # what pip install writes for that table, on the test process's path
    site = pytester.mkdir("site")
    dist = site / "chanspec_plugin_probe-0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: chanspec-plugin-probe\n")
    (dist / "entry_points.txt").write_text(
        "[pytest11]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    pytester.makepyfile(test_user="def test_fixture(redis_server):\n    assert redis_server\n")
    others = [arg for name in OTHERS for arg in ("-p", f"no:{name}")]
    pytester.runpytest_subprocess(*others).assert_outcomes(passed=1)
    pytester.runpytest_subprocess(*others, "-p", PLUGIN).assert_outcomes(passed=1)
    pytester.runpytest_subprocess(*others, f"-p no:{PLUGIN}").assert_outcomes(errors=1)


# ---- assert_matches_spec ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def showcase() -> Any:
    from examples.showcase.main import app

    return app


@pytest.fixture
def spec() -> dict[str, Any]:
    loaded = yaml.safe_load(SHOWCASE_SPEC.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_showcase_app_matches_its_spec(showcase: Any, spec: dict[str, Any]) -> None:
    assert_matches_spec(showcase, SHOWCASE_SPEC)
    assert_matches_spec(showcase, str(SHOWCASE_SPEC))
    assert_matches_spec(showcase, spec)  # an already loaded document


def test_mismatches_are_each_reported(showcase: Any, spec: dict[str, Any]) -> None:
    changed = copy.deepcopy(spec)
    del changed["operations"]["chat_ping"]
    changed["channels"]["chat"]["address"] = "/ws/chat2"
    changed["operations"]["system_user_message"]["action"] = "send"
    payload = changed["components"]["schemas"]["Text"]
    payload["required"] = ["message", "author"]
    payload["properties"]["author"] = {"type": "string"}
    with pytest.raises(SpecMismatch) as caught:
        assert_matches_spec(showcase, changed)
    differences = caught.value.differences
    text = str(caught.value)
    assert "operations.chat_ping: in the app, not in the spec" in differences
    assert 'channels.chat.address: spec "/ws/chat2", app "/ws/chat"' in differences
    assert 'operations.system_user_message.action: spec "send", app "receive"' in differences
    author = [d for d in differences if "properties.author: in the spec, missing from the app" in d]
    assert author and all(".payload" not in d or "messages." in d for d in author)
    assert "the app does not match its spec" in text and str(len(differences)) in text


def test_a_handler_removed_from_the_code_is_reported(spec: dict[str, Any]) -> None:
    from examples.showcase.generated.routing import CONSUMERS, ROUTES

    routes = [r for r in ROUTES if not (isinstance(r, WebSocketRoute) and r.path == "/ws/chat")]
    app = create_app(routes, consumers=[c for c in CONSUMERS if c.channel_id != "chat"])
    differences = spec_differences(app, spec)
    assert "channels.chat: in the spec, missing from the app" in differences
    assert "operations.chat_ping: in the spec, missing from the app" in differences


def test_relative_file_refs_are_followed(tmp_path: Path, showcase: Any) -> None:
    document = yaml.safe_load(SHOWCASE_SPEC.read_text())
    schemas = document["components"].pop("schemas")
    inner = yaml.safe_dump(schemas).replace("'#/components/schemas/", "'#/")  # file-local refs
    (tmp_path / "schemas.yaml").write_text(inner)
    text = yaml.safe_dump(document).replace("'#/components/schemas/", "'schemas.yaml#/")
    (tmp_path / "spec.yaml").write_text(text)
    assert "schemas.yaml#/" in text
    assert_matches_spec(showcase, tmp_path / "spec.yaml")


def test_unusable_specs_raise_clear_errors(tmp_path: Path, showcase: Any) -> None:
    with pytest.raises(ValueError, match="AsyncAPI 3.x documents only"):
        spec_differences(showcase, {"asyncapi": "2.6.0", "channels": {}})
    (tmp_path / "bad.yaml").write_text("asyncapi: [3.0.0\n")
    with pytest.raises(ValueError, match="bad.yaml: not a JSON/YAML document"):
        spec_differences(showcase, tmp_path / "bad.yaml")
    with pytest.raises(ValueError, match="does not resolve"):
        spec_differences(
            showcase,
            {"asyncapi": "3.0.0", "channels": {"c": {"$ref": "#/components/channels/nope"}}},
        )


def test_helper_in_a_users_test_shows_the_differences(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_user=f"""
        from chanspec.runtime.pytest_plugin import assert_matches_spec
        from examples.showcase.main import app

        def test_app_matches_spec():
            spec = {{"asyncapi": "3.0.0", "channels": {{}}, "operations": {{}}}}
            assert_matches_spec(app, spec)

        def test_app_matches_shipped_spec():
            assert_matches_spec(app, {str(SHOWCASE_SPEC)!r})
        """
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    result = pytester.runpytest_subprocess("-p", PLUGIN)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*SpecMismatch: the app does not match its spec (*",
            "*channels.chat: in the app, not in the spec*",
        ]
    )
