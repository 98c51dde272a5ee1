"""Who is calling: the authentication schemes the card declares, enforced on every call.

    Authenticator     checks a request's credentials: an API key (`X-API-Key`, `apikeys.py`)
                      or a bearer JWT (`Authorization: Bearer`, `bearer.py`); gives the
                      Caller, or raises AuthFailed
    AuthFailed        HTTP 401 (missing or bad credentials) or 403 (valid, but without the
                      scope required), with its WWW-Authenticate challenge; it never says
                      which part was wrong

With no scheme configured every caller is the anonymous principal "" (and authenticated, so
an extended card is served to all). The principal is what tasks, their streams, tickets,
push configs and conversation memory belong to.
"""

from __future__ import annotations

from dataclasses import dataclass

from a2a_server.auth.apikeys import ApiKeys
from a2a_server.auth.bearer import BadToken, BearerTokens
from a2a_server.settings import Settings

__all__ = ["ANONYMOUS", "API_KEY_HEADER", "AuthFailed", "Authenticator", "Caller"]

API_KEY_HEADER = "x-api-key"
REALM = "a2a-server"


@dataclass(frozen=True, slots=True)
class Caller:
    principal: str
    scopes: frozenset[str] = frozenset()
    authenticated: bool = True


ANONYMOUS = Caller("")


class AuthFailed(Exception):
    """Refused before any JSON-RPC work: `status` 401 or 403, and the challenge to send."""

    def __init__(self, status: int, challenge: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.challenge = challenge


class Authenticator:
    def __init__(self, settings: Settings) -> None:
        self.api_keys = ApiKeys(settings.api_keys) if settings.api_keys else None
        self.bearer = (
            BearerTokens(settings.jwt_jwks, settings.jwt_issuer or "", settings.jwt_audience or "")
            if settings.jwt_jwks else None
        )
        self.required_scope = settings.jwt_required_scope
        challenges = []
        if self.bearer is not None:
            challenges.append(f'Bearer realm="{REALM}"')
        if self.api_keys is not None:
            challenges.append(f'ApiKey realm="{REALM}", header="X-API-Key"')
        self._challenge = ", ".join(challenges)

    @property
    def enabled(self) -> bool:
        return self.api_keys is not None or self.bearer is not None

    async def check(self, headers: dict[str, str]) -> Caller:
        """The caller of a request (headers with lower-case names)."""
        if not self.enabled:
            return ANONYMOUS
        key = headers.get(API_KEY_HEADER)
        if key is not None and self.api_keys is not None:
            principal = self.api_keys.principal(key)
            if principal is None:
                raise AuthFailed(401, self._challenge)
            return Caller(principal)
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip() and self.bearer is not None:
            try:
                principal, scopes = await self.bearer.verify(token.strip())
            except BadToken:
                raise AuthFailed(401, f'Bearer realm="{REALM}", error="invalid_token"') from None
            if self.required_scope and self.required_scope not in scopes:
                raise AuthFailed(
                    403, f'Bearer realm="{REALM}", error="insufficient_scope", scope="{self.required_scope}"'
                )
            return Caller(principal, scopes)
        raise AuthFailed(401, self._challenge)

    async def aclose(self) -> None:
        if self.bearer is not None:
            await self.bearer.aclose()
