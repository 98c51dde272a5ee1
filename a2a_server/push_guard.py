"""The SSRF guard for webhook URLs (1.0 spec §13.2; a2a-protocol.md §9).

A webhook must be http(s), and its host must not be, or resolve to, a loopback, private,
link-local (cloud metadata: 169.254.169.254, fd00:ec2::254), multicast, reserved or
otherwise non-global address, unless the host is allowlisted (`--push-allow-hosts`).
Literal addresses and names like `localhost` are judged at once; a name that does not
resolve is let through at set time (DNS can fail for a while) and judged again at every
delivery, since what a name points to can change. At delivery the POST goes to the very
address that was judged (no second lookup a rebinding DNS could answer differently).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Collection
from urllib.parse import urlsplit

__all__ = ["BlockedURL", "Resolver", "check_url", "parse_allow_hosts", "system_resolver"]

Resolver = Callable[[str], Awaitable[list[str]]]
"""Host name -> its addresses (raises OSError when it does not resolve)."""

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class BlockedURL(ValueError):
    """The URL may not receive webhooks; the message says why (safe to show)."""


def parse_allow_hosts(raw: str | None) -> frozenset[str]:
    return frozenset(h.strip().lower().strip("[]") for h in (raw or "").split(",") if h.strip())


async def system_resolver(host: str) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def check_url(
    url: str,
    allow: Collection[str],
    *,
    resolve: Resolver = system_resolver,
    unresolved_ok: bool,
    timeout: float = 3.0,
) -> str | None:
    """Raise BlockedURL unless `url` may receive webhooks; return the address that was
    checked, for the caller to connect to (None for an allowlisted or unresolved host).
    `unresolved_ok`: at set time, a name that does not resolve passes (it is checked again
    at delivery)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedURL("the webhook URL must be http or https")
    try:
        parts.port  # noqa: B018  (raises on a port out of range)
    except ValueError:
        raise BlockedURL("the webhook URL has an invalid port") from None
    host = (parts.hostname or "").lower().rstrip(".")  # "localhost." is localhost
    if not host:
        raise BlockedURL("the webhook URL has no host")
    if host in allow:
        return None
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if host in _LOCAL_NAMES or host.endswith(".localhost"):
            raise BlockedURL(f"webhooks to {host} are not allowed (loopback)") from None
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve(host)
        except (OSError, TimeoutError):
            if unresolved_ok:
                return None
            raise BlockedURL(f"the webhook host {host} does not resolve") from None
    if not addresses:
        raise BlockedURL(f"the webhook host {host} has no address")
    for address in addresses:
        why = _forbidden(ipaddress.ip_address(address))
        if why:
            raise BlockedURL(f"webhooks to {host} are not allowed ({why} address {address})")
    return addresses[0]


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _forbidden(ip.ipv4_mapped)
    for name in ("loopback", "link_local", "multicast", "private", "reserved", "unspecified"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    if not ip.is_global:
        return "non-global"
    return None
