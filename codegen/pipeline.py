"""The generator pipeline in one function: load -> normalise -> render -> write."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from .model import ServiceModel
from .normalise import normalise
from .problems import Problem, Severity
from .render import RenderedFile, render_service
from .spec import load_spec
from .write import TreeReport, check_tree, write_tree

__all__ = [
    "GenerateResult",
    "analyse",
    "generate",
    "served_routes",
    "server_protocols",
    "strengthen",
]


@dataclass
class GenerateResult:
    """Outcome of :func:`generate`: all problems, the tree report when rendering happened, and
    the normalised ``service`` (``None`` when the spec has errors)."""

    problems: list[Problem] = field(default_factory=list)
    report: TreeReport | None = None
    files: list[RenderedFile] = field(default_factory=list)
    service: ServiceModel | None = None
    client_kept: bool = False
    """True when ``generated/client.py`` was rendered only because it existed (``client=None``)."""

    @property
    def failed(self) -> bool:
        """True when any problem is an error (then nothing was written)."""
        return any(p.severity is Severity.ERROR for p in self.problems)


def analyse(
    spec: Path, *, allow_remote: bool = False, strict: bool = False
) -> tuple[ServiceModel | None, list[Problem]]:
    """Load, validate and normalise ``spec``.

    The document is checked against the official AsyncAPI JSON Schema of its version
    (``S`` codes, :mod:`.schema_check`) as well as by every stage's own checks.

    Args:
        spec: the AsyncAPI document.
        allow_remote: resolve ``http(s)`` ``$ref`` targets.
        strict: report every warning as an error (``--strict``), so it stops generation.

    Returns:
        The model (``None`` when any problem is an error) and every problem, in stage order.
    """
    service, problems = _analyse(spec, allow_remote)
    if strict:
        problems = [strengthen(p) for p in problems]
        if any(p.severity is Severity.ERROR for p in problems):
            service = None
    return service, problems


def strengthen(problem: Problem) -> Problem:
    """``problem`` as an error (``--strict``: a warning stops generation like an error)."""
    return replace(problem, severity=Severity.ERROR)


def _analyse(spec: Path, allow_remote: bool) -> tuple[ServiceModel | None, list[Problem]]:
    doc = load_spec(spec, allow_remote=allow_remote, check_schema=True)
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
    strict: bool = False,
    client: bool | None = None,
    mark: bool = False,
) -> GenerateResult:
    """Generate (or check) the app package for ``spec`` in ``out_dir``.

    Args:
        spec: the AsyncAPI document.
        out_dir: the package directory to write.
        package: import name used in docs of scaffolds (default: ``out_dir``'s name).
        mode: ``"write"``, ``"dry-run"`` or ``"check"`` (compare only).
        allow_remote: resolve ``http(s)`` ``$ref`` targets.
        strict: treat warnings as errors (nothing is written when there are any).
        mark: comment handlers of removed operations and changed signatures in the user's
            consumer modules (``--mark-stale``); never in ``"check"`` mode.
        client: ``True``: also generate ``generated/client.py``, typed WebSocket clients;
            ``None`` (default): regenerate it when it exists (a client generated once stays
            current); ``False``: do not generate it, and remove an existing one (``generated/``
            is chanspec's; reported in ``report.removed``; ``"check"`` reports it as stale,
            so it fails while the file is there, as it does for any module under
            ``generated/`` that the spec no longer produces).

    Returns:
        A :class:`GenerateResult`; with any error problem nothing is rendered or written.
    """
    service, problems = analyse(spec, allow_remote=allow_remote, strict=strict)
    result = GenerateResult(problems, service=service)
    if service is None:
        return result
    existing = (out_dir / CLIENT).is_file()
    result.client_kept = client is None and existing
    with_client = bool(client) or result.client_kept
    result.files = render_service(service, package or out_dir.name, client=with_client)
    # any other chanspec file under generated/ that is not rendered goes too (write_tree)
    remove = [CLIENT] if client is False else []
    if mode == "check":
        result.report = check_tree(out_dir, result.files, remove=remove)
    else:
        result.report = write_tree(
            out_dir, result.files, dry_run=mode == "dry-run", mark=mark, remove=remove
        )
    return result


#: The typed client module, generated with ``--client`` and kept current once it exists.
CLIENT = "generated/client.py"


def served_routes(service: ServiceModel) -> list[str]:
    """One line per channel saying how the generated app serves it, for people to read.

    ``"/ws/room/{room_name}  room_chat -> RoomChatConsumer"`` for a channel served as a
    WebSocket route; ``"(not served)  <id> -> <Consumer>: no address"`` for a channel without
    an address (its consumer and models exist, e.g. as message contracts). The spec's servers
    may declare other protocols (Kafka, MQTT...): the generated app serves WebSocket only, so
    the models and consumers are the contract and the routes are chanspec's WebSocket view.
    """
    lines = []
    for ch in service.channels:
        if ch.route is None:
            lines.append(f"(not served)  {ch.id} -> {ch.consumer_class}: no address")
        else:
            lines.append(f"{ch.route}  {ch.id} -> {ch.consumer_class}")
    return lines


def server_protocols(service: ServiceModel) -> list[str]:
    """The distinct ``protocol`` values of the spec's servers, in order of first appearance."""
    servers = service.metadata.get("servers")
    seen: list[str] = []
    if isinstance(servers, dict):
        for server in servers.values():
            protocol = server.get("protocol") if isinstance(server, dict) else None
            if isinstance(protocol, str) and protocol not in seen:
                seen.append(protocol)
    return seen
