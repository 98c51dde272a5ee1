"""Which JSON-RPC interface of a card serves which protocol version.

A 1.0 card lists `supportedInterfaces` (spec 1.0 §8.3.1): `{url, protocolBinding,
protocolVersion}`, in order of preference. A 0.3 card names its endpoint with `url` and
`preferredTransport`, and lists others in `additionalInterfaces` (spec 0.3 §5.6); a card
serving both carries both (the merged card of SDK 1.3.0 and ours). A 0.3 client reads the 0.3
fields, so they win for 0.3; a `supportedInterfaces` entry of protocolVersion 0.x counts too.

Binding names are compared case-blind here, so that a card spelling `jsonrpc` is still tested
(and the card check fails the spelling) instead of looking like a card without JSON-RPC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Interfaces", "Version", "find_interfaces", "first_jsonrpc", "jsonrpc_0_3_url", "jsonrpc_v1"]

Version = Literal["0.3", "1.0"]


@dataclass(frozen=True)
class Interfaces:
    """The JSON-RPC URL the card gives each version, or None when it declares none."""

    v0_3: str | None = None
    v1_0: str | None = None
    why: str = ""  # when both are None: what was missing

    def url(self, version: Version) -> str | None:
        return self.v0_3 if version == "0.3" else self.v1_0


def find_interfaces(card: dict[str, Any] | None) -> Interfaces:
    if card is None:
        return Interfaces(why="no agent card")
    v1 = jsonrpc_v1(card)
    old = jsonrpc_0_3_url(card) or _url(_supported(card, lambda v: v.startswith("0.")))
    return Interfaces(old, _url(v1), "" if old or v1 else "the card declares no JSON-RPC interface")


def jsonrpc_0_3_url(card: dict[str, Any]) -> str | None:
    """The JSON-RPC URL of the 0.3 fields: `url` if JSON-RPC is preferred, else the
    additionalInterfaces entry for JSONRPC."""
    if card.get("preferredTransport", "JSONRPC") == "JSONRPC" and isinstance(card.get("url"), str):
        return card["url"]  # type: ignore[no-any-return]
    for interface in card.get("additionalInterfaces") or []:
        if isinstance(interface, dict) and interface.get("transport") == "JSONRPC" and isinstance(interface.get("url"), str):
            return interface["url"]  # type: ignore[no-any-return]
    return None


def jsonrpc_v1(card: dict[str, Any]) -> dict[str, Any] | None:
    """The first supportedInterfaces entry for JSON-RPC in a protocol version 1.x."""
    return _supported(card, lambda v: v.split(".")[0] == "1")


def first_jsonrpc(card: dict[str, Any]) -> dict[str, Any] | None:
    """The first supportedInterfaces entry for JSON-RPC, whatever its version: the one
    clients that look only at the binding take (the 1.0 kit, fasta2a)."""
    return _supported(card, lambda v: True)


def _supported(card: dict[str, Any], version_ok: Any) -> dict[str, Any] | None:
    for interface in _entries(card):
        binding, version = interface.get("protocolBinding"), interface.get("protocolVersion")
        if isinstance(binding, str) and binding.upper() == "JSONRPC" and isinstance(version, str) and version_ok(version):
            return interface
    return None


def _entries(card: dict[str, Any]) -> list[dict[str, Any]]:
    listed = card.get("supportedInterfaces")
    return [i for i in listed if isinstance(i, dict)] if isinstance(listed, list) else []


def _url(interface: dict[str, Any] | None) -> str | None:
    url = interface.get("url") if interface else None
    return url if isinstance(url, str) else None
