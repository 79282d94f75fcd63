"""Conformance over the shared corpus of real AsyncAPI documents (``../shared/corpus``).

For every document whose manifest says ``schema:PASS`` (valid against the official JSON Schema
of its version): load it (2.x converted), generate the app, import it, and diff the app's
emitted document against the spec. Outcomes:

- ``roundtrip``: generated, imported, and the diff is empty;
- ``drift``: generated and imported, the diff is not empty (rule ids recorded);
- ``rejected``: generation stopped with located problems (codes recorded), no traceback;
- ``crash``: anything else (a bug).

``python -m tests.conformance > docs/conformance.md`` writes the report; ``test_conformance.py``
checks that no document regresses from the outcome recorded in ``conformance_expected.tsv``.
"""

from __future__ import annotations

import csv
import importlib
import shutil
import sys
import tempfile
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from chanspec.codegen.catalogue import ALL_CODES
from chanspec.codegen.diff_rules import classify_documents
from chanspec.codegen.load import load_document, load_text
from chanspec.codegen.pipeline import generate
from chanspec.codegen.problems import Severity
from chanspec.codegen.schema_check import schema_problems
from chanspec.codegen.spec import load_spec
from chanspec.runtime.app import document_of
from chanspec.runtime.asyncapi import dump_json

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
EXPECTED = Path(__file__).resolve().parent / "conformance_expected.tsv"


@dataclass
class Outcome:
    path: str
    version: str
    flags: list[str]
    status: str = "crash"
    details: list[str] = field(default_factory=list)
    package: str = ""


def manifest() -> list[dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def selected() -> list[dict[str, str]]:
    return [row for row in manifest() if "schema:PASS" in row["notes"]]


def _flags(notes: str) -> list[str]:
    out = []
    for part in notes.split(";"):
        name = part.strip().split("=")[0].split(":")[0]
        if name and name not in ("schema", "jsparser", "schema_err", "src", "ops", "doc_id"):
            out.append(name)
    return out


def run_one(row: dict[str, str], root: Path, index: int) -> Outcome:
    """Generate, import and diff one corpus document into ``root/conf_<index>``."""
    spec = CORPUS / row["local_path"]
    outcome = Outcome(row["local_path"], row["asyncapi_version"], _flags(row["notes"]))
    package = f"conf_{index}"
    outcome.package = package
    try:
        result = generate(spec, root / package, package=package)
        if result.failed:
            outcome.status = "rejected"
            codes = {p.code for p in result.problems if p.severity is Severity.ERROR}
            outcome.details = sorted(codes)
            return outcome
        module = importlib.import_module(f"{package}.main")
        emitted = load_text(dump_json(document_of(module.app)), f"{package}.main:app")
        # every difference gets a finding (an unknown one: unclassified-change)
        findings = classify_documents(load_spec(spec).resolved, emitted.resolved)
        if not findings:
            outcome.status = "roundtrip"
        else:
            outcome.status = "drift"
            outcome.details = sorted({f.rule.id for f in findings})
    except Exception as exc:  # a crash is an outcome to report, with its cause
        outcome.status = "crash"
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        outcome.details = [last[:200]]
    return outcome


def run_all() -> tuple[list[Outcome], Path]:
    """Run every selected document; returns outcomes and the directory of generated apps."""
    root = Path(tempfile.mkdtemp(prefix="chanspec-conformance-"))
    sys.path.insert(0, str(root))
    try:
        outcomes = [run_one(row, root, i) for i, row in enumerate(selected())]
    finally:
        sys.path.remove(str(root))
    return outcomes, root


def expected() -> dict[str, str]:
    rows = EXPECTED.read_text(encoding="utf-8").splitlines()[1:]
    return dict(line.split("\t")[:2] for line in rows if line.strip())  # type: ignore[misc]


#: Why a document still drifts (found by reading its diff; see docs/generated-code.md).
DRIFT_CAUSES: dict[str, str] = {}


def _why(outcome: Outcome) -> str:
    """The cause of a non-round-trip outcome, in words, then its codes or rule ids."""
    codes = ", ".join(outcome.details)
    if outcome.status == "rejected":
        words = "; ".join(f"{c}: {ALL_CODES.get(c, '?')}" for c in outcome.details)
        return words or codes
    cause = DRIFT_CAUSES.get(outcome.path)
    return f"{cause} ({codes})" if cause else codes


def report(outcomes: list[Outcome]) -> str:
    """The Markdown report (docs/conformance.md)."""
    statuses = ("roundtrip", "drift", "rejected", "crash")
    lines = [
        "# Conformance over real AsyncAPI documents",
        "",
        "Every document of `../shared/corpus` whose manifest says `schema:PASS` (valid against",
        "the official JSON Schema of its version) is loaded (2.x converted to 3.0), generated,",
        "imported, and its app's emitted document is diffed against the spec.",
        "Generated by `python -m tests.conformance > docs/conformance.md`;",
        "`tests/test_conformance.py` fails when a document does worse than recorded in",
        "`tests/conformance_expected.tsv`.",
        "",
        "- **roundtrip**: generated, imports, and the emitted document equals the spec;",
        "- **drift**: generated and imports, but the emitted document differs (rule ids below);",
        "- **rejected**: generation refused with located problems (error codes below);",
        "- **crash**: an exception (a bug).",
        "",
        "## By version",
        "",
        "| version | documents | " + " | ".join(statuses) + " |",
        "|---|---|" + "---|" * len(statuses),
    ]
    by_version: dict[str, Counter[str]] = {}
    for o in outcomes:
        by_version.setdefault(o.version, Counter())[o.status] += 1
    total: Counter[str] = Counter(o.status for o in outcomes)
    for version in sorted(by_version):
        c = by_version[version]
        lines.append(
            f"| {version} | {sum(c.values())} | " + " | ".join(str(c[s]) for s in statuses) + " |"
        )
    lines.append(
        f"| **all** | {len(outcomes)} | " + " | ".join(str(total[s]) for s in statuses) + " |"
    )
    lines += validation_section()
    lines += ["", "## By feature flag of the manifest", ""]
    lines += ["| flag | documents | " + " | ".join(statuses) + " |"]
    lines += ["|---|---|" + "---|" * len(statuses)]
    by_flag: dict[str, Counter[str]] = {}
    for o in outcomes:
        for flag in o.flags:
            by_flag.setdefault(flag, Counter())[o.status] += 1
    for flag in sorted(by_flag):
        c = by_flag[flag]
        lines.append(
            f"| {flag} | {sum(c.values())} | " + " | ".join(str(c[s]) for s in statuses) + " |"
        )
    lines += ["", "## Documents that do not round-trip", "", "| document | outcome | why |"]
    lines += ["|---|---|---|"]
    for o in sorted(outcomes, key=lambda o: o.path):
        if o.status != "roundtrip":
            lines.append(f"| `{o.path}` | {o.status} | {_why(o)} |")
    return "\n".join(lines) + "\n"


def validation_section() -> list[str]:
    """``chanspec validate``'s official-schema verdict against the manifest's, per version."""
    agree: dict[str, Counter[str]] = {}
    for row in manifest():
        passes = not schema_problems(load_document(CORPUS / row["local_path"]))
        official = "schema:PASS" in row["notes"]
        key = "agree" if passes == official else "disagree"
        agree.setdefault(row["asyncapi_version"], Counter())[key] += 1
        agree.setdefault("**all**", Counter())[key] += 1
    lines = [
        "",
        "## Validation against the official JSON Schemas",
        "",
        "`chanspec validate` checks every document against the official AsyncAPI JSON Schema of",
        "its own version (`S001`, see `docs/diagnostics.md`) before its own checks. Its verdict",
        "(valid / invalid) compared with the manifest's, over every document of the corpus",
        "(`tests/test_schema_check.py` requires full agreement):",
        "",
        "| version | documents | agree | disagree |",
        "|---|---|---|---|",
    ]
    for version in sorted(agree, key=lambda v: (v == "**all**", v)):
        c = agree[version]
        lines.append(f"| {version} | {sum(c.values())} | {c['agree']} | {c['disagree']} |")
    return lines


def expected_tsv(outcomes: list[Outcome]) -> str:
    rows = ["document\tstatus"] + [f"{o.path}\t{o.status}" for o in outcomes]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    results, folder = run_all()
    shutil.rmtree(folder, ignore_errors=True)
    if "--expected" in sys.argv:
        print(expected_tsv(results), end="")
    else:
        print(report(results), end="")
