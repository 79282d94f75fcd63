"""Validation against the official AsyncAPI JSON Schema of the document's own version.

The AsyncAPI Initiative publishes one JSON Schema (draft-07) per specification version; the
ones for 2.0.0 to 3.1.0 ship in ``asyncapi_schemas/`` (Apache-2.0, see its ``LICENSE`` and
``NOTICE``; ``SHA256SUMS`` pins the files). A document is validated *as written in its own
version* (a 2.x document against the 2.x schema, before conversion), with its ``$ref``s
resolved, the way the official tooling bundles a document before validating it. Each
violation becomes one ``S001`` problem located by JSON pointer and ``file:line:col`` (inside a
referenced file when the offending node came from one), with the most specific cause the
schema's ``oneOf``/``anyOf`` branches give, so a person can act on it.

Validation is offline (every ``$ref`` of the bundled schemas resolves inside the bundle or to the
draft-07 meta-schema the libraries ship): ``jsonschema-rs`` gives the verdict, and only for an
invalid document does ``jsonschema`` (whose errors keep the branches of ``oneOf``/``anyOf``)
find what to tell the user.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import jsonschema_rs
from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped]

from .load import LoadedDocument
from .problems import Position, Problem, Severity
from .source import unescape_token

__all__ = ["MAX_REPORTED", "SCHEMA_CODES", "SCHEMA_VERSIONS", "schema_problems"]

#: Problem codes of this stage -> short title (docs/diagnostics.md).
SCHEMA_CODES: dict[str, str] = {
    "S001": "the document does not match the official AsyncAPI JSON Schema of its version",
    "S002": "more schema violations than are listed",
}

#: The ``major.minor`` versions whose official schema ships with chanspec -> schema file.
SCHEMA_VERSIONS: dict[str, str] = {
    **{f"2.{minor}": f"2.{minor}.0.json" for minor in range(7)},
    "3.0": "3.0.0.json",
    "3.1": "3.1.0.json",
}

#: At most this many ``S001`` problems are listed per document (then one ``S002``).
MAX_REPORTED = 50


@cache
def _schema(schema_file: str) -> Any:
    path = resources.files(__package__).joinpath("asyncapi_schemas", schema_file)
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _validator(schema_file: str) -> Any:
    """The explaining validator (``jsonschema``): its errors carry the ``oneOf``/``anyOf``
    branch errors the messages are built from. Built once per process."""
    return jsonschema.Draft7Validator(_schema(schema_file), format_checker=None)


@cache
def _verdict(schema_file: str) -> Any:
    """The fast validator (``jsonschema-rs``, compiled): answers valid/invalid about a hundred
    times faster, so a valid document (the usual case) never pays for the explanation."""
    return jsonschema_rs.Draft7Validator(_schema(schema_file), validate_formats=False)


def _as_written(raw: Any, resolved: Any, inlined: set[int]) -> Any:
    """The document the way the official tooling validates it.

    Walks the document as written (``raw``) and its resolved twin in parallel: a ``$ref`` to
    a place in the same document stays a Reference Object (the schema demands Reference
    Objects in slots such as an operation's ``channel`` and ``messages``; the target is
    validated where it is written), while a ``$ref`` into another file is replaced by its
    resolved target, which is how a multi-file document is bundled before validation. A
    target inlined once is referenced, not inlined again, by later ``$ref``s to it (a bundler
    moves it into the document once and points at it). Circular structures met below an
    inlined target are cut with ``{}`` (a valid Schema Object), so validation terminates
    without inventing or hiding errors.
    """
    if isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
        if raw["$ref"].startswith("#") or resolved is raw or id(resolved) in inlined:
            return raw
        inlined.add(id(resolved))
        return _acyclic(resolved, set())
    if isinstance(raw, dict) and isinstance(resolved, dict):
        return {k: _as_written(v, resolved.get(k), inlined) for k, v in raw.items()}
    if isinstance(raw, list) and isinstance(resolved, list) and len(raw) == len(resolved):
        return [_as_written(a, b, inlined) for a, b in zip(raw, resolved, strict=True)]
    return raw


def _acyclic(value: Any, ancestors: set[int]) -> Any:
    """Copy ``value`` with every circular back-edge replaced by ``{}``."""
    if not isinstance(value, dict | list):
        return value
    key = id(value)
    if key in ancestors:
        return {}
    ancestors.add(key)
    copy: Any
    if isinstance(value, dict):
        copy = {k: _acyclic(v, ancestors) for k, v in value.items()}
    else:
        copy = [_acyclic(v, ancestors) for v in value]
    ancestors.discard(key)
    return copy


def _pointer(path: Iterator[Any] | Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _specific(error: ValidationError) -> ValidationError:
    """Descend into ``oneOf``/``anyOf`` contexts to the most relevant, deepest cause.

    ``jsonschema``'s :func:`best_match` ranks the branch errors; a branch that failed only
    because the value is not a Reference Object (``required: [$ref]``) is the least useful
    explanation, so other branches win when there are any.
    """
    while error.context:
        candidates = [e for e in error.context if not _is_reference_miss(e)] or error.context
        chosen = best_match(candidates)
        if (
            chosen is None
            or list(chosen.absolute_path) == list(error.absolute_path)
            and (chosen.validator in ("oneOf", "anyOf") and not chosen.context)
        ):
            break
        error = chosen
    return error


def _is_reference_miss(error: ValidationError) -> bool:
    return error.validator == "required" and "'$ref'" in error.message


def _describe(error: ValidationError) -> str:
    """The violation in one line, without dumping a whole object into the message."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        patterns = error.schema.get("patternProperties", {})
        extra = sorted(
            k
            for k in error.instance
            if k not in allowed and not any(re.search(p, k) for p in patterns)
        )
        return f"property {', '.join(repr(k) for k in extra)} is not allowed here"
    if error.validator == "required":
        return str(error.message)
    if error.validator in ("type", "enum", "const", "format", "pattern"):
        text = repr(error.instance)
        shown = text if len(text) <= 60 else text[:57] + "..."
        expected = error.validator_value
        if error.validator == "type":
            return f"{shown} is not of type {expected!r}"
        if error.validator == "enum":
            return f"{shown} is not one of {expected!r}"
        if error.validator == "pattern":
            return f"{shown} does not match the pattern {expected!r}"
        return f"{shown} is not valid ({error.validator} {expected!r})"
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches: dict[object, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        reasons = []
        for subs in branches.values():
            if all(_is_reference_miss(e) for e in subs):
                continue
            best = best_match(subs)
            where = _pointer(list(best.absolute_path)[len(error.absolute_path) :])
            reasons.append(f"{_describe(best)}{f' (at {where})' if where else ''}")
        if len(reasons) == 1:
            return reasons[0]
        if reasons:
            return "matches none of the allowed forms: " + "; ".join(reasons[:3])
        return "a Reference Object ({'$ref': ...}) is expected here"
    if error.validator == "oneOf" and not error.context:
        return (
            "the value matches more than one of the allowed forms, and the specification's "
            "schema requires exactly one (oneOf)"
        )
    message = str(error.message)
    return message if len(message) <= 160 else message[:157] + "..."


def schema_problems(doc: LoadedDocument) -> list[Problem]:
    """Validate ``doc`` (as loaded, before any 2.x conversion) against its version's schema.

    Args:
        doc: a loaded document; its ``version`` picks the schema by ``major.minor`` (2.0 to
            2.6, 3.0, 3.1; pre-release suffixes ignored). Call it before conversion: a 2.x
            document is validated against the 2.x schema.

    Returns:
        ``S001`` errors (at most :data:`MAX_REPORTED`, then one ``S002`` saying how many more
        there were), each with the JSON pointer of the offending node and its
        ``file:line:col``. An empty list when the document is valid, or when it has no
        parsed content or no supported version (the loader reports those itself).
    """
    version = str(doc.version)
    schema_file = SCHEMA_VERSIONS.get(".".join(version.split(".")[:2]))
    if not doc.resolved or schema_file is None:
        return []
    instance = _as_written(doc.raw, doc.resolved, set())
    if _verdict(schema_file).is_valid(instance):
        return []
    errors = sorted(
        _validator(schema_file).iter_errors(instance), key=lambda e: list(map(str, e.path))
    )
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for top in errors:
        error = _specific(top)
        pointer = _pointer(error.absolute_path)
        text = _describe(error)
        if (pointer, text) in seen:
            continue
        seen.add((pointer, text))
        problems.append(
            Problem(
                "S001",
                f"not valid AsyncAPI {version}: {text}",
                Severity.ERROR,
                pointer=pointer,
                position=_locate(doc, pointer),
                hint=_hint(error, version),
            )
        )
    if not problems:  # the two validators disagree: report what the verdict found
        for rs_error in _verdict(schema_file).iter_errors(instance):
            pointer = _pointer(rs_error.instance_path)
            problems.append(
                Problem(
                    "S001",
                    f"not valid AsyncAPI {version}: {rs_error.message[:160]}",
                    Severity.ERROR,
                    pointer=pointer,
                    position=_locate(doc, pointer),
                )
            )
    if len(problems) > MAX_REPORTED:
        more = len(problems) - MAX_REPORTED
        problems = problems[:MAX_REPORTED]
        problems.append(
            Problem("S002", f"{more} more schema violation(s) not listed", Severity.ERROR)
        )
    return problems


def _hint(error: ValidationError, version: str) -> str | None:
    name = _object_name(error)
    if name is None:
        return None
    return f"see the {name} Object in the AsyncAPI {version} specification"


def _object_name(error: ValidationError) -> str | None:
    """The specification object the failing (sub)schema describes, e.g. ``Server``.

    Taken from the ``$id`` of the nearest enclosing definition of the official schema
    (``.../3.0.0/server.json`` -> ``Server``); None when there is none.
    """
    current: ValidationError | None = error
    while current is not None:
        schema = current.schema if isinstance(current.schema, dict) else {}
        ident = schema.get("$id")
        if isinstance(ident, str):
            if "json-schema.org" in ident:
                return "Schema"
            name = ident.rstrip("#").rsplit("/", 1)[-1].removesuffix(".json").removesuffix("Object")
            if name == "asyncapi":
                return "AsyncAPI"
            if name.isidentifier():
                return name[0].upper() + name[1:]
        current = current.parent
    return None


def _locate(doc: LoadedDocument, pointer: str) -> Position | None:
    """``file:line:col`` of the node at ``pointer`` of the validated view.

    Follows the document as written; at a ``$ref`` into another file it continues in the
    resolved target, whose positions are those of the referenced file, so a violation
    inside a referenced file is reported there.
    """
    raw: Any = doc.raw
    resolved: Any = doc.resolved
    best = doc.source.position_of(raw)
    for token in [unescape_token(t) for t in pointer.split("/")[1:]] if pointer else []:
        if isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
            raw = resolved  # an inlined external target: continue in its own file
        key: object
        if isinstance(raw, dict) and token in raw:
            key = token
        elif isinstance(raw, list) and token.isdigit() and int(token) < len(raw):
            key = int(token)
        else:
            break
        best = doc.source.position_of(raw, key) or best
        raw = raw[key]
        resolved = _child(resolved, key)
    return best


def _child(node: Any, key: object) -> Any:
    if isinstance(node, dict):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        return node[key]
    return None
