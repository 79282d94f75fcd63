"""The ASGI application of a generated service.

:func:`create_app` wires consumer routes, registers the spec's channel layers (in memory unless a
Redis URL is configured), checks that every consumer's layer exists, and serves the app's own
AsyncAPI document at ``/asyncapi.json`` and ``/asyncapi.yaml`` and as an HTML page at ``/asyncapi``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from .asyncapi import build_document, consumer_routes, dump_json, dump_yaml
from .asyncapi.html import render_html
from .consumer import Consumer
from .layers import LayerSpec, register_layers, require_layers

__all__ = ["create_app", "document_of"]


def document_of(app: Starlette) -> dict[str, Any]:
    """The AsyncAPI 3.0 document ``app`` serves (built once, then cached on ``app.state``).

    Works for any Starlette app whose WebSocket routes are chanspec consumers; metadata comes
    from ``app.state.chanspec_metadata`` when the app was made by :func:`create_app`.
    """
    cached = getattr(app.state, "chanspec_document", None)
    if cached is None:
        metadata = getattr(app.state, "chanspec_metadata", None)
        layers = getattr(app.state, "chanspec_layer_specs", None)
        consumers = getattr(app.state, "chanspec_consumers", ())
        cached = build_document(app.routes, metadata, layers, consumers)
        app.state.chanspec_document = cached
    return dict(cached)


def create_app(
    routes: Sequence[BaseRoute],
    *,
    layers: Sequence[LayerSpec] = (),
    metadata: Mapping[str, Any] | None = None,
    consumers: Sequence[type[Consumer]] = (),
    extra_routes: Sequence[BaseRoute] = (),
    environ: Mapping[str, str] | None = None,
    debug: bool = False,
) -> Starlette:
    """Build the Starlette app of a chanspec service.

    Args:
        routes: WebSocket routes (generated ``routing.ROUTES``).
        layers: the spec's channel layers (generated ``layers.LAYERS``); registered now, with
            Redis where ``REDIS_URL`` / ``CHANSPEC_LAYER_<ALIAS>_URL`` is set, else in memory.
        metadata: the document skeleton for emission (generated ``document.METADATA``).
        consumers: every channel's consumer (generated ``routing.CONSUMERS``); those without a
            route (channels without an address) still appear in the emitted document.
        extra_routes: more routes (HTTP pages, health checks) served alongside.
        environ: environment to read Redis URLs from (default ``os.environ``).
        debug: Starlette debug mode.

    Returns:
        The app, with ``GET /asyncapi.json``, ``GET /asyncapi.yaml`` and ``GET /asyncapi`` (the
        document as one offline HTML page, ``text/html; charset=utf-8``, see
        :func:`~chanspec.runtime.asyncapi.html.render_html`).

    Raises:
        ChannelLayerError: a consumer uses a layer alias that is not declared/registered.
    """
    backends = register_layers(layers, environ=environ)
    needed = {
        cls.channel_layer_alias: cls.__qualname__
        for _, cls in consumer_routes(routes)
        if cls.channel_layer_alias
    }
    require_layers(needed)

    async def asyncapi_json(request: Request) -> Response:
        return Response(dump_json(document_of(request.app)), media_type="application/json")

    async def asyncapi_yaml(request: Request) -> Response:
        return Response(dump_yaml(document_of(request.app)), media_type="application/yaml")

    async def asyncapi_html(request: Request) -> Response:
        page = getattr(request.app.state, "chanspec_html", None)
        if page is None:
            page = render_html(document_of(request.app))
            request.app.state.chanspec_html = page
        return HTMLResponse(page)

    app = Starlette(
        debug=debug,
        routes=[
            *routes,
            Route("/asyncapi.json", asyncapi_json, methods=["GET"]),
            Route("/asyncapi.yaml", asyncapi_yaml, methods=["GET"]),
            Route("/asyncapi", asyncapi_html, methods=["GET"]),
            *extra_routes,
        ],
    )
    app.state.chanspec_metadata = dict(metadata or {})
    app.state.chanspec_consumers = tuple(consumers)
    app.state.chanspec_layers = backends
    app.state.chanspec_layer_specs = tuple(layers)
    return app
