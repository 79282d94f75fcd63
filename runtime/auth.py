"""Authentication before accept: credentials read from the handshake, checked by your verifiers.

The spec's ``components.securitySchemes`` become :class:`SecurityScheme` values (generated
``generated/security.py``); each knows where its credentials travel in the WebSocket handshake
(AsyncAPI 3.0 §Security Scheme Object) and which verifier (``auth.py``, yours) checks them:

=====================================  ========================================================
AsyncAPI scheme                        read from (ASGI scope of the handshake)
=====================================  ========================================================
``httpApiKey``, ``in: query``          query parameter ``name`` -> :class:`ApiKey`
``httpApiKey``, ``in: header``         request header ``name`` -> :class:`ApiKey`
``httpApiKey``, ``in: cookie``         cookie ``name`` -> :class:`ApiKey`
``apiKey``, ``in: user|password``      user or password part of ``Authorization: Basic``
                                       (``ws://key@host`` sends it so) -> :class:`ApiKey`
``http``, ``scheme: bearer``           ``Authorization: Bearer <token>`` -> :class:`Bearer`
``http``, ``scheme: basic``            ``Authorization: Basic`` -> :class:`Basic`
``userPassword``                       ``Authorization: Basic`` -> :class:`Basic`
anything else                          :class:`UnsupportedScheme`: never satisfied
=====================================  ========================================================

A consumer's ``security`` is a tuple of requirements that must all hold; a requirement is a tuple
of alternative schemes (an AsyncAPI ``security`` list: "only one of the security scheme objects
MUST be satisfied"). :func:`authenticate_scope` decides, before the connection is accepted:

- no alternative of some requirement finds its credentials -> :class:`MissingCredentials`
  (close code 4401);
- credentials were found but every verifier that saw them returned ``None`` or raised
  :class:`CredentialsRejected` -> :class:`CredentialsRejected` (close code 4403);
- a verifier still raises ``NotImplementedError`` (an unfilled stub) -> that error propagates
  (the consumer closes with 4501 and logs which verifier).

A verifier is ``async def verify(credentials, scope) -> user | None`` (:class:`Authenticator`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol
from urllib.parse import parse_qsl

from starlette.requests import cookie_parser

__all__ = [
    "CLOSE_AUTH_NOT_IMPLEMENTED",
    "CLOSE_CREDENTIALS_REJECTED",
    "CLOSE_MISSING_CREDENTIALS",
    "ApiKey",
    "ApiKeyScheme",
    "AuthenticationError",
    "Authenticator",
    "Basic",
    "Bearer",
    "Credentials",
    "CredentialsRejected",
    "HttpApiKeyScheme",
    "HttpScheme",
    "MissingCredentials",
    "Requirement",
    "SecurityScheme",
    "UnsupportedScheme",
    "UserPasswordScheme",
    "authenticate_scope",
]

CLOSE_MISSING_CREDENTIALS = 4401
"""Close code: a required credential is absent (or ``authenticate()`` refused)."""
CLOSE_CREDENTIALS_REJECTED = 4403
"""Close code: credentials were presented and a verifier rejected them."""
CLOSE_AUTH_NOT_IMPLEMENTED = 4501
"""Close code: the verifier of a required scheme is still a stub (``NotImplementedError``)."""


# ---- credentials ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiKey:
    """An API key as sent by the client (``httpApiKey`` or ``apiKey`` schemes)."""

    value: str


@dataclass(frozen=True)
class Bearer:
    """A bearer token from ``Authorization: Bearer <token>`` (``http``, ``scheme: bearer``)."""

    token: str


@dataclass(frozen=True)
class Basic:
    """User name and password from ``Authorization: Basic`` (``http`` basic, ``userPassword``)."""

    username: str
    password: str


Credentials = ApiKey | Bearer | Basic


class Authenticator(Protocol):
    """A verifier: checks credentials, returns the authenticated user (any object) or ``None``.

    Returning ``None`` (or raising :class:`CredentialsRejected`) rejects the credentials; the
    returned value is available as ``consumer.user`` afterwards. The ASGI ``scope`` of the
    handshake is passed for anything else the verifier needs (client address, path parameters).
    """

    async def __call__(self, credentials: Any, scope: Mapping[str, Any], /) -> Any: ...


# ---- outcomes ---------------------------------------------------------------------------------


class AuthenticationError(Exception):
    """The handshake is refused; ``close_code`` is the WebSocket close code to send.

    Attributes:
        challenges: RFC 7235 challenges for a ``WWW-Authenticate`` header when the refusal is
            an HTTP 401 (``Bearer``, ``Basic realm="<scheme>"``); empty when no scheme of the
            requirement has a standard one (API keys).
    """

    close_code: ClassVar[int] = CLOSE_MISSING_CREDENTIALS

    def __init__(self, message: str, challenges: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.challenges = tuple(challenges)


class MissingCredentials(AuthenticationError):
    """No credentials for any alternative of a required security requirement (4401)."""

    close_code = CLOSE_MISSING_CREDENTIALS


class CredentialsRejected(AuthenticationError):
    """Credentials were presented and rejected (4403); verifiers may raise it themselves."""

    close_code = CLOSE_CREDENTIALS_REJECTED


# ---- reading the handshake --------------------------------------------------------------------


def _header(scope: Mapping[str, Any], name: str) -> str | None:
    wanted = name.lower().encode("latin-1")
    for key, value in scope.get("headers") or ():
        if bytes(key).lower() == wanted:
            return bytes(value).decode("latin-1")
    return None


def _authorization(scope: Mapping[str, Any], kind: str) -> str | None:
    """The credentials of ``Authorization: <kind> <credentials>`` (kind case-insensitive)."""
    value = _header(scope, "authorization")
    if value is None:
        return None
    found, _, rest = value.strip().partition(" ")
    if found.lower() != kind.lower() or not rest.strip():
        return None
    return rest.strip()


def _basic(scope: Mapping[str, Any]) -> Basic | None:
    encoded = _authorization(scope, "basic")
    if encoded is None:
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return Basic(username, password) if sep else None


# ---- schemes ----------------------------------------------------------------------------------


async def _no_verifier(credentials: Any, scope: Mapping[str, Any], /) -> Any:
    raise NotImplementedError("no verifier is bound to this security scheme")


@dataclass(frozen=True)
class SecurityScheme:
    """A security scheme of the spec, bound to the verifier of its credentials.

    Attributes:
        name: the key under ``components.securitySchemes``.
        verify: the :class:`Authenticator` (your ``verify_<scheme>`` in ``auth.py``); default:
            one raising ``NotImplementedError`` (the handshake is refused with 4501).
        description: the scheme's description, for logs and docs.
    """

    name: str
    verify: Authenticator = field(default=_no_verifier, repr=False, compare=False)
    description: str | None = None

    type: ClassVar[str] = ""

    def extract(self, scope: Mapping[str, Any]) -> Credentials | None:
        """The credentials this scheme finds in the handshake ``scope``, or ``None``."""
        raise NotImplementedError


@dataclass(frozen=True)
class HttpApiKeyScheme(SecurityScheme):
    """``type: httpApiKey``: a key in the query string, a header or a cookie called ``param``.

    Attributes:
        param: the AsyncAPI ``name`` of the parameter, header or cookie.
        location: the AsyncAPI ``in``: ``query``, ``header`` or ``cookie``.
    """

    param: str = ""
    location: Literal["query", "header", "cookie"] = "query"

    type: ClassVar[str] = "httpApiKey"

    def extract(self, scope: Mapping[str, Any]) -> ApiKey | None:
        """The key, or ``None`` when absent or empty."""
        value: str | None
        if self.location == "header":
            value = _header(scope, self.param)
        elif self.location == "cookie":
            cookies = _header(scope, "cookie")
            value = cookie_parser(cookies).get(self.param) if cookies else None
        else:
            raw = scope.get("query_string") or b""
            query = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
            value = next((v for k, v in parse_qsl(query) if k == self.param), None)
        return ApiKey(value) if value else None


@dataclass(frozen=True)
class ApiKeyScheme(SecurityScheme):
    """``type: apiKey`` with ``in: user`` or ``in: password``.

    A WebSocket handshake carries a user and a password only in ``Authorization: Basic`` (which
    clients also send for ``ws://user:password@host``), so the key is that part of it.
    """

    location: Literal["user", "password"] = "user"

    type: ClassVar[str] = "apiKey"

    def extract(self, scope: Mapping[str, Any]) -> ApiKey | None:
        """The user (or password) part of ``Authorization: Basic``, or ``None``."""
        basic = _basic(scope)
        if basic is None:
            return None
        value = basic.username if self.location == "user" else basic.password
        return ApiKey(value) if value else None


@dataclass(frozen=True)
class HttpScheme(SecurityScheme):
    """``type: http`` with ``scheme: bearer`` or ``scheme: basic`` (RFC 7235 Authorization).

    Attributes:
        scheme: ``bearer`` or ``basic`` (lower case).
        bearer_format: the spec's ``bearerFormat`` hint (e.g. ``JWT``), informative only.
    """

    scheme: Literal["bearer", "basic"] = "bearer"
    bearer_format: str | None = None

    type: ClassVar[str] = "http"

    def extract(self, scope: Mapping[str, Any]) -> Bearer | Basic | None:
        """:class:`Bearer` or :class:`Basic` from the ``Authorization`` header, or ``None``."""
        if self.scheme == "basic":
            return _basic(scope)
        token = _authorization(scope, "bearer")
        return Bearer(token) if token else None


@dataclass(frozen=True)
class UserPasswordScheme(SecurityScheme):
    """``type: userPassword``: user name and password in ``Authorization: Basic``."""

    type: ClassVar[str] = "userPassword"

    def extract(self, scope: Mapping[str, Any]) -> Basic | None:
        """:class:`Basic` credentials, or ``None``."""
        return _basic(scope)


@dataclass(frozen=True)
class UnsupportedScheme(SecurityScheme):
    """A scheme chanspec cannot read from a WebSocket handshake (``oauth2``, ``X509``, ...).

    It never finds credentials, so a requirement with no other alternative refuses every
    connection (4401) until the consumer overrides ``authenticate()``; generation warns (N061).

    Attributes:
        scheme_type: the spec's ``type``.
    """

    scheme_type: str = ""

    type: ClassVar[str] = "unsupported"

    def extract(self, scope: Mapping[str, Any]) -> None:
        """Always ``None``."""
        return None


def _challenge(scheme: SecurityScheme) -> str:
    """The RFC 7235 challenge asking for ``scheme``'s credentials, or ``""``."""
    if isinstance(scheme, HttpScheme) and scheme.scheme == "bearer":
        return "Bearer"
    if isinstance(scheme, HttpScheme | UserPasswordScheme | ApiKeyScheme):
        realm = re.sub(r'[^\x20-\x7e]|["\\]', "_", scheme.name)  # no header injection
        return f'Basic realm="{realm}"'
    return ""


Requirement = tuple[SecurityScheme, ...]
"""Alternatives: one of them must be satisfied (an AsyncAPI ``security`` list)."""


async def authenticate_scope(
    requirements: Sequence[Requirement], scope: Mapping[str, Any]
) -> dict[str, Any]:
    """Check every requirement against the handshake ``scope``.

    Alternatives of a requirement are tried in declared order; the first whose credentials are
    present and whose verifier returns a value other than ``None`` satisfies it.

    Args:
        requirements: the consumer's ``security`` (all must hold; empty: nothing to check).
        scope: the ASGI scope of the WebSocket handshake.

    Returns:
        ``{scheme name: verifier result}`` of the schemes that satisfied the requirements, in
        requirement order.

    Raises:
        MissingCredentials: no alternative of a requirement found its credentials.
        CredentialsRejected: credentials were found but every verifier rejected them.
        NotImplementedError: a verifier is still a stub.
    """
    accepted: dict[str, Any] = {}
    for requirement in requirements:
        if any(s.name in accepted for s in requirement):
            continue
        presented: list[str] = []
        for scheme in requirement:
            credentials = scheme.extract(scope)
            if credentials is None:
                continue
            presented.append(scheme.name)
            try:
                user = await scheme.verify(credentials, scope)
            except CredentialsRejected:
                continue
            if user is not None:
                accepted[scheme.name] = user
                break
        else:
            names = ", ".join(s.name for s in requirement) or "(none)"
            if presented:
                raise CredentialsRejected(f"credentials rejected by {', '.join(presented)}")
            raise MissingCredentials(
                f"no credentials for any of: {names}",
                tuple(dict.fromkeys(c for s in requirement if (c := _challenge(s)))),
            )
    return accepted
