"""The ``chanspec`` command line (click).

Exit codes: 0 ok; 1 problems found, stale output, or (diff) a change at or above --fail-on;
2 usage errors and a diff side that cannot be loaded.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from chanspec.runtime.asyncapi import dump_json, dump_yaml

from .diff import Difference
from .diff_format import FORMATS, Location, render
from .diff_rules import FAIL_ON, classify_documents, fails
from .docs_command import docs_command
from .load import LoadedDocument
from .pipeline import analyse, generate
from .problems import Problem, Severity
from .sides import AppLoadError, app_document, load_side

__all__ = ["main"]


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
def validate(spec: Path, allow_remote: bool) -> None:
    """Check SPEC and print every problem with file:line:col, code and hint."""
    service, problems = analyse(spec, allow_remote=allow_remote)
    _print_problems(problems)
    if service is None:
        sys.exit(1)
    click.echo(
        f"{spec}: ok ({len(service.channels)} channels, "
        f"{sum(len(c.operations) for c in service.channels)} operations)"
    )


def _generate(spec: Path, out: Path, package: str | None, mode: str, allow_remote: bool) -> int:
    result = generate(spec, out, package=package, mode=mode, allow_remote=allow_remote)
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
    _print_problems(report.notes)
    if mode == "check":
        if report.changed:
            click.echo(
                "generated files or handlers are out of date: run chanspec generate", err=True
            )
            return 1
        click.echo(f"{out}: up to date with {spec}")
        return 0
    click.echo(
        f"{len(report.written)} generated, {len(report.unchanged)} unchanged, "
        f"{len(report.created)} scaffolds created, {len(report.updated)} updated, "
        f"{len(report.kept)} kept"
    )
    return 0


@main.command(name="generate")
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path),
              help="App package directory to write.")  # fmt: skip
@click.option("--package", help="Import name of the package (default: the directory name).")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--allow-remote", is_flag=True, help="Resolve http(s) $ref targets.")
def generate_command(
    spec: Path, out: Path, package: str | None, dry_run: bool, allow_remote: bool
) -> None:
    """Generate models, contracts and consumer scaffolds for SPEC into OUTPUT."""
    sys.exit(_generate(spec, out, package, "dry-run" if dry_run else "write", allow_remote))


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path))
@click.option("--allow-remote", is_flag=True)
def check(spec: Path, out: Path, allow_remote: bool) -> None:
    """Exit 1 when the generated files in OUTPUT are not current with SPEC (for CI)."""
    sys.exit(_generate(spec, out, None, "check", allow_remote))


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
