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
        if cls.__pydantic_complete__:
            _omit_none(cls)
        # else: annotations name classes defined later; pydantic completes the class in
        # model_rebuild (explicit, or on first use), which marks the fields then

    @classmethod
    def model_rebuild(
        cls,
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        """``BaseModel.model_rebuild``, then the ``None`` omission of :class:`Message` on the
        fields of the completed class (a rebuild collects them afresh)."""
        result = super().model_rebuild(
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 1,
            _types_namespace=_types_namespace,
        )
        if cls.__pydantic_complete__:
            _omit_none(cls)
        return result


def _omit_none(cls: type[Message]) -> None:
    """Set ``exclude_if`` on the optional ``None``-default fields of a complete class and
    rebuild its serializer once when any was missing it."""
    changed = False
    for info in cls.__pydantic_fields__.values():
        if not info.is_required() and info.default is None and info.exclude_if is None:
            info.exclude_if = _is_none
            changed = True
    if changed:
        cls.model_rebuild(force=True)  # marks nothing more: every field now has exclude_if
