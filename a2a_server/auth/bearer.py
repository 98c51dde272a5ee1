"""Bearer JWTs, verified with PyJWT against a JWKS (a file, or a URL fetched with a timeout).

A token must be signed by a key of the set (asymmetric algorithms only: never `none`, never
an HMAC secret one could forge with a public key), carry the configured issuer and audience,
and be within `exp`/`nbf` (30 s of leeway for clocks that drift). Its principal is `sub`; its
scopes come from `scope` (space-separated) or `scp` (a list or a string).

The key set is cached: a file is read again when it changes, a URL every `refresh_seconds`;
a token signed by a key id the set does not know makes one early refetch (a key rotation),
at most every `min_refetch_seconds`, so unknown ids cannot make the server hammer the
issuer. Nothing of a token is ever logged or told to a client.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from typing import Any

import httpx
import jwt
from jwt import PyJWK, PyJWKSet

__all__ = ["BadToken", "BearerTokens"]

log = logging.getLogger("a2a_server")

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
LEEWAY_SECONDS = 30


class BadToken(Exception):
    """The token is not one to trust (the reason is for the log, never the client)."""


class BearerTokens:
    def __init__(
        self,
        jwks: str,
        issuer: str,
        audience: str,
        *,
        refresh_seconds: float = 300.0,
        min_refetch_seconds: float = 30.0,
        timeout: float = 5.0,
    ) -> None:
        self.source = jwks
        self.issuer = issuer
        self.audience = audience
        self._remote = jwks.startswith(("https://", "http://"))
        self._refresh = refresh_seconds
        self._min_refetch = min_refetch_seconds
        self._keys: dict[str, PyJWK] = {}
        self._fetched = 0.0  # when the set was last read
        self._file_seen: tuple[float, int] | None = None
        self._lock = asyncio.Lock()
        self._http = httpx.AsyncClient(timeout=timeout, follow_redirects=False) if self._remote else None
        if not self._remote:
            try:
                self._read_file()
            except (OSError, ValueError, jwt.PyJWTError):  # a start-up error
                raise ValueError(f"--jwt-jwks {jwks}: not a readable JWKS file") from None

    async def verify(self, token: str) -> tuple[str, frozenset[str]]:
        """(principal, scopes) of a good token; raises BadToken."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise BadToken("not a JWT") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise BadToken(f"algorithm {algorithm!r} is not accepted")
        key = await self._key(header.get("kid"))
        try:
            claims = jwt.decode(
                token, key.key, algorithms=[algorithm], audience=self.audience, issuer=self.issuer,
                leeway=LEEWAY_SECONDS, options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise BadToken(type(exc).__name__) from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise BadToken("no subject")
        return subject, _scopes(claims)

    async def _key(self, kid: Any) -> PyJWK:
        await self._fresh()
        key = self._pick(kid)
        if key is None and self._remote:
            await self._fresh(force=True)  # perhaps a rotation (at most every min_refetch)
            key = self._pick(kid)
        if key is None:
            raise BadToken("signed by an unknown key")
        return key

    def _pick(self, kid: Any) -> PyJWK | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(str(kid))

    async def _fresh(self, force: bool = False) -> None:
        if not self._remote:
            try:
                self._read_file()
            except (OSError, ValueError, jwt.PyJWTError) as exc:
                log.warning("the JWKS file %s cannot be read (%s); keeping the keys read before",
                            self.source, type(exc).__name__)
            return
        if self._fresh_enough(force):
            return
        async with self._lock:
            if self._fresh_enough(force):
                return  # fetched meanwhile
            assert self._http is not None
            self._fetched = time.monotonic()
            try:
                response = await self._http.get(self.source)
                response.raise_for_status()
                self._keys = _keys(response.json())
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                log.warning("could not fetch the JWKS at %s (%s); keeping the keys known", self.source,
                            type(exc).__name__)

    def _fresh_enough(self, force: bool) -> bool:
        """Whether to skip a fetch: the set is younger than the refresh interval, or a forced
        fetch (or one after a failure) comes sooner than `min_refetch_seconds` after the last."""
        if not self._fetched:
            return False
        age = time.monotonic() - self._fetched
        if force or not self._keys:
            return age < self._min_refetch
        return age < self._refresh

    def _read_file(self) -> None:
        stat = os.stat(self.source)
        seen = (stat.st_mtime, stat.st_size)
        if seen == self._file_seen:
            return
        with open(self.source, encoding="utf-8") as f:
            self._keys = _keys(json.load(f))
        self._file_seen, self._fetched = seen, time.monotonic()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


def _keys(jwks: Any) -> dict[str, PyJWK]:
    keys = {}
    for i, key in enumerate(PyJWKSet.from_dict(jwks).keys):
        keys[str(key.key_id) if key.key_id is not None else f"#{i}"] = key
    return keys


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, str):
        return frozenset(scp.split())
    if isinstance(scp, list):
        return frozenset(s for s in scp if isinstance(s, str))
    return frozenset()
