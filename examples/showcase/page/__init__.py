"""The showcase page: an interactive HTML page with one panel per channel of the showcase.

The page (``index.html``, ``app.js``, ``style.css`` beside this module) is plain HTML, CSS and
JavaScript of our own: no CDN, no web fonts, no network besides the app it is served by, so it
works offline. It reads the app's own AsyncAPI document (``GET /asyncapi.json``) and builds, per
channel with an address, a connect/disconnect control (with an input per address parameter), a
form per message the channel receives (from the message's payload schema) and a log of the
frames the server sends (replies, broadcasts, events and error frames).

:data:`ROUTES` serves it (HTTP only; WebSocket requests to these paths are refused as for any
unknown path):

| path | response |
|---|---|
| ``GET /`` | ``307`` redirect to ``/showcase/`` |
| ``GET /showcase`` | Starlette's slash redirect to ``/showcase/`` |
| ``GET /showcase/`` | ``index.html`` |
| ``GET /showcase/app.js``, ``GET /showcase/style.css`` | the script and the style sheet |

Mount it with ``create_app(..., extra_routes=ROUTES)`` (``examples/showcase/main.py`` does).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

__all__ = ["PAGE_DIR", "PAGE_PATH", "ROUTES"]

PAGE_DIR = Path(__file__).resolve().parent
"""Folder of the page's static files."""

PAGE_PATH = "/showcase/"
"""Where the page is served (its scripts and styles are relative to it)."""

_FILES = {
    "": ("index.html", "text/html; charset=utf-8"),
    "app.js": ("app.js", "text/javascript; charset=utf-8"),
    "style.css": ("style.css", "text/css; charset=utf-8"),
}
_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


async def _redirect(request: Request) -> Response:
    return RedirectResponse(PAGE_PATH, status_code=307)


async def _file(request: Request) -> Response:
    name, media_type = _FILES[request.url.path.removeprefix(PAGE_PATH)]
    return FileResponse(PAGE_DIR / name, media_type=media_type, headers=_HEADERS)


ROUTES: list[BaseRoute] = [
    Route("/", _redirect, methods=["GET", "HEAD"]),
    *(Route(PAGE_PATH + path, _file, methods=["GET", "HEAD"]) for path in _FILES),
]
"""The page's HTTP routes, for ``create_app(extra_routes=...)``."""
