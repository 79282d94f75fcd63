"""chanx compatibility: reading documents chanx emits, and preparing ours for chanx's client.

chanx (2.13, the code-first peer) writes AsyncAPI 3.0 from its consumers. Its documents are
valid AsyncAPI and chanspec reads them with the ordinary rules, except for one convention where
chanx means something other than the specification says:

- an ``@event_handler`` that returns nothing is documented as a ``send`` operation without
  ``messages``. AsyncAPI 3.0 reads an omitted ``messages`` as *every* message of the channel;
  chanx (and its own client generator) mean *none*. In a chanx-shaped document chanspec follows
  chanx (:func:`sends_nothing`).

The other chanx conventions need no special case: an ``action`` const that is not ``required``
is made required in the model so it routes (``normalise.require_discriminator``, for any
document), operations keyed by method name and snake_case message keys are ordinary ids, PyYAML
anchors are resolved by the loader, and a ``reply`` that chanx uses for a group broadcast is a
reply to the sender (a document cannot tell the two apart; see ``docs/chanx-interop.md``).

In the other direction, chanx's ``generate-client`` needs things AsyncAPI leaves optional: every
channel's ``title`` (it is the client's module name) and a ``title`` on every payload schema
that should become a class. :func:`for_chanx_client` adds them to a copy of a document; from a
shell::

    chanspec emit app.main:app --format json > asyncapi.json
    python -m chanspec.codegen.chanx_compat asyncapi.json > for-chanx.json
    chanx generate-client --schema for-chanx.json --output my_client

Source: chanx 2.13.0 ``chanx/asyncapi/generator.py`` (what it emits) and
``chanx/client_generator/`` (what its client generator reads).
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Mapping, Sequence
from keyword import iskeyword
from typing import Any

from .naming import pascal_case, snake_case, unique

__all__ = ["for_chanx_client", "is_chanx_document", "main", "sends_nothing"]

_MESSAGE_REF = "#/components/messages/"


def is_chanx_document(raw: Any) -> bool:
    """Whether ``raw`` (the document as parsed, ``$ref``s not resolved) looks emitted by chanx.

    chanx's generator gives every channel a ``title`` equal to its key (with ``camelize=True``
    the key is the camelCase title) and lists each channel message as
    ``{"$ref": "#/components/messages/<the same key>"}``. A document with at least one channel
    where all of that holds is taken as chanx's.

    Args:
        raw: the root mapping of the document before reference resolution.

    Returns:
        ``True`` for a chanx-shaped document; ``False`` otherwise (never raises).
    """
    channels = raw.get("channels") if isinstance(raw, Mapping) else None
    if not isinstance(channels, Mapping) or not channels:
        return False
    for key, channel in channels.items():
        title = channel.get("title") if isinstance(channel, Mapping) else None
        if not isinstance(title, str) or key not in (title, _camelize(title)):
            return False
        messages = channel.get("messages")
        if not isinstance(messages, Mapping) or not messages:
            return False
        for msg_key, message in messages.items():
            if not isinstance(message, Mapping) or message.get("$ref") != _MESSAGE_REF + str(
                msg_key
            ).replace("~", "~0").replace("/", "~1"):
                return False
    return True


def _camelize(snake: str) -> str:
    """``room_chat`` -> ``roomChat``: chanx's ``camelize=True`` renames channel keys, not titles."""
    first, *rest = snake.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


def sends_nothing(operation: Mapping[str, Any]) -> bool:
    """Whether a chanx ``send`` operation documents an event handler that sends no message.

    chanx writes ``messages`` only when the handler has an output type, so a ``send`` operation
    without the key means "no message" there (AsyncAPI 3.0 alone would read "all messages").
    Only meaningful for documents :func:`is_chanx_document` accepts.
    """
    return operation.get("action") == "send" and "messages" not in operation


def for_chanx_client(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` that ``chanx generate-client`` (2.13) can turn into a client.

    chanx's client generator validates channels with a required ``title`` and uses it as the
    client's package and class name (``room_chat`` -> ``room_chat.RoomChatClient``), and it
    makes a pydantic class only of a schema that has a ``title`` (nested objects without one
    become ``dict[str, Any]``; a payload without one leaves the client's message unions empty,
    a syntax error in the generated module). This sets:

    - ``channels.<id>.title``: kept when it is an identifier not used by another channel,
      else the snake_case title or channel id (made unique);
    - a payload schema's ``title``: kept when it is a free identifier in its channel, else the
      PascalCase of the title or of the message key (``user_message`` -> ``UserMessage``);
    - the same for nested object schemas with ``properties`` and for component schemas, named
      ``<Parent><Property>`` (``UserMessagePayload``), array items ``<Parent><Property>Item``.

    chanx pastes descriptions and ``info.title`` into docstrings and string literals without
    escaping; here their backslashes and double quotes are escaped so that any text gives
    valid Python. Values (enum, const, default, address) cannot be changed without changing
    the wire contract: one containing ``"`` or ``\\`` still breaks chanx's generated code.

    Args:
        document: an AsyncAPI 3.0 document as JSON-compatible data, e.g. from
            ``chanspec emit app.main:app --format json``.

    Returns:
        The adapted deep copy (``document`` is not modified).
    """
    doc: dict[str, Any] = copy.deepcopy(dict(document))
    info = doc.get("info")
    if isinstance(info, dict):
        _escape_text(info, ("title", "description"))
    components = doc.get("components")
    component_schemas = components.get("schemas") if isinstance(components, dict) else None
    shared: set[str] = set()
    if isinstance(component_schemas, dict):
        for name, schema in component_schemas.items():
            if isinstance(schema, dict):
                _title(schema, pascal_case(str(name)), shared, root=True)
    channels = doc.get("channels")
    if not isinstance(channels, dict):
        return doc
    channel_titles: set[str] = set()
    for channel_id, channel in channels.items():
        if not isinstance(channel, dict):
            continue
        title = channel.get("title")
        if not _free_identifier(title, channel_titles):
            base = title if isinstance(title, str) and title.strip() else str(channel_id)
            title = unique(snake_case(base), channel_titles)
            channel["title"] = title
        channel_titles.add(str(title))
        _escape_text(channel, ("description",))
        messages = channel.get("messages")
        if not isinstance(messages, dict):
            continue
        names = set(shared)
        for key, message in messages.items():
            payload = message.get("payload") if isinstance(message, dict) else None
            if isinstance(payload, dict) and "$ref" not in payload:
                _title(payload, pascal_case(str(key)), names, root=True)
    return doc


def _escape_text(obj: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Escape ``\\`` and ``"`` of text chanx pastes into Python source (docstrings, literals)."""
    for key in keys:
        value = obj.get(key)
        if isinstance(value, str):
            obj[key] = value.replace("\\", "\\\\").replace('"', '\\"')


def _title(schema: dict[str, Any], name: str, taken: set[str], *, root: bool = False) -> None:
    """Title ``schema`` (a payload when ``root``) and its nested object schemas for chanx.

    chanx makes a class of a payload and of every schema with ``properties``, named by its
    ``title`` and keyed by it within a module: such a title must be a free identifier.
    """
    _escape_text(schema, ("description",))
    props = schema.get("properties")
    if root or (isinstance(props, dict) and props):
        title = schema.get("title")
        if _free_identifier(title, taken):
            name = str(title)
            taken.add(name)
        else:
            base = title if isinstance(title, str) and title.strip() else name
            name = unique(pascal_case(base), taken, sep="")
            schema["title"] = name
    if isinstance(props, dict):
        for prop, sub in props.items():
            if isinstance(sub, dict):
                _title(sub, name + pascal_case(str(prop)), taken)
    items = schema.get("items")
    if isinstance(items, dict):
        _title(items, name + "Item", taken)
    for keyword in ("anyOf", "oneOf", "allOf"):
        branches = schema.get(keyword)
        if isinstance(branches, list):
            for i, sub in enumerate(branches, start=1):
                if isinstance(sub, dict):
                    _title(sub, f"{name}{i}" if len(branches) > 1 else name, taken)


def _free_identifier(title: Any, taken: set[str]) -> bool:
    return (
        isinstance(title, str)
        and title.isidentifier()
        and not iskeyword(title)
        and title not in taken
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m chanspec.codegen.chanx_compat [FILE]``: :func:`for_chanx_client` as a filter.

    Reads the JSON document in ``FILE`` (default: standard input) and prints the adapted
    document as JSON. Returns the exit code: 0, or 2 (message on stderr) when the input cannot
    be read or is not a JSON object.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args:
            with open(args[0], encoding="utf-8") as f:
                document = json.load(f)
        else:
            document = json.load(sys.stdin)
    except (OSError, ValueError) as exc:
        print(f"chanx_compat: cannot read a JSON document: {exc}", file=sys.stderr)
        return 2
    if not isinstance(document, dict):
        print("chanx_compat: the document is not a JSON object", file=sys.stderr)
        return 2
    json.dump(for_chanx_client(document), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
