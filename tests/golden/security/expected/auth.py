"""Verifiers of the security schemes of Secured chat.

This module is yours: chanspec wrote it once and never overwrites it. Each ``verify_<scheme>``
gets the credentials a client sent in the WebSocket handshake and the handshake's ASGI scope,
and returns the authenticated user (any object; ``consumer.user`` afterwards) or ``None`` to
refuse the connection (close code 4403). Missing credentials are refused before a verifier
runs (4401); a verifier that still raises ``NotImplementedError`` refuses with 4501.
Compare secrets with ``hmac.compare_digest`` (constant time), never with ``==``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chanspec.runtime.auth import ApiKey, Basic, Bearer

__all__ = ["verify_admin_key", "verify_api_key", "verify_bearer", "verify_operator"]


async def verify_api_key(credentials: ApiKey, scope: Mapping[str, Any]) -> Any:
    """Check the API key sent as the query parameter 'token' (scheme 'apiKey').

    Browsers cannot set headers on a WebSocket, so the key travels in the URL.
    """
    raise NotImplementedError("verify_api_key")


async def verify_bearer(credentials: Bearer, scope: Mapping[str, Any]) -> Any:
    """Check the bearer token of Authorization: Bearer (JWT) (scheme 'bearer')."""
    raise NotImplementedError("verify_bearer")


async def verify_operator(credentials: Basic, scope: Mapping[str, Any]) -> Any:
    """Check the user name and password of Authorization: Basic (scheme 'operator').

    Operators log in with a user name and a password.
    """
    raise NotImplementedError("verify_operator")


async def verify_admin_key(credentials: ApiKey, scope: Mapping[str, Any]) -> Any:
    """Check the API key sent as the header 'X-Admin-Key' (scheme 'adminKey')."""
    raise NotImplementedError("verify_admin_key")
