"""The security schemes the card declares: exactly those the server enforces (issue 13 §1).

    apiKey         `--api-keys`: an API key in the `X-API-Key` header
    bearer         `--jwt-jwks`: a JWT in `Authorization: Bearer`, from the configured issuer
    oauth2         `--oauth-metadata-url` (RFC 8414 metadata): where clients get those JWTs
    openIdConnect  `--oauth-metadata-url` ending in `/.well-known/openid-configuration`

The requirements are alternatives (an OR, as OpenAPI reads them): any one scheme will do.
The OAuth flows come from the authorization server's metadata, fetched once at start-up with
a timeout; when it cannot be read the card declares the bearer scheme alone (a warning says
why) rather than flows it does not know. Nothing secret is ever part of a scheme.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from a2a_server.settings import Settings

__all__ = ["OAuthFlow", "Requirement", "SecurityScheme", "security_of"]

log = logging.getLogger("a2a_server")

API_KEY_HEADER = "X-API-Key"
_OIDC_SUFFIX = "/.well-known/openid-configuration"

Requirement = Mapping[str, tuple[str, ...]]
"""One alternative: scheme names, each with the scopes it needs."""


@dataclass(frozen=True, slots=True)
class OAuthFlow:
    kind: str  # "authorizationCode", "clientCredentials" or "deviceCode"
    token_url: str
    scopes: Mapping[str, str] = field(default_factory=dict)
    authorization_url: str | None = None  # authorizationCode
    device_authorization_url: str | None = None  # deviceCode
    refresh_url: str | None = None


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    name: str  # its key in the card
    kind: str  # "apiKey", "http", "oauth2" or "openIdConnect"
    description: str = ""
    header: str | None = None  # apiKey: the header that carries the key
    scheme: str | None = None  # http: the Authorization scheme
    bearer_format: str | None = None  # http bearer
    metadata_url: str | None = None  # oauth2: RFC 8414 metadata; openIdConnect: discovery
    flows: tuple[OAuthFlow, ...] = ()  # oauth2, in order of preference


Fetch = Callable[[str], Any]


def security_of(
    settings: Settings, fetch: Fetch | None = None
) -> tuple[tuple[SecurityScheme, ...], tuple[Requirement, ...]]:
    """The schemes to declare for these settings, and the requirements naming them."""
    schemes: list[SecurityScheme] = []
    scope = (settings.jwt_required_scope,) if settings.jwt_required_scope else ()
    if settings.jwt_jwks:
        schemes.append(SecurityScheme(
            "bearer", "http",
            f"A JWT from {settings.jwt_issuer} for the audience {settings.jwt_audience}, "
            "in Authorization: Bearer.",
            scheme="Bearer", bearer_format="JWT",
        ))
        if settings.oauth_metadata_url:
            found = _oauth_scheme(settings.oauth_metadata_url, scope, fetch or _fetch_json)
            if found is not None:
                schemes.append(found)
    if settings.api_keys:
        schemes.append(SecurityScheme(
            "apiKey", "apiKey", f"An API key from the operator, in the {API_KEY_HEADER} header.",
            header=API_KEY_HEADER,
        ))
    requirements = tuple(
        {s.name: scope if s.kind != "apiKey" else ()} for s in schemes
    )
    return tuple(schemes), requirements


def _oauth_scheme(url: str, scope: tuple[str, ...], fetch: Fetch) -> SecurityScheme | None:
    if url.rstrip("/").endswith(_OIDC_SUFFIX):
        return SecurityScheme(
            "openIdConnect", "openIdConnect", "Get a JWT from this OpenID Connect provider.",
            metadata_url=url,
        )
    try:
        metadata = fetch(url)
        flows = _flows(metadata, scope)
    except (httpx.HTTPError, ValueError, TypeError, KeyError) as exc:
        log.warning("could not read the OAuth metadata at %s (%s); the card declares bearer JWTs "
                    "without it", url, type(exc).__name__)
        return None
    if not flows:
        log.warning("the OAuth metadata at %s names no flow a card can declare; the card declares "
                    "bearer JWTs without it", url)
        return None
    return SecurityScheme(
        "oauth2", "oauth2", "Get a JWT from this OAuth 2.0 authorization server.",
        metadata_url=url, flows=tuple(flows),
    )


def _flows(metadata: Any, scope: tuple[str, ...]) -> list[OAuthFlow]:
    """The flows an RFC 8414 metadata document offers (authorization code first)."""
    if not isinstance(metadata, dict):
        raise TypeError("not a JSON object")
    token = _url(metadata, "token_endpoint")
    if token is None:
        raise ValueError("no token_endpoint")
    grants = metadata.get("grant_types_supported") or ["authorization_code", "implicit"]
    listed = metadata.get("scopes_supported")
    names = [s for s in listed if isinstance(s, str)] if isinstance(listed, list) else []
    scopes = {name: "" for name in (*names, *(s for s in scope if s not in names))}
    flows = []
    authorize = _url(metadata, "authorization_endpoint")
    if "authorization_code" in grants and authorize is not None:
        flows.append(OAuthFlow("authorizationCode", token, scopes, authorization_url=authorize))
    if "client_credentials" in grants:
        flows.append(OAuthFlow("clientCredentials", token, scopes))
    device = _url(metadata, "device_authorization_endpoint")
    if "urn:ietf:params:oauth:grant-type:device_code" in grants and device is not None:
        flows.append(OAuthFlow("deviceCode", token, scopes, device_authorization_url=device))
    return flows


def _url(metadata: dict[str, Any], key: str) -> str | None:
    value = metadata.get(key)
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def _fetch_json(url: str) -> Any:
    response = httpx.get(url, timeout=5.0, follow_redirects=False)
    response.raise_for_status()
    return response.json()
