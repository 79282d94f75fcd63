"""The ``chanspec`` command line (click).

Exit codes: 0 ok; 1 problems found, stale output, or (diff) a change at or above --fail-on;
2 usage errors and a diff side that cannot be loaded.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import watchfiles
from chanspec.runtime.asyncapi import dump_json, dump_yaml

from .config import load_config
from .diff import Difference
from .diff_format import FORMATS, Location, render
from .diff_rules import FAIL_ON, classify_documents, fails
from .docs_command import docs_command
from .init_command import init_command
from .load import LoadedDocument
from .model import ServiceModel
from .pipeline import GenerateResult, analyse, generate, served_routes, server_protocols
from .problems import Problem, Severity
from .sides import AppLoadError, app_document, load_side

__all__ = ["MISMATCH_CODES", "main"]

#: Notes about user code that make ``chanspec check`` fail: a handler of an operation the
#: spec no longer has (G002), a handler whose signature differs from the spec (G003), a handler
#: of an operation the spec renamed (G005), an import of a generated name the spec no longer
#: defines (G006), a consumer module of a channel the spec no longer has (G007).
MISMATCH_CODES = frozenset({"G002", "G003", "G005", "G006", "G007"})
#: The subset of :data:`MISMATCH_CODES` about handlers.
HANDLER_CODES = frozenset({"G002", "G003", "G005"})


def _print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(problem.format(), err=True)
    errors = sum(p.severity is Severity.ERROR for p in problems)
    warnings = len(problems) - errors
    if problems:
        click.echo(f"{errors} error(s), {warnings} warning(s)", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chanspec")
def main() -> None:
    """chanspec: AsyncAPI spec -> typed Python WebSocket service, and back."""


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--allow-remote", is_flag=True, help="Resolve http(s) $ref targets.")
@click.option("--strict", is_flag=True, help="Treat every warning as an error.")
def validate(spec: Path, allow_remote: bool, strict: bool) -> None:
    """Check SPEC and print every problem with file:line:col, code and hint.

    SPEC is checked against the official AsyncAPI JSON Schema of its version and by
    chanspec's own semantic checks; exit 1 on any error (with --strict, on any warning too).
    """
    service, problems = analyse(spec, allow_remote=allow_remote, strict=strict)
    _print_problems(problems)
    if service is None:
        sys.exit(1)
    click.echo(
        f"{spec}: ok ({len(service.channels)} channels, "
        f"{sum(len(c.operations) for c in service.channels)} operations)"
    )
    _print_routes(service)


def _print_routes(service: ServiceModel) -> None:
    """Which channels the generated app serves as WebSocket routes (issue: non-WS specs)."""
    click.echo("WebSocket routes of the generated app:")
    for line in served_routes(service):
        click.echo(f"  {line}")
    others = [p for p in server_protocols(service) if p not in ("ws", "wss")]
    if others:
        click.echo(
            f"note: the spec's servers use {', '.join(others)}; the generated app serves its "
            "channels over WebSocket, and its models and consumers are the message contracts"
        )


def _report(result: GenerateResult, spec: Path, out: Path, mode: str) -> int:
    """Print what one generate/check run did (problems included); returns its exit code."""
    _print_problems(result.problems)
    if result.failed or result.report is None:
        click.echo("nothing written", err=True)
        return 1
    report = result.report
    verb = {"write": "wrote", "dry-run": "would write", "check": "stale"}[mode]
    for path in report.written:
        click.echo(f"{verb} {out / path}")
    created = {"write": "created", "dry-run": "would create", "check": "missing"}[mode]
    for path in report.created:
        click.echo(f"{created} {out / path}")
    stubbed = {"write": "added stubs to", "dry-run": "would add stubs to", "check": "missing"}
    for path, ops in report.updated.items():
        click.echo(f"{stubbed[mode]} {out / path}: {', '.join(ops)}")
    for path, methods in report.marked.items():
        verb = "would mark" if mode == "dry-run" else "marked"
        click.echo(f"{verb} {out / path}: {', '.join(methods)}")
    removed = {"write": "removed", "dry-run": "would remove", "check": "stale"}[mode]
    for path in report.removed:
        why = "--no-client" if path == "generated/client.py" else "the spec no longer generates it"
        click.echo(f"{removed} {out / path} ({why})")
    if result.client_kept:
        kept = {"write": "kept", "dry-run": "would be kept", "check": "checked as"}[mode]
        click.echo(
            f"{out / 'generated' / 'client.py'} exists: {kept} current with the spec "
            "(--no-client removes it)"
        )
    if report.retained:
        click.echo(
            f"kept (deprecated, still imported) in {out / 'generated' / 'messages.py'}: "
            + ", ".join(report.retained)
        )
    _print_problems(report.notes)
    if mode == "check":
        if report.changed:
            click.echo(
                "generated files or handlers are out of date: run chanspec generate", err=True
            )
            return 1
        mismatched = [n for n in report.notes if n.code in HANDLER_CODES]
        if mismatched:
            click.echo(
                f"{len(mismatched)} handler(s) do not match the spec (see above): change the "
                "code or the spec",
                err=True,
            )
        leftover = [n for n in report.notes if n.code in MISMATCH_CODES - HANDLER_CODES]
        if leftover:
            click.echo(
                f"{len(leftover)} import(s) or module(s) refer to what the spec removed (see "
                "above): delete that code or restore it in the spec",
                err=True,
            )
        if mismatched or leftover:
            return 1
        click.echo(f"{out}: up to date with {spec}")
        return 0
    if result.service is not None and (report.written or report.created):
        _print_routes(result.service)
    click.echo(
        f"{len(report.written)} generated, {len(report.unchanged)} unchanged, "
        f"{len(report.created)} scaffolds created, {len(report.updated)} updated, "
        + (f"{len(report.marked)} marked, " if report.marked else "")
        + (f"{len(report.removed)} removed, " if report.removed else "")
        + f"{len(report.kept)} kept"
    )
    return 0


def _generate(
    spec: Path,
    out: Path,
    package: str | None,
    mode: str,
    allow_remote: bool,
    strict: bool = False,
    client: bool | None = None,
    mark: bool = False,
) -> int:
    result = generate(
        spec, out, package=package, mode=mode, allow_remote=allow_remote, strict=strict,
        client=client, mark=mark,
    )  # fmt: skip
    return _report(result, spec, out, mode)


@dataclass(frozen=True)
class _Settings:
    spec: Path
    out: Path
    package: str | None
    allow_remote: bool
    strict: bool = False
    client: bool | None = None  # None: regenerate generated/client.py when it exists
    mark: bool = False


def _settings(
    spec: Path | None,
    out: Path | None,
    package: str | None,
    allow_remote: bool | None,
    strict: bool | None = None,
    client: bool | None = None,
    mark: bool | None = None,
) -> _Settings:
    """Command-line values over ``[tool.chanspec]`` (see :mod:`.config`); usage error if unset."""
    config = load_config()
    where = (
        f"[tool.chanspec] in {config.source}"
        if config.source is not None
        else "[tool.chanspec] of a pyproject.toml"
    )
    spec = spec if spec is not None else config.spec
    if spec is None:
        raise click.UsageError(f"missing argument SPEC: pass it or set 'spec' in {where}")
    out = out if out is not None else config.output
    if out is None:
        raise click.UsageError(f"missing option -o/--output: pass it or set 'output' in {where}")
    return _Settings(
        spec=spec,
        out=out,
        package=package if package is not None else config.package,
        allow_remote=allow_remote if allow_remote is not None else bool(config.allow_remote),
        strict=strict if strict is not None else bool(config.strict),
        client=client if client is not None else config.client,
        mark=mark if mark is not None else bool(config.mark_stale),
    )


#: Files whose change triggers a regeneration in ``generate --watch``.
WATCHED_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class WatchRun:
    """One regeneration in :func:`watch_spec`.

    ``changed``: the files whose change started it (empty for the first run); ``exit_code``:
    what ``chanspec generate`` would exit with; ``result``: the pipeline's result (``None``
    when it raised, then ``error`` is the exception).
    """

    changed: tuple[Path, ...]
    exit_code: int
    result: GenerateResult | None = None
    error: Exception | None = None


class _SpecFilter(watchfiles.DefaultFilter):
    """Spec-like files (``WATCHED_SUFFIXES``) outside the output directory and the usual junk."""

    def __init__(self, out: Path) -> None:
        super().__init__()
        self._out = out.resolve()

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        file = Path(path)
        if file.suffix.lower() not in WATCHED_SUFFIXES or not super().__call__(change, path):
            return False
        return not file.resolve().is_relative_to(self._out)


def watch_spec(
    spec: Path,
    out: Path,
    *,
    package: str | None = None,
    allow_remote: bool = False,
    mode: str = "write",
    strict: bool = False,
    client: bool | None = None,
    mark: bool = False,
    stop_event: threading.Event | None = None,
    on_run: Callable[[WatchRun], None] | None = None,
    debounce_ms: int = 1600,
    step_ms: int = 50,
) -> None:
    """Generate now, then again whenever a spec file under ``spec``'s directory changes.

    Watches ``spec``'s directory recursively for ``.yaml``/``.yml``/``.json`` files (the spec
    and the files it references by relative ``$ref``), ignoring ``out``. Every run is printed
    like ``chanspec generate`` and passed to ``on_run``. A spec with errors writes nothing (the
    pipeline renders only error-free specs) and the loop keeps waiting; an exception raised by
    the pipeline is printed and reported, never propagated. Returns when ``stop_event`` is set;
    Ctrl+C raises ``KeyboardInterrupt`` as usual.
    """

    def run(changed: tuple[Path, ...]) -> None:
        if changed:
            names = ", ".join(str(_display(p)) for p in changed)
            click.echo(f"[{time.strftime('%H:%M:%S')}] changed: {names}")
        try:
            result = generate(
                spec, out, package=package, mode=mode, allow_remote=allow_remote, strict=strict,
                client=client, mark=mark,
            )  # fmt: skip
            outcome = WatchRun(changed, _report(result, spec, out, mode), result)
        except Exception as exc:  # a pipeline bug must not end the watch
            click.echo(f"error: generation failed: {type(exc).__name__}: {exc}", err=True)
            click.echo("nothing written", err=True)
            outcome = WatchRun(changed, 1, error=exc)
        if on_run is not None:
            on_run(outcome)
        click.echo(f"watching {_display(spec.parent)} for changes (Ctrl+C to stop)")

    run(())
    for changes in watchfiles.watch(
        spec.parent,
        watch_filter=_SpecFilter(out),
        stop_event=stop_event,
        debounce=debounce_ms,
        step=step_ms,
    ):
        run(tuple(sorted({Path(path) for _, path in changes})))


def _display(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


_SPEC_ARG = click.argument("spec", required=False, type=click.Path(path_type=Path))
_OUTPUT = click.option(
    "-o", "--output", "out", type=click.Path(path_type=Path), default=None,
    help="App package directory (default: 'output' in [tool.chanspec]).",
)  # fmt: skip
_ALLOW_REMOTE = click.option(
    "--allow-remote/--no-allow-remote", default=None,
    help="Resolve http(s) $ref targets (default: 'allow-remote' in [tool.chanspec], else off).",
)  # fmt: skip
_STRICT = click.option(
    "--strict/--no-strict", default=None,
    help="Treat warnings as errors: nothing is written (default: 'strict' in [tool.chanspec]).",
)  # fmt: skip
_CLIENT = click.option(
    "--client/--no-client", default=None,
    help="Also generate generated/client.py, typed WebSocket clients (docs/client.md). "
    "Without either flag ('client' in [tool.chanspec] unset) an existing generated/client.py "
    "is kept current and none is created; --no-client removes it.",
)  # fmt: skip


@main.command(name="generate")
@_SPEC_ARG
@_OUTPUT
@click.option("--package", help="Import name of the package (default: the directory name).")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@_ALLOW_REMOTE
@_STRICT
@_CLIENT
@click.option(
    "--mark-stale/--no-mark-stale", "mark", default=None,
    help="Add a '# chanspec G002/G003: ...' comment above each handler whose operation left "
    "the spec or whose signature changed (default: 'mark-stale' in [tool.chanspec], else off).",
)  # fmt: skip
@click.option("--watch", is_flag=True, help="Regenerate whenever the spec changes (Ctrl+C stops).")
def generate_command(
    spec: Path | None,
    out: Path | None,
    package: str | None,
    dry_run: bool,
    allow_remote: bool | None,
    strict: bool | None,
    client: bool | None,
    mark: bool | None,
    watch: bool,
) -> None:
    """Generate models, contracts and consumer scaffolds for SPEC into OUTPUT.

    SPEC, OUTPUT, --package and --allow-remote default to [tool.chanspec] in the nearest
    pyproject.toml (paths there are relative to that file); the command line wins.
    """
    s = _settings(spec, out, package, allow_remote, strict, client, mark)
    mode = "dry-run" if dry_run else "write"
    if watch:
        try:
            watch_spec(
                s.spec,
                s.out,
                package=s.package,
                allow_remote=s.allow_remote,
                mode=mode,
                strict=s.strict,
                client=s.client,
                mark=s.mark,
            )
        except KeyboardInterrupt:
            pass
        click.echo("stopped watching")
        sys.exit(0)
    sys.exit(_generate(s.spec, s.out, s.package, mode, s.allow_remote, s.strict, s.client, s.mark))


@main.command()
@_SPEC_ARG
@_OUTPUT
@_ALLOW_REMOTE
@_STRICT
@_CLIENT
def check(
    spec: Path | None,
    out: Path | None,
    allow_remote: bool | None,
    strict: bool | None,
    client: bool | None,
) -> None:
    """Exit 1 when the generated files in OUTPUT are not current with SPEC (for CI).

    A file under generated/ that generate would remove (one the spec no longer produces;
    generated/client.py with --no-client) makes it fail too, as do handlers and imports that
    no longer match the spec. SPEC, OUTPUT, --allow-remote and --strict default to
    [tool.chanspec] in the nearest pyproject.toml.
    """
    s = _settings(spec, out, None, allow_remote, strict, client)
    sys.exit(_generate(s.spec, s.out, s.package, "check", s.allow_remote, s.strict, s.client))


def _load(value: str) -> LoadedDocument:
    try:
        doc = load_side(value)
    except AppLoadError as exc:
        raise click.ClickException(str(exc)) from exc
    errors = [p for p in doc.problems if p.severity is Severity.ERROR]
    if errors:
        _print_problems(errors)
        raise click.ClickException(f"{value}: cannot be loaded")
    return doc


@main.command()
@click.argument("old")
@click.argument("new")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output: text, json, markdown, or github (Actions annotations).",
)
@click.option(
    "--fail-on",
    "fail_on",
    type=click.Choice(FAIL_ON),
    default="breaking",
    show_default=True,
    help="Exit 1 when a change is at or above this level.",
)
def diff(old: str, new: str, fmt: str, fail_on: str) -> None:
    """Compare OLD and NEW (each a spec path or module:app) and classify every change.

    Each change gets a rule (breaking, warning or info; see docs/diff-rules.md). Exit 1 when
    a change is at or above --fail-on, 0 otherwise, 2 when a side cannot be loaded.
    """
    try:
        a, b = _load(old), _load(new)
    except click.ClickException as exc:
        exc.exit_code = 2
        raise
    findings = classify_documents(a.resolved, b.resolved)

    # file:line:col only for spec sides: an app side is loaded from its emitted JSON text,
    # whose positions point nowhere a user can open (its ``path`` is ``module:attr``)
    spec_side = {id(a): a.path.is_file(), id(b): b.path.is_file()}

    def locate(d: Difference) -> Location:
        places: list[Any] = []
        for doc, origin in ((a, d.old_origin), (b, d.new_origin)):
            pos = None
            if origin is not None and spec_side[id(doc)]:
                container, key = origin
                pos = doc.source.position_of(container, key) or doc.source.position_of(container)
            places.append(pos)
        return Location(places[0], places[1])

    text = render(findings, fmt, old_label=old, new_label=new, locate=locate)
    if text:
        click.echo(text)
    sys.exit(1 if fails(findings, fail_on) else 0)


@main.command()
@click.argument("app")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), default=None)
def emit(app: str, fmt: str, out: Path | None) -> None:
    """Write the AsyncAPI 3.0 document of APP (module:attribute) as JSON or YAML."""
    try:
        document: dict[str, Any] = app_document(app)
    except AppLoadError as exc:
        raise click.ClickException(str(exc)) from exc
    text = dump_json(document) if fmt == "json" else dump_yaml(document)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


main.add_command(docs_command)
main.add_command(init_command)
