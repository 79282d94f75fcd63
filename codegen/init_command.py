"""``chanspec init``: scaffold a new project around a starter AsyncAPI 3.0 spec.

The files come from the jinja2 templates in ``templates/init/``:

- ``specs/service.asyncapi.yaml``: one channel (``/ws/room/{room_name}``) with a request/reply
  operation (``ping`` -> ``pong``), a message the client posts and a group broadcast
  (``posted`` to ``room_{room_name}`` over a Redis pub/sub layer), following
  ``docs/spec-conventions.md``;
- ``pyproject.toml``: the project, its dependency on chanspec, ``[tool.chanspec]`` settings
  (see :mod:`.config`) so ``chanspec generate`` and ``chanspec check`` need no arguments, and
  pytest settings for tests written with ``chanspec.runtime.testing.Communicator``;
- ``.pre-commit-config.yaml``: a local hook running ``chanspec check``;
- ``.github/workflows/chanspec.yml``: CI running ``chanspec check`` and ``chanspec diff <spec>
  app.main:app --fail-on breaking --format github``.

The app itself is not generated: ``chanspec generate`` does that from the settings. Existing
files are never overwritten: if any target exists, nothing is written and the command exits 1.
"""

from __future__ import annotations

import contextlib
import re
from importlib import metadata, resources
from pathlib import Path

import click
import jinja2

__all__ = [
    "PACKAGE",
    "SPEC_PATH",
    "InitConflict",
    "init_command",
    "project_files",
    "project_name",
    "write_project",
]

#: Where the starter spec goes, relative to the project directory.
SPEC_PATH = "specs/service.asyncapi.yaml"
#: The import name (and directory) of the app package ``chanspec generate`` writes.
PACKAGE = "app"

#: project file (relative path) -> template under ``templates/init/``.
_TEMPLATES: dict[str, str] = {
    "pyproject.toml": "pyproject.toml.jinja",
    SPEC_PATH: "service.asyncapi.yaml.jinja",
    ".pre-commit-config.yaml": "pre-commit-config.yaml.jinja",
    ".github/workflows/chanspec.yml": "chanspec.yml.jinja",
}


class InitConflict(Exception):
    """Some files ``chanspec init`` would create already exist.

    Attributes:
        existing: those paths, in the order they would have been written.
    """

    def __init__(self, existing: list[Path]) -> None:
        super().__init__(", ".join(str(p) for p in existing))
        self.existing = existing


def project_name(directory: Path) -> str:
    """A distribution name for the project in ``directory`` (PEP 503 normalised).

    The directory's name lower-cased, with every run of characters other than ``a-z`` and
    ``0-9`` turned into one ``-`` and leading/trailing ``-`` dropped; ``"service"`` when nothing
    is left. The result is safe to put in TOML and YAML strings unquoted or quoted.
    """
    name = re.sub(r"[^a-z0-9]+", "-", directory.resolve().name.lower()).strip("-")
    return name or "service"


def _validated_name(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name):
        raise click.BadParameter(
            f"{name!r}: use lower-case letters, digits and single '-' (e.g. chat-service)",
            param_hint="--name",
        )
    return name


def _chanspec_requirement() -> str:
    """``chanspec[server]`` with a lower bound at the installed release (``>=0.1``)."""
    try:
        version = metadata.version("chanspec")
    except metadata.PackageNotFoundError:
        return "chanspec[server]"
    parts = re.findall(r"\d+", version)[:2]
    return f"chanspec[server]>={'.'.join(parts)}" if len(parts) == 2 else "chanspec[server]"


def project_files(name: str) -> dict[str, str]:
    """The starter files of project ``name``: ``{relative path: text}``, in writing order.

    Args:
        name: the distribution name (``[a-z0-9]`` words joined by ``-``, see
            :func:`project_name`); it becomes ``[project] name`` and the spec's ``info.title``.

    Raises:
        click.BadParameter: ``name`` is not of that form.
    """
    name = _validated_name(name)
    root = resources.files("chanspec") / "templates" / "init"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    values = {
        "name": name,
        "spec": SPEC_PATH,
        "package": PACKAGE,
        "chanspec_requirement": _chanspec_requirement(),
    }
    return {path: env.get_template(t).render(**values) for path, t in _TEMPLATES.items()}


def write_project(directory: Path, files: dict[str, str]) -> list[Path]:
    """Create ``files`` under ``directory`` (created if missing), never overwriting.

    Every target is checked before anything is written; each file is then created exclusively
    (``open(..., "x")``), and if one cannot be (a race, a permission error) the files written
    by this call are removed again.

    Returns:
        The paths written (files and the directories created for them), in order.

    Raises:
        InitConflict: some targets already exist (nothing is written).
        OSError: a file could not be created (what this call wrote is removed).
    """
    targets = [directory / path for path in files]
    existing = [t for t in targets if t.exists() or t.is_symlink()]
    if existing:
        raise InitConflict(existing)
    written: list[Path] = []
    try:
        for target, text in zip(targets, files.values(), strict=True):
            missing = [d for d in (target.parent, *target.parent.parents) if not d.exists()]
            target.parent.mkdir(parents=True, exist_ok=True)
            written.extend(reversed(missing))
            with target.open("x", encoding="utf-8", newline="\n") as handle:
                written.append(target)
                handle.write(text)
    except FileExistsError as exc:
        _remove(written)
        raise InitConflict([Path(exc.filename)]) from exc
    except OSError:
        _remove(written)
        raise
    return written


def _remove(paths: list[Path]) -> None:
    """Remove what :func:`write_project` created (files, then the directories it made)."""
    for path in reversed(paths):
        with contextlib.suppress(OSError):  # a directory someone else filled meanwhile stays
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink(missing_ok=True)


@click.command(name="init")
@click.argument(
    "directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path)
)
@click.option(
    "--name",
    default=None,
    help="Project name (default: from the directory name, e.g. chat-service).",
)
def init_command(directory: Path, name: str | None) -> None:
    """Scaffold a new project in DIRECTORY (default: the current directory).

    Writes a starter AsyncAPI 3.0 spec (specs/service.asyncapi.yaml), pyproject.toml with
    [tool.chanspec] settings, a pre-commit hook running `chanspec check` and a GitHub Actions
    workflow running `chanspec check` and `chanspec diff`. Then run `chanspec generate` there.
    Exit 1, writing nothing, if any of these files exists.
    """
    files = project_files(name if name is not None else project_name(directory))
    try:
        written = write_project(directory, files)
    except InitConflict as exc:
        for path in exc.existing:
            click.echo(f"error: {path} already exists", err=True)
        click.echo("nothing written (chanspec init never overwrites files)", err=True)
        raise SystemExit(1) from None
    except OSError as exc:
        click.echo(f"error: cannot write {exc.filename}: {exc.strerror}", err=True)
        click.echo("nothing written", err=True)
        raise SystemExit(1) from None
    for path in written:
        if path.is_file():
            click.echo(f"created {path}")
    where = "" if directory == Path(".") else f"cd {directory} && "
    click.echo(f"next: {where}chanspec generate")
