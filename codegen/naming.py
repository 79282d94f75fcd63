"""Naming rules: how spec names become Python identifiers (documented in docs/generated-code.md).

- module names: ``snake_case`` of the channel id;
- consumer classes: ``PascalCase(channel id) + "Consumer"``; contract bases: ``... + "Channel"``;
- message models: ``PascalCase(message key) + "Message"``; events: ``... + "Event"``;
- handler methods: ``snake_case`` of the operation id, without a leading ``<channel id>_``, never
  a name the consumer base class already uses (then prefixed ``on_``).
"""

from __future__ import annotations

import keyword
import re
import unicodedata

__all__ = ["RESERVED_METHODS", "pascal_case", "py_identifier", "snake_case", "unique"]

# Attributes of chanspec's Consumer and fast-channels' consumers that a handler must not shadow.
RESERVED_METHODS = frozenset(
    {
        "accept", "address", "as_asgi", "asyncapi", "auth", "auth_refusal", "authenticate",
        "base_send", "camelize",
        "broadcast_event", "broadcast_event_sync", "broadcast_message", "chanspec_broadcast",
        "chanspec_event", "channel_id",
        "channel_layer", "channel_layer_alias", "channel_name", "channel_receive", "close",
        "connect", "decode_json", "disconnect", "discriminator_field", "dispatch",
        "encode_json", "event_handlers", "fanout_event", "group_templates", "groups",
        "groups_templates", "join_group", "layer",
        "leave_group", "max_frame_bytes", "messages", "path_params", "post_authentication",
        "receive", "receive_json", "scope", "security", "send", "send_completion", "send_event",
        "send_event_sync", "send_json", "send_message", "send_operations", "user", "ws_handlers",
    }
)  # fmt: skip


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    return [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]


def snake_case(text: str) -> str:
    """``"sendChat.v2"`` -> ``"send_chat_v2"``; a valid, non-keyword identifier (never empty)."""
    return py_identifier("_".join(w.lower() for w in _words(text)) or "x")


def pascal_case(text: str) -> str:
    """``"room_chat"`` -> ``"RoomChat"``; a valid identifier (never empty)."""
    return py_identifier("".join(w[:1].upper() + w[1:] for w in _words(text)) or "X")


def py_identifier(name: str) -> str:
    """Make ``name`` a valid identifier: a leading digit gets ``_``, keywords get a ``_`` suffix."""
    if name[:1].isdigit():
        name = "_" + name
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        name += "_"
    return name


def unique(name: str, taken: set[str], sep: str = "_") -> str:
    """``name``, or ``name_2``, ``name_3`` ... whichever is free in ``taken``; adds it there.

    Class names use ``sep=""`` (``PingMessage2``): datamodel-code-generator would rename a model
    called ``PingMessage_2``, and the generated contract would import a name that does not exist.
    """
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}{sep}{n}", n + 1
    taken.add(candidate)
    return candidate
