"""The base class of every generated message model.

Generated payload models and envelopes derive from :class:`Message`. It adds two things to
``pydantic.BaseModel``: population by field name as well as by alias (names that are Python
keywords or not identifiers become aliases), and serialisation that leaves out optional
fields whose value is ``None`` (an absent optional property is not the same as ``null`` in
JSON Schema), always by alias.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

__all__ = ["Message"]


class Message(BaseModel):
    """Base of generated messages: by-alias, populate-by-name, optional ``None`` omitted.

    ``model_dump_json()`` of a message gives exactly the JSON text a client receives.
    """

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    __chanspec_omit_none__: ClassVar[frozenset[str] | None] = None

    @classmethod
    def _omit_if_none(cls, by_alias: bool) -> frozenset[str]:
        cache_name = "_chanspec_omit_alias" if by_alias else "_chanspec_omit_name"
        cached: frozenset[str] | None = cls.__dict__.get(cache_name)
        if cached is None:
            cached = frozenset(
                (info.serialization_alias or info.alias or name) if by_alias else name
                for name, info in cls.model_fields.items()
                if not info.is_required() and info.default is None
            )
            setattr(cls, cache_name, cached)
        return cached

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            by_alias = info.by_alias
            if by_alias is None:  # not given: the model config decides (serialize_by_alias)
                by_alias = bool(type(self).model_config.get("serialize_by_alias", False))
            omit = type(self)._omit_if_none(by_alias)
            if omit:
                for key in [k for k in omit if k in data and data[k] is None]:
                    del data[key]
        return data
