"""Merge AsyncAPI operation and message traits into their objects, in place.

Traits are reusable fragments (``components.operationTraits`` / ``messageTraits``)
listed under ``traits`` of an Operation Object or a Message Object.  Both AsyncAPI
generations merge them with JSON Merge Patch (RFC 7386), in list order, but with
opposite precedence:

- **AsyncAPI 2.x** (2.0.0-2.6.0, "Operation Object" / "Message Object", field
  ``traits``): "Traits MUST be merged into the operation object using the JSON Merge
  Patch algorithm in the same order they are defined here."  Each trait is the
  *patch* applied to the object: **the trait's values win**, and a ``null`` in a trait
  removes the member.
- **AsyncAPI 3.0** (section "Traits Merge Mechanism"): "Traits MUST be merged with the
  target object using the JSON Merge Patch algorithm in the same order they are
  defined.  A property on a trait MUST NOT override the same property on the target
  object."  The traits are merged together in order (a later trait overrides an
  earlier one), and the object is then merged on top of them: **the object's own
  values win**, members it lacks are filled in from the traits, nested objects are
  merged member by member.  This is what the reference implementation
  (``@asyncapi/parser``, ``applyTraitsV3``) does.  3.1 is treated like 3.0.

Where the traits are looked for (the paths of ``@asyncapi/parser``, plus replies):

- 2.x operations: ``channels.*.publish|subscribe`` and ``components.channels.*.…``;
  2.x messages: the operations' ``message`` (or each member of ``message.oneOf``) and
  ``components.messages.*`` (or their ``oneOf`` members).
- 3.x operations: ``operations.*``, ``components.operations.*``; 3.x messages: the
  messages of every channel (``channels.*``, ``components.channels.*``, an operation's
  or reply's channel), of every operation and reply (``messages``) and
  ``components.messages.*`` and ``components.replies.*.messages``.

Shapes and conventions: ``resolved`` is a loader tree (:mod:`.load`): every resolved
``$ref`` is the target object itself (one object reached from several places, cycles
kept).  Each object is merged once (tracked by ``id``), however often it is reached.
A trait is a mapping, or (3.0's ``[trait, extra]`` form) a list whose first item is
one; anything else, and unresolved ``{"$ref": ...}`` dicts, are skipped (the loader has
already reported them).  The trait's own ``traits`` member is never merged.  The
object keeps its ``traits`` list (emitters drop it, the diff ignores it).

Merging never mutates a trait or a nested object of the target: a nested object that
changes is replaced by a new dict (copy on write), so objects shared with other
places (a component schema used as ``headers`` elsewhere) are left alone.  A value
taken from a trait without change (no ``null`` inside) is the trait's object itself,
so identity sharing and cycles survive.  Nothing here raises for document content.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

from .source import SourceMap

__all__ = ["apply_traits", "merge_patch"]


def apply_traits(
    resolved: dict[str, Any], version: str, *, source: SourceMap | None = None
) -> None:
    """Merge the ``traits`` of every operation and message of ``resolved`` in place.

    Args:
        resolved: a resolved AsyncAPI tree (``LoadedDocument.resolved`` or a converted
            3.0 tree); modified in place.
        version: the document's ``asyncapi`` version: ``"2.…"`` selects the 2.x paths
            and precedence (the trait wins), anything else the 3.0 ones (the object
            wins).
        source: optional source map; when given, the new dicts made by merging and the
            members taken from a trait get the positions of what they came from, so
            located messages still point into the document.

    Returns:
        None.  Never raises for document content (non-mapping members are skipped).
    """
    v2 = version.startswith("2.")
    merger = _Merger(source)
    done: set[int] = set()
    for obj in _targets_v2(resolved) if v2 else _targets_v3(resolved):
        if id(obj) in done:
            continue
        done.add(id(obj))
        listed = obj.get("traits")
        if not isinstance(listed, list):
            continue
        traits = [t for t in (_trait(item) for item in listed) if t is not None]
        if not traits:
            continue
        if v2:
            for trait in traits:
                merger.apply_over(obj, trait)
        else:
            merger.apply_under(obj, traits)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 ``MergePatch(target, patch)``, without mutating either argument.

    A non-object ``patch`` is the result; an object ``patch`` is applied member by
    member (``null`` removes, objects merge recursively, anything else replaces) to a
    copy of ``target`` (``{}`` when ``target`` is not an object).  Objects of ``patch``
    that need no change are returned as themselves (identity kept); cycles in either
    argument terminate (each pair of objects is merged once).
    """
    return _Merger(None).merge(target, patch)


# -- merging ---------------------------------------------------------------------------------


class _Merger:
    """RFC 7386 merge with copy-on-write, identity keeping, cycle safety, positions."""

    def __init__(self, source: SourceMap | None) -> None:
        self.source = source
        # memo values keep their keys' objects alive, so an id is never reused meanwhile
        self.merged: dict[tuple[int, int], tuple[Any, Any, dict[str, Any]]] = {}
        self.cleaned: dict[int, tuple[Any, dict[str, Any]]] = {}

    def apply_over(self, obj: dict[str, Any], trait: dict[str, Any]) -> None:
        """2.x: ``obj = MergePatch(obj, trait)`` keeping ``obj``'s identity."""
        for key, value in trait.items():
            if key == "traits":
                continue
            if value is None:
                obj.pop(key, None)
                continue
            obj[key] = self.merge(obj.get(key), value)
            self.locate_key(obj, key, trait)

    def apply_under(self, obj: dict[str, Any], traits: list[dict[str, Any]]) -> None:
        """3.0: ``obj = MergePatch(MergePatch(…MergePatch({}, t1)…, tn), obj)`` in place."""
        defaults: dict[str, Any] = {}
        origin: dict[str, dict[str, Any]] = {}
        for trait in traits:
            for key, value in trait.items():
                if key == "traits":
                    continue
                if value is None:
                    defaults.pop(key, None)
                    continue
                defaults[key] = self.merge(defaults.get(key), value)
                origin[key] = trait
        for key, value in defaults.items():
            if key not in obj:
                obj[key] = value
                self.locate_key(obj, key, origin[key])
            elif obj[key] is None:  # the object is the patch: its null removes the member
                del obj[key]
            elif isinstance(obj[key], dict) and isinstance(value, dict):
                obj[key] = self.merge(value, obj[key], positions_from=obj[key])

    def merge(self, target: Any, patch: Any, positions_from: Any = None) -> Any:
        if not isinstance(patch, dict):
            return patch
        if not isinstance(target, dict):
            return self.clean(patch)
        pair = (id(target), id(patch))
        known = self.merged.get(pair)
        if known is not None:
            return known[2]
        out = dict(target)
        self.merged[pair] = (target, patch, out)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = self.merge(target.get(key), value)
        self.locate(out, target, patch, positions_from)
        return out

    def clean(self, value: dict[str, Any]) -> dict[str, Any]:
        """``MergePatch({}, value)``: ``value`` without null members (itself if none)."""
        if not _has_null(value):
            return value
        known = self.cleaned.get(id(value))
        if known is not None:
            return known[1]
        out: dict[str, Any] = {}
        self.cleaned[id(value)] = (value, out)
        for key, member in value.items():
            if member is not None:
                out[key] = self.clean(member) if isinstance(member, dict) else member
        self.locate(out, value, value, None)
        return out

    # -- positions ---------------------------------------------------------------------------

    def locate(
        self, out: dict[str, Any], target: dict[str, Any], patch: dict[str, Any], first: Any
    ) -> None:
        """Give ``out`` the positions of ``first`` (or ``target``) and of its members."""
        if self.source is None:
            return
        base = first if isinstance(first, dict) else target
        pos = self.source.position_of(base)
        if pos is not None:
            self.source.record_node(out, pos)
        for key in out:
            src = patch if key in patch else target
            member = self.source.position_of(src, key)
            if member is not None:
                self.source.record_key(out, key, member)

    def locate_key(self, obj: dict[str, Any], key: str, trait: dict[str, Any]) -> None:
        if self.source is None:
            return
        pos = self.source.position_of(trait, key)
        if pos is not None:
            self.source.record_key(obj, key, pos)


def _has_null(value: dict[str, Any]) -> bool:
    """True if a member of ``value`` or of its nested objects (not lists) is null."""
    stack, seen = [value], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for member in node.values():
            if member is None:
                return True
            if isinstance(member, dict):
                stack.append(member)
    return False


# -- where traits are ------------------------------------------------------------------------


def _is_object(value: object) -> TypeGuard[dict[str, Any]]:
    """A mapping that is not an unresolved ``{"$ref": ...}``."""
    return isinstance(value, dict) and not isinstance(value.get("$ref"), str)


def _objects(mapping: Any) -> Iterator[dict[str, Any]]:
    if isinstance(mapping, dict):
        for value in mapping.values():
            if _is_object(value):
                yield value


def _items(seq: Any) -> Iterator[dict[str, Any]]:
    if isinstance(seq, list):
        for value in seq:
            if _is_object(value):
                yield value


def _trait(item: Any) -> dict[str, Any] | None:
    if isinstance(item, list) and item:
        item = item[0]
    return item if _is_object(item) else None


def _v2_messages(message: Any) -> Iterator[dict[str, Any]]:
    """A 2.x ``message`` value: the message itself, or the members of its ``oneOf``."""
    if not _is_object(message):
        return
    one_of = message.get("oneOf")
    if isinstance(one_of, list):
        yield from _items(one_of)
    else:
        yield message


def _targets_v2(root: dict[str, Any]) -> Iterator[dict[str, Any]]:
    components = root.get("components")
    components = components if isinstance(components, dict) else {}
    for channels in (root.get("channels"), components.get("channels")):
        for item in _objects(channels):
            for kind in ("publish", "subscribe"):
                op = item.get(kind)
                if _is_object(op):
                    yield op
                    yield from _v2_messages(op.get("message"))
    for message in _objects(components.get("messages")):
        yield from _v2_messages(message)


def _targets_v3(root: dict[str, Any]) -> Iterator[dict[str, Any]]:
    components = root.get("components")
    components = components if isinstance(components, dict) else {}
    for operations in (root.get("operations"), components.get("operations")):
        for op in _objects(operations):
            yield op
            yield from _items(op.get("messages"))
            channel = op.get("channel")
            if _is_object(channel):
                yield from _objects(channel.get("messages"))
            reply = op.get("reply")
            if _is_object(reply):
                yield from _reply_messages(reply)
    for channels in (root.get("channels"), components.get("channels")):
        for channel in _objects(channels):
            yield from _objects(channel.get("messages"))
    yield from _objects(components.get("messages"))
    for reply in _objects(components.get("replies")):
        yield from _reply_messages(reply)


def _reply_messages(reply: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from _items(reply.get("messages"))
    channel = reply.get("channel")
    if _is_object(channel):
        yield from _objects(channel.get("messages"))
