"""The chat page, served by the server itself: `GET /` and GET on the JSON-RPC path (where
0.3 clients may look), its scripts and styles under `/ui/`.

Static files, no build step and no CDN (the page must work offline): `index.html`,
`style.css` and ES modules (`app.js`, the controller and view; `a2a.js`, a 1.0 JSON-RPC
client over fetch and a stream reader; `store.js`, conversations in localStorage). They are
read once, when the app is built, and served with an ETag and a Content-Security-Policy that
lets the page load only itself and talk only to its own origin.

Only a browser gets the page: a GET whose `Accept` names `text/html`. Anything else (curl's
`*/*`, a client asking for JSON) keeps the endpoint's 405, which says POST is the method.
"""

from __future__ import annotations

import hashlib
from importlib import resources

from starlette.types import Receive, Scope, Send

__all__ = ["ASSET_PREFIX", "Page", "wants_page"]

ASSET_PREFIX = "/ui/"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
_ASSETS = ("app.js", "a2a.js", "store.js", "style.css")
_SECURITY = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def wants_page(scope: Scope) -> bool:
    """A browser's GET (or HEAD) of a page: its Accept names text/html."""
    if scope["method"] not in ("GET", "HEAD"):
        return False
    accept = next((v for k, v in scope["headers"] if k == b"accept"), b"").decode("latin-1")
    return "text/html" in accept.lower()


class _File:
    def __init__(self, name: str) -> None:
        self.body = resources.files(__package__).joinpath(name).read_bytes()
        self.type = _TYPES[name[name.rindex("."):]]
        self.etag = f'"{hashlib.sha256(self.body).hexdigest()[:24]}"'


class Page:
    """The page and its assets, as ASGI apps: `index` for the page, `assets` for `/ui/*`."""

    def __init__(self) -> None:
        self._index = _File("index.html")
        self._assets = {name: _File(name) for name in _ASSETS}

    async def index(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _serve(self._index, scope, send)

    async def assets(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path"].rsplit("/", 1)[-1]
        found = self._assets.get(name)
        if found is None or scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 404, b"Not Found", "text/plain; charset=utf-8", {})
            return
        await _serve(found, scope, send)


async def _serve(f: _File, scope: Scope, send: Send) -> None:
    headers = {**_SECURITY, "etag": f.etag, "cache-control": "no-cache"}
    if any(k == b"if-none-match" and v.decode("latin-1") == f.etag for k, v in scope["headers"]):
        await _respond(send, 304, b"", f.type, headers)
        return
    await _respond(send, 200, b"" if scope["method"] == "HEAD" else f.body, f.type, headers,
                   length=len(f.body))


async def _respond(send: Send, status: int, body: bytes, content_type: str,
                   headers: dict[str, str], length: int | None = None) -> None:
    raw = [(b"content-type", content_type.encode()),
           (b"content-length", str(len(body) if length is None else length).encode()),
           *((k.encode(), v.encode()) for k, v in headers.items())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
