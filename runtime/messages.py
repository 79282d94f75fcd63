"""The base class of every generated message model.

Generated payload models and envelopes derive from :class:`Message`. It adds three things to
``pydantic.BaseModel``: population by field name as well as by alias (names that are Python
keywords or not identifiers become aliases); properties the schema does not name are kept
(JSON Schema's default, ``additionalProperties: true``; a schema with
``additionalProperties: false`` generates ``extra="forbid"``), so nothing a client sent is
silently dropped on the way through; and serialisation, always by alias, that leaves out
optional fields whose value is ``None`` (an absent optional property is not the same as
``null`` in JSON Schema). A required field that is ``None`` is written as ``null``.

The omission is pydantic's own ``exclude_if`` on each optional field (set once per class),
not a Python serializer wrapped around every dump: it costs about a quarter as much per
message, which matters on the echo path (docs/performance.md).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["Message"]


def _is_none(value: Any) -> bool:
    return value is None


class Message(BaseModel):
    """Base of generated messages: by-alias, populate-by-name, extra properties kept, optional
    fields that are ``None`` omitted.

    ``model_dump_json()`` of a message gives exactly the JSON text a client receives. A client's
    explicit ``null`` for an optional property is not told apart from its absence on the way
    out (both are omitted).
    """

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True, extra="allow")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Mark every optional field whose default is ``None`` to be left out while ``None``."""
        super().__pydantic_init_subclass__(**kwargs)
        changed = False
        for info in cls.model_fields.values():
            if not info.is_required() and info.default is None and info.exclude_if is None:
                info.exclude_if = _is_none
                changed = True
        if changed:
            cls.model_rebuild(force=True)
