"""Judge and show any agent's card, for `a2a-server card URL`.

A card may carry 0.3 fields (`url`, `protocolVersion`: the 0.3 AgentCard), 1.0 fields
(`supportedInterfaces`: the 1.0 AgentCard), or both (a merged card, as ours and a2a-sdk
1.3.0's). Each version's part is checked with the conformance suite's own models
(`conformance/shapes.py`, `conformance/shapes_v1.py`), which the test suite proves against
the official 0.3 schema and the normative 1.0 proto; neither is shipped, so the CLI judges
with the models alone. For 1.0 the 0.3 fields beside a 0.3 part are set aside first, as a
1.0 client reading a merged card does (the suite's `v1.card.schema`). Every problem is
listed with its field path, not only the first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

__all__ = ["Problem", "card_problems", "card_sections", "card_versions", "show_card"]


@dataclass(frozen=True)
class Problem:
    version: str  # "0.3", "1.0" or "any"
    path: str  # skills[0].tags
    message: str


def card_versions(card: dict[str, Any]) -> list[str]:
    """The versions whose fields the card carries."""
    versions = []
    if "url" in card or "protocolVersion" in card:
        versions.append("0.3")
    if "supportedInterfaces" in card:
        versions.append("1.0")
    return versions


def card_problems(card: Any) -> list[Problem]:
    """Every problem of the card, against each version it claims to be."""
    if not isinstance(card, dict):
        return [Problem("any", "(root)", "the card is not a JSON object")]
    from conformance.checks.v1_card import ONLY_0_3
    from conformance.shapes import SHAPES as SHAPES_0_3
    from conformance.shapes_v1 import SHAPES as SHAPES_1_0

    versions = card_versions(card)
    if not versions:
        return [Problem("any", "(root)", "neither 0.3 fields (url, protocolVersion) nor 1.0 "
                        "supportedInterfaces: no client can find the agent's endpoint")]
    problems: list[Problem] = []
    if "0.3" in versions:
        problems += _validate(SHAPES_0_3["AgentCard"], card, "0.3")
    if "1.0" in versions:
        v1 = {k: v for k, v in card.items() if k not in ONLY_0_3} if "0.3" in versions else card
        problems += _validate(SHAPES_1_0["AgentCard"], v1, "1.0")
    return problems


def _validate(adapter: Any, card: dict[str, Any], version: str) -> list[Problem]:
    try:
        adapter.validate_python(card)
    except ValidationError as exc:
        return [Problem(version, _path(e["loc"]), _message(e, version))
                for e in exc.errors(include_url=False, include_input=False)]
    return []


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def _message(error: Any, version: str) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required, missing"
    if kind == "extra_forbidden":
        return f"not a field of the {version} card here"
    return str(error["msg"])


Section = tuple[str, list[tuple[str, str]]]


def card_sections(card: dict[str, Any]) -> list[Section]:
    """The card as titled rows of (label, value): what both renderings show."""
    caps: dict[str, Any] = card["capabilities"] if isinstance(card.get("capabilities"), dict) else {}
    about = [("name", str(card.get("name", ""))), ("description", str(card.get("description", ""))),
             ("version", str(card.get("version", "")))]
    provider = card.get("provider")
    if isinstance(provider, dict):
        about.append(("provider", f"{provider.get('organization', '')} {provider.get('url', '')}".strip()))
    for key in ("documentationUrl", "iconUrl"):
        if key in card:
            about.append((key, str(card[key])))
    interfaces = []
    for entry in card.get("supportedInterfaces") or []:
        if isinstance(entry, dict):
            interfaces.append((f"{entry.get('protocolBinding')} {entry.get('protocolVersion')}",
                               str(entry.get("url"))))
    if "url" in card:
        interfaces.append((f"{card.get('preferredTransport', 'JSONRPC')} {card.get('protocolVersion', '?')} (0.3 url)",
                           str(card["url"])))
    for entry in card.get("additionalInterfaces") or []:
        if isinstance(entry, dict):
            interfaces.append((f"{entry.get('transport')} (0.3 additional)", str(entry.get("url"))))
    capabilities: list[tuple[str, str]] = [(k, _yes(caps.get(k))) for k in ("streaming", "pushNotifications", "extendedAgentCard")
                    if k in caps]
    if "supportsAuthenticatedExtendedCard" in card:
        capabilities.append(("extended card (0.3)", _yes(card["supportsAuthenticatedExtendedCard"])))
    for ext in caps.get("extensions") or []:
        if isinstance(ext, dict):
            capabilities.append(("extension", f"{ext.get('uri')}{' (required)' if ext.get('required') else ''}"))
    security = [(str(name), _scheme(s)) for name, s in (card.get("securitySchemes") or {}).items()] \
        if isinstance(card.get("securitySchemes"), dict) else []
    skills = []
    for s in card.get("skills") or []:
        if isinstance(s, dict):
            value = str(s.get("description", ""))
            if s.get("examples"):
                value += "\n  try: " + " · ".join(str(e) for e in s["examples"])
            skills.append((f"{s.get('name', '')} ({s.get('id', '')})", value))
    sections: list[Section] = [("Agent", about), ("Interfaces", interfaces), ("Capabilities", capabilities)]
    if security:
        sections.append(("Security schemes", security))
    sections.append(("Skills", skills))
    return sections


def _yes(value: Any) -> str:
    return "yes" if value is True else "no" if value in (False, None) else json.dumps(value)


def _scheme(scheme: Any) -> str:
    if not isinstance(scheme, dict):
        return json.dumps(scheme)
    if "type" in scheme:  # 0.3: OpenAPI style
        detail = scheme.get("scheme") or scheme.get("name") or ""
        return f"{scheme['type']} {detail}".strip()
    return ", ".join(scheme)  # 1.0: a oneof wrapper, named by its member


def show_card(card: dict[str, Any], source: str, problems: list[Problem], *, console: Any = None) -> None:
    """Print the card and its problems: rich tables on a terminal, plain lines elsewhere."""
    versions = card_versions(card) if isinstance(card, dict) else []
    verdicts = [(v, [p for p in problems if p.version in (v, "any")]) for v in versions] or [("any", problems)]
    if console is not None and console.is_terminal:
        _show_rich(console, card, source, verdicts)
        return
    print(f"card: {source}")
    for title, rows in card_sections(card) if isinstance(card, dict) else []:
        print(f"\n{title}")
        for label, value in rows:
            print(f"  {label}: {value}".replace("\n", "\n  "))
    print()
    for version, found in verdicts:
        if not found:
            print(f"valid {version} card ({_against(version)})")
        for p in found:
            print(f"problem ({p.version}) {p.path}: {p.message}")


def _against(version: str) -> str:
    return "the 0.3 JSON schema's shapes" if version == "0.3" else "the 1.0 proto's shapes"


def _show_rich(console: Any, card: dict[str, Any], source: str, verdicts: list[tuple[str, list[Problem]]]) -> None:
    from rich.table import Table
    from rich.text import Text

    console.print(Text(f"card: {source}", style="dim"))
    for title, rows in card_sections(card):
        table = Table(title=title, title_justify="left", title_style="bold", show_header=False,
                      box=None, padding=(0, 2, 0, 0), expand=False)
        table.add_column(style="cyan", no_wrap=True)
        table.add_column()
        for label, value in rows:
            table.add_row(label, Text(value))
        console.print(table)
        console.print()
    for version, found in verdicts:
        if not found:
            console.print(Text(f"✓ valid {version} card ({_against(version)})", style="bold green"))
        for p in found:
            line = Text(f"✗ {p.version} ", style="bold red")
            line.append(p.path, style="bold")
            line.append(f": {p.message}")
            console.print(line)
