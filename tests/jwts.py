"""Keys and credentials for the security tests: RSA key pairs the tests generate, JWTs
minted with them (PyJWT), their JWKS (a file, or served by a small real HTTP server), and
an API keys file."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ISSUER = "https://issuer.test"
AUDIENCE = "a2a-server-tests"
SCOPE = "a2a"


@dataclass(frozen=True)
class KeyPair:
    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def new(cls, kid: str) -> KeyPair:
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def token(self, subject: str = "alice", **claims: Any) -> str:
        """A JWT for `subject`, good for five minutes, unless `claims` say otherwise."""
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + 300,
                "scope": SCOPE, **claims}
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, self.private, algorithm="RS256", headers={"kid": self.kid})


def jwks(*pairs: KeyPair) -> dict[str, Any]:
    return {"keys": [p.jwk() for p in pairs]}


def write_jwks(path: Path, *pairs: KeyPair) -> Path:
    path.write_text(json.dumps(jwks(*pairs)))
    return path


def write_api_keys(path: Path, keys: dict[str, str]) -> Path:
    path.write_text("# principal key\n" + "".join(f"{p} {k}\n" for p, k in keys.items()))
    return path


def new_key() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class JwksServer:
    """Serves a JWKS at /jwks.json (and RFC 8414 metadata at /metadata), counting fetches;
    `hang` makes it never answer."""

    keys: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    metadata: dict[str, Any] = field(default_factory=dict)
    fetches: int = 0
    hang: bool = False

    def __post_init__(self) -> None:
        self.app = Starlette(routes=[
            Route("/jwks.json", self._jwks), Route("/metadata", self._metadata),
        ])

    async def _jwks(self, request: Request) -> Response:
        self.fetches += 1
        if self.hang:
            import asyncio

            await asyncio.sleep(3600)
        return JSONResponse(self.keys)

    async def _metadata(self, request: Request) -> Response:
        return JSONResponse(self.metadata) if self.metadata else Response(status_code=404)
