"""Routing of decoded JSON frames (and channel-layer events) to typed handlers.

A channel's incoming messages are told apart by a discriminator: a property whose schema is a
``const`` unique among them (``action`` in the chanx envelope; ``type``, ``event``, ``op`` in
other specs). In the models that property is a one-value ``Literal``. With one message there is
nothing to tell apart; with no discriminator the messages are tried in declared order
(design brief §4). Routing tables are built once per class.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import ConsumerDefinitionError
from .frames import ErrorCode, error_frame, validation_error_frame

__all__ = ["Route", "Router", "RoutingFailure", "discriminator_value"]


@dataclass(frozen=True)
class Route:
    """One handler of a consumer.

    Attributes:
        model: the pydantic model of the incoming message or event (the first, when the
            handler takes a union of several).
        method_name: the consumer method to call.
        operation_id: AsyncAPI operation id.
        output_types: models the handler may send back (reply or event output), possibly empty.
        input_types: every model the handler takes (``A | B`` annotation); default ``(model,)``.
        concurrent: each call runs in its own task (``@ws_handler(concurrent=True)``).
    """

    model: type[BaseModel]
    method_name: str
    operation_id: str
    output_types: tuple[type[BaseModel], ...]
    input_types: tuple[type[BaseModel], ...] = ()
    concurrent: bool = False

    @property
    def models(self) -> tuple[type[BaseModel], ...]:
        """The models this route accepts, in declared order."""
        return self.input_types or (self.model,)


@dataclass(frozen=True)
class RoutingFailure:
    """A frame that could not be routed; ``frame`` is the error frame text to answer with."""

    frame: str


def _field_for(model: type[BaseModel], wire_name: str) -> str | None:
    for name, info in model.model_fields.items():
        if (info.alias or name) == wire_name:
            return name
    return None


def discriminator_value(model: type[BaseModel], wire_name: str) -> Any:
    """The literal value of ``wire_name`` in ``model``.

    Args:
        model: a pydantic model.
        wire_name: the property name on the wire (alias if the field has one).

    Returns:
        The single value of the field's ``Literal`` annotation.

    Raises:
        LookupError: the model has no such field, or it is not a one-value ``Literal``.
    """
    name = _field_for(model, wire_name)
    if name is None:
        raise LookupError(f"{model.__name__} has no field {wire_name!r}")
    annotation = model.model_fields[name].annotation
    if typing.get_origin(annotation) is typing.Literal:
        values = typing.get_args(annotation)
        if len(values) == 1:
            return values[0]
    raise LookupError(f"{model.__name__}.{name} is not a one-value Literal")


class Router:
    """Maps a decoded JSON value to the route whose message it is.

    Args:
        routes: the handlers, in declared order (the order matters only without discriminator).
        discriminator: wire name of the discriminator property, or ``None``.
        owner: ``"Class"`` used in definition error messages.

    Raises:
        ConsumerDefinitionError: two routes share a discriminator value, or a route's model has
            no literal discriminator although the channel declares one.
    """

    def __init__(self, routes: Sequence[Route], discriminator: str | None, owner: str) -> None:
        self.routes = tuple(routes)
        self.entries = [(model, route) for route in self.routes for model in route.models]
        self.discriminator = discriminator
        self.by_value: dict[Any, tuple[Route, type[BaseModel]]] = {}
        if discriminator is None:
            return
        for model, route in self.entries:
            try:
                value = discriminator_value(model, discriminator)
            except LookupError as exc:
                if len(self.entries) == 1:  # one message: nothing to tell apart
                    self.discriminator = None
                    self.by_value.clear()
                    return
                raise ConsumerDefinitionError(
                    f"{owner}.{route.method_name}: {exc}; every message of this channel needs "
                    f"a one-value Literal field {self.discriminator!r} to be routed"
                ) from None
            other = self.by_value.get(value)
            if other is not None:
                raise ConsumerDefinitionError(
                    f"{owner}.{route.method_name}: {self.discriminator}={value!r} is already "
                    f"handled by {owner}.{other[0].method_name}"
                )
            self.by_value[value] = (route, model)

    def resolve(self, data: Any) -> tuple[Route, BaseModel] | RoutingFailure:
        """Pick the route for ``data`` and validate it.

        Returns:
            ``(route, message)`` or a :class:`RoutingFailure` carrying the error frame
            (``not_an_object``, ``missing_discriminator``, ``unknown_message``,
            ``validation_error``).
        """
        if not self.entries:
            return RoutingFailure(
                error_frame(ErrorCode.UNKNOWN_MESSAGE, "this channel receives no messages")
            )
        if self.discriminator is not None:
            if not isinstance(data, dict):
                return RoutingFailure(
                    error_frame(ErrorCode.NOT_AN_OBJECT, "a frame must be a JSON object")
                )
            if self.discriminator not in data:
                return RoutingFailure(
                    error_frame(
                        ErrorCode.MISSING_DISCRIMINATOR,
                        f"missing {self.discriminator!r}; expected one of {self._known()}",
                    )
                )
            value = data[self.discriminator]
            found = self.by_value.get(value) if _hashable(value) else None
            if found is None:
                return RoutingFailure(
                    error_frame(
                        ErrorCode.UNKNOWN_MESSAGE,
                        f"unknown {self.discriminator} {value!r}; expected one of {self._known()}",
                    )
                )
            return self._validate(found[0], found[1], data)
        if len(self.entries) == 1:
            model, route = self.entries[0]
            return self._validate(route, model, data)
        for model, route in self.entries:
            try:
                return route, model.model_validate(data)
            except ValidationError:
                continue
        names = ", ".join(model.__name__ for model, _ in self.entries)
        return RoutingFailure(
            error_frame(ErrorCode.UNKNOWN_MESSAGE, f"frame matches none of: {names}")
        )

    def _known(self) -> str:
        return ", ".join(repr(v) for v in self.by_value)

    @staticmethod
    def _validate(
        route: Route, model: type[BaseModel], data: Any
    ) -> tuple[Route, BaseModel] | RoutingFailure:
        try:
            return route, model.model_validate(data)
        except ValidationError as exc:
            return RoutingFailure(validation_error_frame(exc, model.__name__))


def _hashable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None
