"""The example specs in ``specs/``: each is a golden case and is clean under ``--strict``."""

from __future__ import annotations

from pathlib import Path

import pytest
from chanspec.codegen.pipeline import analyse

from .golden_cases import cases, spec_of
from .servers import REPO

SPECS = sorted((REPO / "specs").glob("*.asyncapi.yaml"))


def test_there_are_example_specs() -> None:
    names = {p.name for p in SPECS}
    assert {"showcase.asyncapi.yaml", "trading-feed.asyncapi.yaml"} <= names
    assert "smart-building.asyncapi.yaml" in names  # the AsyncAPI 2.6 example


def test_every_spec_is_a_golden_case() -> None:
    golden = {spec_of(case).resolve() for case in cases()}
    assert [p.name for p in SPECS if p.resolve() not in golden] == []


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_spec_is_valid_with_no_warnings(spec: Path) -> None:
    service, problems = analyse(spec, strict=True)
    assert [p.format() for p in problems] == []
    assert service is not None and service.channels


def test_validate_lists_the_websocket_routes(tmp_path: Path) -> None:
    from chanspec.codegen.cli import main
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["validate", str(REPO / "specs/trading-feed.asyncapi.yaml")])
    assert result.exit_code == 0
    assert result.output.splitlines()[1:] == [
        "WebSocket routes of the generated app:",
        "  /ws/market/{venue}  market -> MarketConsumer",
        "  /ws/orders  orders -> OrdersConsumer",
    ]


def test_a_spec_for_another_protocol_says_what_is_served(tmp_path: Path) -> None:
    from chanspec.codegen.cli import main
    from click.testing import CliRunner

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "asyncapi: 3.0.0\n"
        "info: {title: t, version: 1.0.0}\n"
        "servers:\n  broker: {host: 'kafka:9092', protocol: kafka}\n"
        "channels:\n"
        "  orders: {address: orders.created, messages: {created: {payload: {type: string}}}}\n"
        "  audit: {messages: {entry: {payload: {type: string}}}}\n"
    )
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-4:] == [
        "WebSocket routes of the generated app:",
        "  /orders.created  orders -> OrdersConsumer",
        "  (not served)  audit -> AuditConsumer: no address",
        "note: the spec's servers use kafka; the generated app serves its channels over "
        "WebSocket, and its models and consumers are the message contracts",
    ]
