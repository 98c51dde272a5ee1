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

__all__ = ["ENV_PREFIX", "Settings", "env_name"]

ENV_PREFIX = "A2A_SERVER_"


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
        "task store: sqlite:///PATH (a file that survives restarts), redis://HOST:PORT/DB "
        "(several replicas) or memory",
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
    max_body_bytes: int = _opt(10 * 1024 * 1024, "largest accepted request body (HTTP 413 above)")
    lenient_messages: bool = _opt(
        False, "accept messages without role/messageId (role user, generated id)"
    )
    memory_messages: int = _opt(50, "messages of conversation memory kept per context")
    keepalive_seconds: float = _opt(15.0, "SSE keep-alive comment interval on idle streams")
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

    def __post_init__(self) -> None:
        if self.card_format not in ("merged", "1.0", "0.3"):
            raise ValueError(f"--card-format must be merged, 1.0 or 0.3, not {self.card_format!r}")
        if self.workers < 1:
            raise ValueError("--workers must be 1 or more")
        if self.workers > 1 and self.store == "memory":
            raise ValueError("--workers needs a store the workers share: sqlite:///PATH or redis://")

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
        """The URL clients post JSON-RPC to, as published in the agent card."""
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

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


def _parse(f: dataclasses.Field[Any], raw: str) -> Any:
    kind = str(f.type)
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
