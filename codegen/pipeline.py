"""The generator pipeline in one function: load -> normalise -> render -> write."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .model import ServiceModel
from .normalise import normalise
from .problems import Problem, Severity
from .render import RenderedFile, render_service
from .spec import load_spec
from .write import TreeReport, check_tree, write_tree

__all__ = ["GenerateResult", "analyse", "generate"]


@dataclass
class GenerateResult:
    """Outcome of :func:`generate`: all problems, and the tree report when rendering happened."""

    problems: list[Problem] = field(default_factory=list)
    report: TreeReport | None = None
    files: list[RenderedFile] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when any problem is an error (then nothing was written)."""
        return any(p.severity is Severity.ERROR for p in self.problems)


def analyse(spec: Path, *, allow_remote: bool = False) -> tuple[ServiceModel | None, list[Problem]]:
    """Load and normalise ``spec``; returns the model (``None`` on errors) and every problem."""
    doc = load_spec(spec, allow_remote=allow_remote)
    problems = list(doc.problems)
    # A parsed document with a supported version is normalised even after loader errors
    # (e.g. an unresolvable $ref), so one run reports every problem, not just the first stage's.
    if not doc.raw or any(p.code in ("L020", "L021") for p in problems):
        return None, problems
    service, found = normalise(doc)
    problems.extend(found)
    if service is None or any(p.severity is Severity.ERROR for p in problems):
        return None, problems
    return service, problems


def generate(
    spec: Path,
    out_dir: Path,
    *,
    package: str | None = None,
    mode: str = "write",
    allow_remote: bool = False,
) -> GenerateResult:
    """Generate (or check) the app package for ``spec`` in ``out_dir``.

    Args:
        spec: the AsyncAPI document.
        out_dir: the package directory to write.
        package: import name used in docs of scaffolds (default: ``out_dir``'s name).
        mode: ``"write"``, ``"dry-run"`` or ``"check"`` (compare only).
        allow_remote: resolve ``http(s)`` ``$ref`` targets.

    Returns:
        A :class:`GenerateResult`; with any error problem nothing is rendered or written.
    """
    service, problems = analyse(spec, allow_remote=allow_remote)
    result = GenerateResult(problems)
    if service is None:
        return result
    result.files = render_service(service, package or out_dir.name)
    if mode == "check":
        result.report = check_tree(out_dir, result.files)
    else:
        result.report = write_tree(out_dir, result.files, dry_run=mode == "dry-run")
    return result
