"""The `a2a-server` console script.

    a2a-server serve [--host H] [--port P] [--agent demo|conformance|MODULE:ATTR] ...
    a2a-server card  [same flags]          print the agent card the server would publish
    a2a-server card URL [--json]           fetch any agent's card, check it, show it
    a2a-server call URL [TEXT] [--task ID] [--context ID] [--send] [--json]
                                           talk to any A2A agent (0.3 or 1.0); no TEXT: a chat
    a2a-server conformance URL [--json F]  check any A2A endpoint against the protocol

Every flag comes from a `Settings` field and also reads `A2A_SERVER_<FIELD>` from the
environment; a flag given on the command line wins.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence

from a2a_server.logs import configure as configure_logs
from a2a_server.runner.loader import RunnerLoadError, load_runner
from a2a_server.settings import Settings, env_name, field_kind

__all__ = ["main"]


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    for f in dataclasses.fields(Settings):
        flag = "--" + f.name.replace("_", "-")
        help_text = f"{f.metadata.get('help', '')} (env {env_name(f.name)}; default {f.default})"
        kind = field_kind(f)
        if kind == "bool":
            parser.add_argument(
                flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                help=help_text,
            )
        else:
            convert = {"int": int, "float": float}.get(kind, str)
            parser.add_argument(flag, dest=f.name, type=convert, default=None, help=help_text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="a2a-server", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the A2A server")
    _add_settings_flags(serve)
    card = commands.add_parser("card", help="print the agent card (ours, or any agent's at URL)")
    _add_settings_flags(card)
    # the client's commands (a2a_server/client): `card URL` checks any agent's card
    from a2a_server.client.commands import add_call_arguments, add_credential_arguments

    card.add_argument("url", nargs="?", help="an agent's URL: fetch, check and show its card instead")
    card.add_argument("--json", action="store_true", help="with URL: the card and its problems as JSON")
    add_credential_arguments(card)
    add_call_arguments(commands.add_parser("call", help="talk to any A2A agent (0.3 or 1.0)"))
    from conformance.cli import add_arguments

    add_arguments(commands.add_parser("conformance", help="check any A2A endpoint against the protocol"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "call" and args.text is None and len(extra) == 1 and not extra[0].startswith("-"):
        args.text = extra[0]  # `call URL --flag TEXT`: argparse leaves a late positional over
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "conformance":
        from conformance.cli import run

        return run(args)
    if args.command == "call" or (args.command == "card" and args.url):
        from a2a_server.client.commands import run_call, run_card

        return run_call(args) if args.command == "call" else run_card(args)
    overrides = {f.name: getattr(args, f.name, None) for f in dataclasses.fields(Settings)}
    try:
        settings = Settings.from_env(**overrides)
        runner = load_runner(settings.agent, settings)
    except (ValueError, RunnerLoadError) as exc:
        print(f"a2a-server: {exc}", file=sys.stderr)
        return 2

    from a2a_server.app import create_app, public_card

    if args.command == "card":
        print(json.dumps(public_card(settings, runner), indent=2))
        return 0
    configure_logs(settings.log_level, settings.log_format)
    try:
        app = create_app(settings, runner, own_process=True)  # one worker serves it; with more, each builds its own
    except ValueError as exc:  # a store it cannot open, say
        print(f"a2a-server: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    print(f"a2a-server: {runner.name} at {settings.rpc_url} (card: "
          f"{settings.rpc_url.rstrip('/')}/.well-known/agent-card.json"
          f"{f'; {settings.workers} workers' if settings.workers > 1 else ''})", file=sys.stderr)
    # uvicorn's lines go through our handler (log_config None), in our form; its access log
    # is off: ours (`logs.access`) says more
    serve = dict(host=settings.host, port=settings.port, log_level=settings.log_level, access_log=False,
                 log_config=None)
    if settings.ssl_certfile:  # HTTPS, uvicorn's; the card's URLs say https (Settings.rpc_url)
        serve.update(ssl_certfile=settings.ssl_certfile, ssl_keyfile=settings.ssl_keyfile)
    if settings.workers == 1:
        uvicorn.run(app, **serve)  # type: ignore[arg-type]
        return 0
    # uvicorn's workers are processes started afresh: they read these settings back from the
    # environment (`app_from_environment`), and share the store as replicas do
    os.environ.update(settings.environment())
    uvicorn.run("a2a_server.app:app_from_environment", factory=True, workers=settings.workers, **serve)  # type: ignore[arg-type]
    return 0
