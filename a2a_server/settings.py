"""One frozen `Settings` for the whole server.

Every field is also a CLI flag (`--coalesce-ms`) and an environment variable
(`A2A_SERVER_COALESCE_MS`); `cli.py` derives both from the field list here, so a setting is
declared exactly once. Flags win over the environment, the environment over the default.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ENV_PREFIX", "Settings", "env_name", "field_kind"]

ENV_PREFIX = "A2A_SERVER_"

_LIMIT_DEFAULTS = {"rate_limit": 50.0, "max_streams": 32, "max_pending_tasks": 1000}
"""The limits per principal in force when a scheme is configured and a limit is not set."""


def _opt(default: Any, help: str, **extra: Any) -> Any:
    return field(default=default, metadata={"help": help, **extra})


@dataclass(frozen=True)
class Settings:
    """Server configuration, read once at start-up."""

    host: str = _opt("127.0.0.1", "interface to listen on")
    port: int = _opt(8000, "TCP port to listen on")
    workers: int = _opt(1, "server processes on the port (uvicorn's workers), sharing the store")
    agent: str = _opt("demo", "the runner: demo, conformance, or MODULE:ATTR")
    public_url: str | None = _opt(None, "public URL of the JSON-RPC endpoint (for the card)")
    model: str | None = _opt(None, "--agent openai: the model name")
    openai_base_url: str | None = _opt(
        None, "--agent openai: an OpenAI-compatible server (else OPENAI_BASE_URL, else OpenAI)"
    )
    openai_api_key: str | None = _opt(None, "--agent openai: the API key (else OPENAI_API_KEY)")
    tools: str | None = _opt(None, "--agent openai: MODULE:ATTR of a list of tools")
    system_prompt: str = _opt("You are a helpful assistant.", "--agent openai: system prompt")
    max_steps: int = _opt(8, "--agent openai: model calls per turn before the task fails")
    max_tokens_per_task: int = _opt(
        200_000, "--agent openai: tokens per task before the task fails"
    )
    model_retries: int = _opt(3, "--agent openai: retries (with backoff) on 429 and 5xx")
    store: str = _opt(
        "sqlite:///a2a-server.db",
        "task store: sqlite:///PATH (a file that survives restarts; ?synchronous=full: power "
        "losses too), redis://HOST:PORT/DB (several replicas) or memory",
    )
    lease_seconds: float = _opt(
        5.0, "a replica's hold on a task it runs; renewed every third of it, taken over once it lapses"
    )
    ticket_deadline_seconds: float = _opt(3600.0, "a deferred tool ticket expires after this")
    max_pending_tickets: int = _opt(256, "pending deferred tool tickets allowed per task")
    retention_seconds: float = _opt(3 * 24 * 3600.0, "ended tasks are purged after this")
    sweep_seconds: float = _opt(1.0, "how often expired tickets and old tasks are swept")
    push_allow_hosts: str | None = _opt(
        None, "webhook hosts allowed despite the SSRF guard, comma-separated (e.g. localhost)"
    )
    push_retry_window: float = _opt(
        24 * 3600.0, "seconds a push notification is retried for before it is dropped"
    )
    push_timeout_seconds: float = _opt(10.0, "timeout of one webhook POST")
    push_backoff_seconds: float = _opt(1.0, "first retry delay of a webhook; it doubles, with jitter")
    push_backoff_max_seconds: float = _opt(300.0, "the longest retry delay of a webhook")
    push_signing_secret: str | None = _opt(
        None, "sign webhook bodies with HMAC-SHA256 (header X-A2A-Signature)"
    )
    coalesce_ms: float = _opt(5.0, "merge text deltas arriving within this window; 0 = off")
    turn_slice_ms: float = _opt(
        2.0, "turns that never wait share this much of each go round of the loop (an "
        "eighth of it while a request is served); 0 = off"
    )
    max_body_bytes: int = _opt(10 * 1024 * 1024, "largest accepted request body (HTTP 413 above)")
    lenient_messages: bool = _opt(
        False, "accept messages without role/messageId (role user, generated id)"
    )
    memory_messages: int = _opt(50, "messages of conversation memory kept per context")
    keepalive_seconds: float = _opt(15.0, "SSE keep-alive comment interval on idle streams")
    api_keys: str | None = _opt(
        None, "a file of API keys, a line `PRINCIPAL KEY` each (re-read when it changes); "
        "clients send X-API-Key"
    )
    jwt_jwks: str | None = _opt(None, "bearer JWTs: the signing keys, a JWKS file or URL")
    jwt_issuer: str | None = _opt(None, "bearer JWTs: the issuer (iss) they must carry")
    jwt_audience: str | None = _opt(None, "bearer JWTs: the audience (aud) they must carry")
    jwt_required_scope: str | None = _opt(None, "bearer JWTs: a scope every token must grant (403 without)")
    oauth_metadata_url: str | None = _opt(
        None, "the authorization server's metadata (RFC 8414 or OpenID discovery), for the card"
    )
    ticket_principals: str | None = _opt(
        None, "principals (besides a task's owner) that may settle its tickets, comma-separated"
    )
    extended_card: str | None = _opt(
        None, "a JSON file merged over the public card for authenticated callers (more skills...)"
    )
    ssl_certfile: str | None = _opt(None, "serve HTTPS: the certificate (PEM)")
    ssl_keyfile: str | None = _opt(None, "serve HTTPS: the private key (PEM)")
    rate_limit: float | None = _opt(
        None, "requests per second per principal (token bucket; HTTP 429); default 50 with "
        "auth, off without; 0 = off"
    )
    max_streams: int | None = _opt(
        None, "open streams per principal (HTTP 429); default 32 with auth, off without; 0 = off"
    )
    max_pending_tasks: int | None = _opt(
        None, "tasks not yet ended per principal (-32053); default 1000 with auth, off without; 0 = off"
    )
    agent_name: str | None = _opt(None, "agent card name (default: the runner's)")
    agent_description: str | None = _opt(None, "agent card description (default: the runner's)")
    agent_version: str = _opt("0.1.0", "agent card version")
    card_format: str = _opt(
        "merged",
        "the card's form: merged (one card for 0.3 and 1.0 clients), 1.0 or 0.3 (one version's "
        "card alone, for validators that reject the other's fields)",
    )
    required_extensions: str | None = _opt(
        None, "extension URIs a 1.0 client must declare in A2A-Extensions, comma-separated (-32008)"
    )
    log_level: str = _opt("info", "log level: debug, info, warning, error")
    log_format: str = _opt(
        "text", "log lines: text, or json (one object per line, with the request's method, task, "
        "context, principal and duration)"
    )

    def __post_init__(self) -> None:
        if self.log_format not in ("text", "json"):
            raise ValueError(f"--log-format must be text or json, not {self.log_format!r}")
        if self.card_format not in ("merged", "1.0", "0.3"):
            raise ValueError(f"--card-format must be merged, 1.0 or 0.3, not {self.card_format!r}")
        if self.workers < 1:
            raise ValueError("--workers must be 1 or more")
        if self.workers > 1 and self.store == "memory":
            raise ValueError("--workers needs a store the workers share: sqlite:///PATH or redis://")
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise ValueError("--ssl-certfile and --ssl-keyfile go together")
        if self.jwt_jwks and not (self.jwt_issuer and self.jwt_audience):
            raise ValueError("--jwt-jwks needs --jwt-issuer and --jwt-audience (tokens are checked for both)")
        if self.extended_card and not (self.api_keys or self.jwt_jwks):
            # served to anyone, it would be the public card by another name (and the 0.3
            # kit checks that an unauthenticated caller is refused it)
            raise ValueError("--extended-card is for authenticated callers: it needs --api-keys or --jwt-jwks")
        if (self.jwt_required_scope or self.oauth_metadata_url) and not self.jwt_jwks:
            raise ValueError("--jwt-required-scope and --oauth-metadata-url need --jwt-jwks")
        for name in _LIMIT_DEFAULTS:
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"--{name.replace('_', '-')} must be 0 (off) or more")

    def environment(self) -> dict[str, str]:
        """These settings as `A2A_SERVER_*` variables (those that differ from the defaults),
        for processes that rebuild them with `from_env`."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value != f.default and value is not None:
                out[env_name(f.name)] = str(value).lower() if isinstance(value, bool) else str(value)
        return out

    @property
    def rpc_url(self) -> str:
        """The URL clients post JSON-RPC to, as published in the agent card (https when the
        server serves TLS)."""
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        scheme = "https" if self.ssl_certfile else "http"
        return f"{scheme}://{host}:{self.port}/"

    @property
    def authenticates(self) -> bool:
        """Whether any authentication scheme is configured."""
        return bool(self.api_keys or self.jwt_jwks)

    def limit(self, name: str) -> float | None:
        """The limit `rate_limit`, `max_streams` or `max_pending_tasks` in force: as set (0:
        none), else its default when a scheme is configured, else none."""
        value = getattr(self, name)
        if value is None:
            return _LIMIT_DEFAULTS[name] if self.authenticates else None
        return value or None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from `A2A_SERVER_*` variables, then `overrides` (None means not given)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(env_name(f.name))
            if raw is not None and raw != "":
                values[f.name] = _parse(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def env_name(field_name: str) -> str:
    """The environment variable for a settings field."""
    return ENV_PREFIX + field_name.upper()


def field_kind(f: dataclasses.Field[Any]) -> str:
    """"int", "float", "bool" or "str": what a flag or variable of this field holds."""
    return str(f.type).removesuffix(" | None")


def _parse(f: dataclasses.Field[Any], raw: str) -> Any:
    kind = field_kind(f)
    if kind == "bool":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{env_name(f.name)} must be true or false, not {raw!r}")
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ValueError(f"{env_name(f.name)} must be a number, not {raw!r}") from None
    return raw
