"""The authentication schemes themselves (`a2a_server/auth/`): API keys re-read when their file
changes; bearer JWTs against a JWKS served over real HTTP, with a key rotation picked up and
an issuer that hangs; what the card declares for `--oauth-metadata-url`; start-up errors."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from a2a_server import Settings, create_app
from a2a_server.auth import Authenticator, AuthFailed
from a2a_server.auth.bearer import BadToken, BearerTokens
from agent_card.extended import BadExtendedCard, read_extension
from tests.client import rpc
from tests.conftest import LiveServer, fast_demo, free_port, in_process
from tests.jwts import (
    AUDIENCE,
    ISSUER,
    SCOPE,
    JwksServer,
    KeyPair,
    jwks,
    new_key,
    write_api_keys,
    write_jwks,
)
from tests.proto import validate_v1
from tests.schema import validate

pytestmark = pytest.mark.anyio


@pytest.fixture
def issuer() -> Iterator[tuple[JwksServer, str]]:
    served = JwksServer()
    live = LiveServer(served.app, free_port())
    live.start()
    yield served, live.url
    live.stop()


async def test_api_keys_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    path = write_api_keys(tmp_path / "keys.txt", {"alice": old})
    auth = Authenticator(Settings(api_keys=str(path)))
    assert (await auth.check({"x-api-key": old})).principal == "alice"
    write_api_keys(path, {"alice": new, "bob": old})  # alice's key rotated, hers given to bob
    os.utime(path, (time.time() + 5, time.time() + 5))
    await asyncio.sleep(1.05)  # the file is looked at no more than once a second
    assert (await auth.check({"x-api-key": new})).principal == "alice"
    assert (await auth.check({"x-api-key": old})).principal == "bob"
    path.write_text("# everyone revoked\n")
    os.utime(path, (time.time() + 10, time.time() + 10))
    await asyncio.sleep(1.05)
    with pytest.raises(AuthFailed) as refused:
        await auth.check({"x-api-key": new})
    assert refused.value.status == 401


async def test_malformed_key_lines_are_skipped_not_fatal(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = new_key()
    path = tmp_path / "keys.txt"
    path.write_text(f"alice {key}\nnot-a-pair\n\n# comment\nbob two words {key}\n")
    auth = Authenticator(Settings(api_keys=str(path)))
    assert (await auth.check({"x-api-key": key})).principal == "alice"
    assert "line 2" in caplog.text and "line 5" in caplog.text
    assert key not in caplog.text  # the line is named, never shown


async def test_jwks_url_is_fetched_cached_and_a_rotation_picked_up(issuer: tuple[JwksServer, str]) -> None:
    served, url = issuer
    first, second = KeyPair.new("k1"), KeyPair.new("k2")
    served.keys = jwks(first)
    tokens = BearerTokens(f"{url}/jwks.json", ISSUER, AUDIENCE, min_refetch_seconds=0.2)
    try:
        assert await tokens.verify(first.token("alice")) == ("alice", frozenset({SCOPE}))
        assert await tokens.verify(first.token("bob")) == ("bob", frozenset({SCOPE}))
        assert served.fetches == 1, "cached"
        served.keys = jwks(first, second)  # the issuer rotates: a new key id appears
        await asyncio.sleep(0.25)
        assert (await tokens.verify(second.token("carol")))[0] == "carol"
        assert served.fetches == 2
        forged = KeyPair.new("forged")
        for _ in range(5):  # unknown key ids cannot make it hammer the issuer
            with pytest.raises(BadToken):
                await tokens.verify(forged.token())
        assert served.fetches == 2, "no refetch sooner than min_refetch_seconds after the last"
        await asyncio.sleep(0.25)
        with pytest.raises(BadToken):
            await tokens.verify(forged.token())
        assert served.fetches == 3
    finally:
        await tokens.aclose()


async def test_a_hanging_jwks_url_times_out_into_a_401(issuer: tuple[JwksServer, str]) -> None:
    served, url = issuer
    served.hang = True
    tokens = BearerTokens(f"{url}/jwks.json", ISSUER, AUDIENCE, timeout=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(BadToken):
            await tokens.verify(KeyPair.new("k1").token())
    finally:
        await tokens.aclose()
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("claims", "accepted"),
    [
        ({}, True),
        ({"exp": -20}, True),  # seconds from now: within the 30 s leeway
        ({"exp": -120}, False),
        ({"nbf": 120}, False),
        ({"sub": None}, False),
        ({"aud": [AUDIENCE, "other"]}, True),
        ({"scope": None, "scp": ["a2a", "more"]}, True),
    ],
)
async def test_token_claims(tmp_path: Path, claims: dict[str, object], accepted: bool) -> None:
    pair = KeyPair.new("k1")
    tokens = BearerTokens(str(write_jwks(tmp_path / "jwks.json", pair)), ISSUER, AUDIENCE)
    now = int(time.time())
    token = pair.token(**{k: now + v if k in ("exp", "nbf") else v for k, v in claims.items()})  # type: ignore[operator]
    if accepted:
        assert (await tokens.verify(token))[0] == "alice"
    else:
        with pytest.raises(BadToken):
            await tokens.verify(token)


async def test_unsigned_and_hmac_tokens_are_refused(tmp_path: Path) -> None:
    """`alg: none`, and HS256 signed with the public key as its secret (the classic
    confusion attack), never pass."""
    import jwt as pyjwt

    pair = KeyPair.new("k1")
    tokens = BearerTokens(str(write_jwks(tmp_path / "jwks.json", pair)), ISSUER, AUDIENCE)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "exp": int(time.time()) + 60}
    unsigned = pyjwt.encode(claims, None, algorithm="none", headers={"kid": "k1"})
    public = pair.private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    forged = _hs256(claims, public, "k1")  # by hand: PyJWT itself refuses to make one
    for token in (unsigned, forged, "not a jwt", ""):
        with pytest.raises(BadToken):
            await tokens.verify(token)


def _hs256(claims: dict[str, object], secret: bytes, kid: str) -> str:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


async def test_bearer_over_a_jwks_url_end_to_end(issuer: tuple[JwksServer, str]) -> None:
    served, url = issuer
    pair = KeyPair.new("k1")
    served.keys = jwks(pair)
    settings = {"jwt_jwks": f"{url}/jwks.json", "jwt_issuer": ISSUER, "jwt_audience": AUDIENCE}
    async with in_process(**settings) as client:
        ok = await rpc(client, "tasks/get", {"id": "nope"}, headers={"Authorization": f"Bearer {pair.token()}"})
        assert ok["error"]["code"] == -32001
        refused = await client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "x"}},
                                    headers={"Authorization": "Bearer " + KeyPair.new("k9").token()})
        assert refused.status_code == 401


async def test_oauth_metadata_declares_the_flows(issuer: tuple[JwksServer, str], tmp_path: Path) -> None:
    served, url = issuer
    served.metadata = {
        "issuer": ISSUER, "authorization_endpoint": "https://issuer.test/authorize",
        "token_endpoint": "https://issuer.test/token", "scopes_supported": ["a2a", "profile"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
    }
    jwks_file = str(write_jwks(tmp_path / "jwks.json", KeyPair.new("k1")))
    settings = {"jwt_jwks": jwks_file, "jwt_issuer": ISSUER, "jwt_audience": AUDIENCE,
                "jwt_required_scope": SCOPE, "oauth_metadata_url": f"{url}/metadata"}
    async with in_process(**settings) as client:
        card = (await client.get("/.well-known/agent-card.json")).json()
    oauth = card["securitySchemes"]["oauth2"]
    assert oauth["type"] == "oauth2" and oauth["oauth2MetadataUrl"] == f"{url}/metadata"
    assert oauth["flows"]["authorizationCode"] == {
        "authorizationUrl": "https://issuer.test/authorize", "tokenUrl": "https://issuer.test/token",
        "scopes": {"a2a": "", "profile": ""},
    }
    assert set(oauth["flows"]) == {"authorizationCode", "clientCredentials"}
    assert {"oauth2": [SCOPE]} in card["security"]
    validate("AgentCard", card)
    async with in_process(card_format="1.0", **settings) as client:
        v1 = (await client.get("/.well-known/agent-card.json")).json()
    validate_v1("AgentCard", v1)
    assert list(v1["securitySchemes"]["oauth2"]["oauth2SecurityScheme"]["flows"]) == ["authorizationCode"]
    assert {"schemes": {"oauth2": {"list": [SCOPE]}}} in v1["securityRequirements"]


async def test_unreadable_oauth_metadata_leaves_the_bearer_scheme(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    jwks_file = str(write_jwks(tmp_path / "jwks.json", KeyPair.new("k1")))
    port = free_port()  # nothing listens there
    async with in_process(jwt_jwks=jwks_file, jwt_issuer=ISSUER, jwt_audience=AUDIENCE,
                          oauth_metadata_url=f"http://127.0.0.1:{port}/metadata") as client:
        card = (await client.get("/.well-known/agent-card.json")).json()
    assert set(card["securitySchemes"]) == {"bearer"}
    assert "could not read the OAuth metadata" in caplog.text


async def test_openid_discovery_url_is_declared_as_openid_connect(tmp_path: Path) -> None:
    jwks_file = str(write_jwks(tmp_path / "jwks.json", KeyPair.new("k1")))
    discovery = "https://issuer.test/.well-known/openid-configuration"
    async with in_process(jwt_jwks=jwks_file, jwt_issuer=ISSUER, jwt_audience=AUDIENCE,
                          oauth_metadata_url=discovery, card_format="1.0") as client:
        card = (await client.get("/.well-known/agent-card.json")).json()
    validate_v1("AgentCard", card)
    assert card["securitySchemes"]["openIdConnect"] == {"openIdConnectSecurityScheme": {
        "description": "Get a JWT from this OpenID Connect provider.", "openIdConnectUrl": discovery}}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"api_keys": "/no/such/file"}, "--api-keys /no/such/file: cannot be read"),
        ({"jwt_jwks": "/no/such/jwks.json", "jwt_issuer": ISSUER, "jwt_audience": AUDIENCE},
         "--jwt-jwks /no/such/jwks.json: not a readable JWKS file"),
        ({"extended_card": "/no/such/card.json", "api_keys": os.devnull},
         "--extended-card /no/such/card.json: cannot be read"),
        ({"extended_card": os.devnull}, "--extended-card is for authenticated callers: it needs --api-keys"),
    ],
)
def test_bad_files_stop_the_start_with_a_clear_error(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        create_app(Settings(store="memory", **settings), fast_demo())
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"jwt_jwks": "x.json"}, "--jwt-jwks needs --jwt-issuer and --jwt-audience"),
        ({"jwt_required_scope": "a2a"}, "--jwt-required-scope and --oauth-metadata-url need --jwt-jwks"),
        ({"ssl_certfile": "cert.pem"}, "--ssl-certfile and --ssl-keyfile go together"),
        ({"rate_limit": -1.0}, "--rate-limit must be 0 (off) or more"),
    ],
)
def test_settings_that_cannot_work_are_refused(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("partial", "message"),
    [
        ([], "must be a JSON object"),
        ({"url": "http://evil"}, "unknown key(s) url"),
        ({"skills": [{"id": "x", "name": "X", "description": "d"}]}, "skills[0].tags is required"),
        ({"skills": [{"id": "x", "name": "X", "description": "d", "tags": [], "security": []}]}, "unknown key(s) security"),
        ({"name": ""}, "name must be a non-empty string"),
    ],
)
def test_extended_card_file_is_checked_at_start_up(tmp_path: Path, partial: object, message: str) -> None:
    path = tmp_path / "extended.json"
    path.write_text(json.dumps(partial))
    with pytest.raises(BadExtendedCard) as refused:
        read_extension(str(path))
    assert message in str(refused.value)


async def test_extended_card_replaces_a_skill_of_the_same_id(tmp_path: Path) -> None:
    path = tmp_path / "extended.json"
    path.write_text(json.dumps({"name": "Demo (signed in)", "skills": [
        {"id": "echo", "name": "Echo+", "description": "Echoes, louder.", "tags": ["echo"]}]}))
    key = new_key()
    keys = write_api_keys(tmp_path / "keys.txt", {"alice": key})
    async with in_process(extended_card=str(path), api_keys=str(keys)) as client:
        card = (await rpc(client, "agent/getAuthenticatedExtendedCard", headers={"X-API-Key": key}))["result"]
        public = (await client.get("/.well-known/agent-card.json")).json()
    validate("AgentCard", card)
    assert card["name"] == "Demo (signed in)" and card["supportsAuthenticatedExtendedCard"] is True
    assert [s["id"] for s in card["skills"]] == [s["id"] for s in public["skills"]]
    assert next(s for s in card["skills"] if s["id"] == "echo")["name"] == "Echo+"


async def test_without_an_extended_card_the_methods_say_so() -> None:
    async with in_process() as client:
        old = await rpc(client, "agent/getAuthenticatedExtendedCard")
        new = await rpc(client, "GetExtendedAgentCard", {}, version="1.0")
    assert old["error"]["code"] == -32007
    assert new["error"]["code"] == -32004
