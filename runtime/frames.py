"""Error frames: the one shape every bad input is answered with.

Wire shape (chanx-compatible envelope, see ``docs/wire-protocol.md``)::

    {"action": "error", "payload": {"code": "<code>", "detail": "<text>", "errors": [...]}}

``errors`` is present only for ``validation_error`` and lists pydantic errors as
``{"loc": [...], "msg": str, "type": str}`` (no input values are echoed back). The
connection stays open after every error frame.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

__all__ = ["ErrorCode", "error_frame", "validation_error_frame"]


class ErrorCode(StrEnum):
    """Stable ``payload.code`` values of error frames (listed in ``docs/wire-protocol.md``)."""

    INVALID_JSON = "invalid_json"
    BINARY_FRAME = "binary_frame"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_DISCRIMINATOR = "missing_discriminator"
    UNKNOWN_MESSAGE = "unknown_message"
    VALIDATION_ERROR = "validation_error"
    FRAME_TOO_LARGE = "frame_too_large"
    NOT_IMPLEMENTED = "not_implemented"
    HANDLER_ERROR = "handler_error"
    LAYER_UNAVAILABLE = "layer_unavailable"


def error_frame(
    code: ErrorCode, detail: str, errors: Sequence[dict[str, Any]] | None = None
) -> str:
    """Serialise one error frame.

    Args:
        code: the stable error code.
        detail: a human-readable sentence; never contains a traceback.
        errors: optional list of located errors (validation only).

    Returns:
        The JSON text of the frame.
    """
    payload: dict[str, Any] = {"code": code.value, "detail": detail}
    if errors is not None:
        payload["errors"] = list(errors)
    return json.dumps({"action": "error", "payload": payload}, ensure_ascii=False)


def validation_error_frame(exc: ValidationError, message_name: str) -> str:
    """Error frame for a frame that failed validation against its message model.

    Args:
        exc: the pydantic validation error.
        message_name: the AsyncAPI message the frame was validated against.

    Returns:
        The JSON text; ``errors`` carries ``loc``/``msg``/``type`` of each error, without inputs.
    """
    errors = [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]
    return error_frame(
        ErrorCode.VALIDATION_ERROR, f"frame does not match message {message_name!r}", errors
    )
