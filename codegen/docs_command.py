"""``chanspec docs``: one offline HTML page documenting a spec or a live app.

The page is :func:`chanspec.runtime.asyncapi.html.render_html` of the document: for a spec
path, the loaded document with every ``$ref`` resolved (so refs into other files work); for
``module:attribute``, the AsyncAPI document the app emits (the same page its ``/asyncapi`` route
serves). The lead registers :data:`docs_command` on the ``chanspec`` group.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from chanspec.runtime.asyncapi.html import render_html

from .problems import Severity
from .sides import AppLoadError, load_side

__all__ = ["docs_command"]


@click.command(name="docs")
@click.argument("source", metavar="SPEC|MODULE:APP")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="HTML file to write (default: standard output).",
)
@click.option("--title", default=None, help="Page title (default: info.title and version).")
def docs_command(source: str, out: Path | None, title: str | None) -> None:
    """Write a self-contained HTML page documenting SPEC or MODULE:APP.

    The page needs no network: inline CSS and JavaScript, no fonts or CDN. Exit codes: 0
    written; 1 when the spec has errors (each printed with file:line:col and its code) or the
    app cannot be imported; 2 for usage errors. Warnings are printed and the page is written.
    """
    try:
        loaded = load_side(source)
    except AppLoadError as exc:
        raise click.ClickException(str(exc)) from exc
    errors = [p for p in loaded.problems if p.severity is Severity.ERROR]
    for problem in loaded.problems:
        click.echo(problem.format(), err=True)
    if errors or not loaded.raw:
        warnings = len(loaded.problems) - len(errors)
        click.echo(f"{len(errors)} error(s), {warnings} warning(s): no page written", err=True)
        sys.exit(1)
    page = render_html(loaded.resolved, title=title)
    if out is None:
        click.echo(page, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    channels = loaded.resolved.get("channels")
    count = len(channels) if isinstance(channels, dict) else 0
    click.echo(f"wrote {out} ({count} channel(s))")
