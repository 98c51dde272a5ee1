"""The server as operators run it, a real process: HTTPS with `--ssl-certfile/--ssl-keyfile`
(the card's URLs follow), and no key, token or push credential in its log, even at debug
level, whatever the callers send (issue 13 §5, §7)."""

from __future__ import annotations

import datetime
import ipaddress
import json
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.client import rpc, user_message
from tests.conftest import wait_for
from tests.jwts import AUDIENCE, ISSUER, KeyPair, new_key, write_api_keys, write_jwks
from tests.procs import ServerProcess
from tests.receiver import Receiver

pytestmark = pytest.mark.anyio


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, both PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    return cert_path, key_path


async def test_https_serves_and_the_card_says_https(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server = ServerProcess(tmp_path / "tasks.db", "--ssl-certfile", str(cert), "--ssl-keyfile", str(key), tls=cert)
    server.start()
    try:
        async with server.client() as client:
            card = (await client.get("/.well-known/agent-card.json")).json()
            sent = await rpc(client, "message/send", {"message": user_message("hello")})
        assert card["url"] == f"https://127.0.0.1:{server.port}/"
        assert {i["url"] for i in card["supportedInterfaces"]} == {card["url"]}
        assert sent["result"]["status"]["state"] == "completed"
        with pytest.raises(httpx.HTTPError):  # plain HTTP on the HTTPS port gets nothing
            httpx.get(f"http://127.0.0.1:{server.port}/health", timeout=2).raise_for_status()
    finally:
        server.stop()


async def test_no_secret_reaches_the_log(tmp_path: Path, receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    key, pair = new_key(), KeyPair.new("k1")
    token = pair.token("alice")
    secrets = {
        "api key": key,
        "jwt": token,
        "bad key": new_key(),
        "forged jwt": KeyPair.new("k1").token("alice"),
        "push credentials": "push-credential-" + new_key(),
        "push token": "push-token-" + new_key(),
        "webhook query": "query-" + new_key(),
    }
    r.fail_first["/hook"] = 1  # so the log has a failed delivery to tell
    server = ServerProcess(
        tmp_path / "tasks.db", "--log-level", "debug", "--push-allow-hosts", "127.0.0.1",
        "--api-keys", str(write_api_keys(tmp_path / "keys.txt", {"alice": key})),
        "--jwt-jwks", str(write_jwks(tmp_path / "jwks.json", pair)),
        "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE,
    )
    server.start()
    try:
        async with server.client() as client:
            for bad in ({"X-API-Key": secrets["bad key"]}, {"Authorization": f"Bearer {secrets['forged jwt']}"}):
                refused = await client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "tasks/get"}, headers=bad)
                assert refused.status_code == 401
                assert not any(s in refused.text + str(refused.headers) for s in secrets.values())
            config = {"url": f"{url}/hook?key={secrets['webhook query']}", "token": secrets["push token"],
                      "authentication": {"schemes": ["Bearer"], "credentials": secrets["push credentials"]}}
            sent = await rpc(client, "message/send", {"message": user_message("hello"),
                                                      "configuration": {"pushNotificationConfig": config}},
                             headers={"X-API-Key": key})
            task = sent["result"]
            got = await rpc(client, "tasks/get", {"id": task["id"]}, headers={"Authorization": f"Bearer {token}"})
            assert not any(s in json.dumps(got) for s in secrets.values()), "nothing secret in the task"
            await rpc(client, "tasks/get", {"id": "nope"}, headers={"X-API-Key": key})
            bad_json = await client.post("/", content=b"{not json", headers={"X-API-Key": key})
            assert bad_json.json()["error"]["code"] == -32700

        async def delivered() -> bool:
            return any(rec.path == "/hook" for rec in r.received)

        await wait_for(delivered)
        hook = next(rec for rec in r.received if rec.path == "/hook")
        assert hook.headers["authorization"] == f"Bearer {secrets['push credentials']}"  # to the webhook only
    finally:
        server.stop()
    log = server.log.read_text()
    assert "push to http://127.0.0.1:" in log, "the log tells of the failed delivery"
    leaked = [name for name, value in secrets.items() if value in log]
    assert not leaked, f"in the log: {leaked}"
