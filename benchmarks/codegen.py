"""Generator benchmark: load + validate + generate, against datamodel-code-generator alone.

    python -m benchmarks.codegen            # 3 repeats
    python -m benchmarks.codegen --quick    # 1 repeat, largest corpus document only

Inputs: the largest documents of ``../shared/corpus`` that generate (by file size, when the
corpus is there) and a synthetic spec with 1,000 messages (100 channels x 10 messages, each an
envelope with a nested object, an enum, an array and constraints). For each input it times, in
this process, the stages of ``chanspec generate`` into a fresh directory:

- ``load``: parse, resolve ``$ref``s, validate against the official JSON Schema, convert 2.x;
- ``normalise``: the internal model (routing, names, schema bundle);
- ``render``: every file (datamodel-code-generator for the models, jinja2, ruff formatting);
- ``total``: the whole ``generate()`` call, writing included;

and, as the baseline, datamodel-code-generator alone on the same schemas (the bundle chanspec
hands it, with datamodel-code-generator's default options, its own formatting included). It
prints medians in seconds and the ratio ``total / baseline``. A script, not a test.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from chanspec.codegen.normalise import normalise
from chanspec.codegen.pipeline import generate as chanspec_generate
from chanspec.codegen.render import render_service
from chanspec.codegen.spec import load_spec
from datamodel_code_generator import DataModelType, InputFileType, generate

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"


def synthetic_spec(messages: int = 1000, per_channel: int = 10) -> dict[str, Any]:
    """An AsyncAPI 3.0 document with ``messages`` messages on ``messages // per_channel``
    channels; half of each channel's messages are received (with a reply), half sent."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for c in range(messages // per_channel):
        cid = f"channel{c:03d}"
        refs: dict[str, Any] = {}
        for m in range(per_channel):
            key = f"c{c:03d}m{m}"
            components[key] = {
                "payload": {
                    "type": "object",
                    "properties": {
                        "action": {"type": "string", "const": key},
                        "payload": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer", "minimum": 0},
                                "name": {"type": "string", "maxLength": 80},
                                "kind": {"type": "string", "enum": ["a", "b", "c"]},
                                "tags": {"type": "array", "items": {"type": "string"}},
                                "point": {
                                    "type": "object",
                                    "properties": {
                                        "x": {"type": "number"},
                                        "y": {"type": "number"},
                                    },
                                    "required": ["x", "y"],
                                },
                            },
                            "required": ["id", "name"],
                        },
                    },
                    "required": ["action", "payload"],
                }
            }
            refs[key] = {"$ref": f"#/components/messages/{key}"}
        channels[cid] = {"address": f"/ws/{cid}", "messages": refs}
        keys = list(refs)
        half = per_channel // 2
        for i in range(half):
            operations[f"{cid}_receive{i}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{cid}"},
                "messages": [{"$ref": f"#/channels/{cid}/messages/{keys[i]}"}],
                "reply": {
                    "channel": {"$ref": f"#/channels/{cid}"},
                    "messages": [{"$ref": f"#/channels/{cid}/messages/{keys[half + i]}"}],
                },
            }
            operations[f"{cid}_send{i}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{cid}"},
                "messages": [{"$ref": f"#/channels/{cid}/messages/{keys[half + i]}"}],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "synthetic", "version": "1.0.0"},
        "channels": channels,
        "operations": operations,
        "components": {"messages": components},
    }


def largest_corpus_documents(count: int) -> list[Path]:
    """The ``count`` largest corpus documents (by bytes) that pass the official schema."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    with manifest.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if "schema:PASS" in r["notes"]]
    paths = sorted((CORPUS / r["local_path"] for r in rows), key=lambda p: -p.stat().st_size)
    chosen = []
    for path in paths:
        doc = load_spec(path, check_schema=True)
        service, problems = normalise(doc)
        if service is not None and not any(p.severity.value == "error" for p in problems):
            chosen.append(path)
        if len(chosen) == count:
            break
    return chosen


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def measure(spec: Path, work: Path) -> dict[str, float]:
    """One repeat of every stage for ``spec``; seconds per stage."""
    out: dict[str, float] = {}
    out["load"], doc = _timed(lambda: load_spec(spec, check_schema=True))
    out["normalise"], (service, _) = _timed(lambda: normalise(doc))
    out["render"], _ = _timed(lambda: render_service(service, "app"))
    target = work / "app"
    shutil.rmtree(target, ignore_errors=True)
    out["total"], result = _timed(lambda: chanspec_generate(spec, target, package="app"))
    if result.failed:
        raise RuntimeError(f"{spec} did not generate")
    bundle = {
        "openapi": "3.0.3",
        "info": {"title": "messages", "version": "0"},
        "paths": {},
        "components": {"schemas": service.schemas},
    }
    out["dmcg alone"], _ = _timed(
        lambda: generate(
            bundle,
            input_file_type=InputFileType.OpenAPI,
            output_model_type=DataModelType.PydanticV2BaseModel,
        )
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat, fewer inputs")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    with tempfile.TemporaryDirectory(prefix="chanspec-bench-") as tmp:
        work = Path(tmp)
        synthetic = work / "synthetic-1000.asyncapi.yaml"
        synthetic.write_text(yaml.safe_dump(synthetic_spec(), sort_keys=False), encoding="utf-8")
        inputs = [*largest_corpus_documents(1 if args.quick else 3), synthetic]
        results: dict[Path, list[dict[str, float]]] = {p: [] for p in inputs}
        for _ in range(repeats):  # interleaved: every input once per repeat
            for spec in inputs:
                results[spec].append(measure(spec, work))
        stages = ["load", "normalise", "render", "total", "dmcg alone"]
        print(f"chanspec generate vs datamodel-code-generator alone (median of {repeats}, s)\n")
        print("| input | KiB | " + " | ".join(stages) + " | total / dmcg alone |")
        print("|---|---:|" + "---:|" * len(stages) + "---:|")
        for spec, runs in results.items():
            med = {s: statistics.median(r[s] for r in runs) for s in stages}
            name = spec.name if spec == synthetic else str(spec.relative_to(CORPUS))
            kib = spec.stat().st_size / 1024
            cells = " | ".join(f"{med[s]:.2f}" for s in stages)
            print(f"| {name} | {kib:.0f} | {cells} | {med['total'] / med['dmcg alone']:.2f}x |")


if __name__ == "__main__":
    main()
