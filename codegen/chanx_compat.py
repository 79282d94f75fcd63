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
that should become a class. :func:`for_chanx_client` adds them to a copy of a document.

Source: chanx 2.13.0 ``chanx/asyncapi/generator.py`` (what it emits) and
``chanx/client_generator/`` (what its client generator reads).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from keyword import iskeyword
from typing import Any

from .naming import pascal_case, snake_case, unique

__all__ = ["for_chanx_client", "is_chanx_document", "sends_nothing"]

_MESSAGE_REF = "#/components/messages/"


def is_chanx_document(raw: Any) -> bool:
    """Whether ``raw`` (the document as parsed, ``$ref``s not resolved) looks emitted by chanx.

    chanx's generator gives every channel a ``title`` equal to its key and lists each channel
    message as ``{"$ref": "#/components/messages/<the same key>"}``. A document with at least
    one channel where all of that holds is taken as chanx's.

    Args:
        raw: the root mapping of the document before reference resolution.

    Returns:
        ``True`` for a chanx-shaped document; ``False`` otherwise (never raises).
    """
    channels = raw.get("channels") if isinstance(raw, Mapping) else None
    if not isinstance(channels, Mapping) or not channels:
        return False
    for key, channel in channels.items():
        if not isinstance(channel, Mapping) or channel.get("title") != key:
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
    client's module and class name (``room_chat`` -> ``room_chat.RoomChatClient``), and it
    makes a pydantic class only of a schema that has a ``title`` (nested objects without one
    become ``dict[str, Any]``; a payload without one makes the client's message unions empty,
    which is a syntax error in the generated module). This adds, where missing:

    - ``channels.<id>.title``: the snake_case channel id;
    - a payload schema's ``title``: the PascalCase message key (``user_message`` ->
      ``UserMessage``), unique within the channel;
    - nested object schemas with ``properties`` (and component schemas): ``<Parent><Property>``
      (``UserMessagePayload``), array items ``<Parent><Property>Item``, unique within the channel.

    Titles already present are kept. Nothing else changes, so the wire contract is the same.

    Args:
        document: an AsyncAPI 3.0 document as JSON-compatible data, e.g. from
            ``chanspec emit app.main:app --format json``.

    Returns:
        The adapted deep copy.
    """
    doc: dict[str, Any] = copy.deepcopy(dict(document))
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
    for channel_id, channel in channels.items():
        if not isinstance(channel, dict):
            continue
        channel.setdefault("title", snake_case(str(channel_id)))
        messages = channel.get("messages")
        if not isinstance(messages, dict):
            continue
        names = set(shared)
        for key, message in messages.items():
            payload = message.get("payload") if isinstance(message, dict) else None
            if isinstance(payload, dict) and "$ref" not in payload:
                _title(payload, pascal_case(str(key)), names, root=True)
    return doc


def _title(schema: dict[str, Any], name: str, taken: set[str], *, root: bool = False) -> None:
    """Title ``schema`` (a payload when ``root``) and its nested object schemas for chanx.

    chanx makes a class of a payload and of every schema with ``properties``, named by its
    ``title`` and keyed by it within a module: such a title must be a free identifier.
    """
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
