"""Find an agent: fetch its card, and choose which JSON-RPC interface to talk to.

The card is at the URL's host, `/.well-known/agent-card.json` (0.3 §5.3, 1.0 §8.2), else the
pre-0.3 `/.well-known/agent.json`; a URL ending in `.json` is taken as the card's own. Which
interface of a card serves which version is the conformance suite's reading
(`conformance/discovery.py`): `supportedInterfaces` for 1.0, the 0.3 fields (`url`,
`preferredTransport`, `additionalInterfaces`) for 0.3. The client takes 1.0 when the card
offers it (the current protocol, and the one a card lists first when it serves both), else
0.3; `protocol` forces one. Without a card it speaks 0.3 to the URL itself, the version that
had no card rules to follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from a2a_server.client.transport import Unreachable

__all__ = ["CARD_PATHS", "Endpoint", "discover", "fetch_card", "normalize"]

CARD_PATHS = ("/.well-known/agent-card.json", "/.well-known/agent.json")

Version = Literal["0.3", "1.0"]


@dataclass(frozen=True)
class Endpoint:
    """The interface chosen: its URL and version, and the card it came from (if any)."""

    url: str
    version: Version
    card: dict[str, Any] | None = None
    card_url: str | None = None
    notes: tuple[str, ...] = field(default=())  # what the user should know about the choice

    @property
    def name(self) -> str:
        return str((self.card or {}).get("name") or self.url)

    @property
    def streaming(self) -> bool:
        """Whether the card declares streaming (no card: assume it does, and see)."""
        if self.card is None:
            return True
        return (self.card.get("capabilities") or {}).get("streaming") is True


def normalize(url: str) -> str:
    """An absolute http(s) URL (`host:port` gets `http://`)."""
    url = url.strip()
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Unreachable(f"{url!r} is not an http(s) URL")
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def fetch_card(url: str, headers: dict[str, str], timeout: float = 15.0) -> tuple[dict[str, Any] | None, str | None]:
    """The card found for `url` and where it was, or (None, None) when there is none. An
    agent that cannot be reached at all raises `Unreachable`."""
    url = normalize(url)
    parts = urlsplit(url)
    origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    places = [url] if parts.path.endswith(".json") else [origin + p for p in CARD_PATHS]
    reached = False
    with httpx.Client(timeout=timeout, headers=headers, follow_redirects=True) as http:
        for place in places:
            try:
                response = http.get(place, headers={"Accept": "application/json"})
            except httpx.HTTPError as exc:
                if isinstance(exc, httpx.ConnectError | httpx.TimeoutException):
                    raise Unreachable(f"could not connect to {origin}") from None
                continue
            reached = True
            if response.status_code != 200:
                continue
            try:
                card = response.json()
            except ValueError:
                continue
            if isinstance(card, dict):
                return card, place
    if not reached:
        raise Unreachable(f"could not connect to {origin}")
    return None, None


def discover(url: str, headers: dict[str, str], *, protocol: Version | None = None,
             timeout: float = 15.0) -> Endpoint:
    """The endpoint to call for the agent at `url`."""
    from conformance.discovery import find_interfaces  # the suite's reading of cards

    url = normalize(url)
    card, card_url = fetch_card(url, headers, timeout)
    if card is None:
        return Endpoint(url, protocol or "0.3", notes=(
            f"no agent card at {url}: speaking protocol {protocol or '0.3'} to the URL itself",))
    found = find_interfaces(card)
    choice: Version
    if protocol is not None:
        choice = protocol
    else:
        choice = "1.0" if found.v1_0 else "0.3"
    target = found.url(choice)
    notes: tuple[str, ...] = ()
    if target is None:
        if protocol is None:
            target = url
            notes = (f"the card declares no JSON-RPC interface: speaking 0.3 to {url}",)
        else:
            raise Unreachable(f"the card declares no JSON-RPC interface of protocol {protocol}")
    return Endpoint(target, choice, card, card_url, notes)
