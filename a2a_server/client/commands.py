"""The client's commands: `a2a-server call URL [TEXT]` and `a2a-server card URL`.

    a2a-server call URL "calc 12*(3+4)"        one turn, streamed; the exit code says how it ended
    a2a-server call URL                        a chat in one context (/new, /quit)
    a2a-server call URL --task ID "Ada"        answer an input-required task
    a2a-server call URL --context ID "recall"  a new task in a conversation
    a2a-server call URL --send --json "hi"     message/send; the raw JSON-RPC responses
    a2a-server card URL [--json]               any agent's card, checked and shown

Credentials: `--api-key KEY` sends `X-API-Key: KEY`, `--bearer TOKEN` sends
`Authorization: Bearer TOKEN`; `A2A_API_KEY` and `A2A_BEARER_TOKEN` do the same and keep
secrets off the command line (and out of `ps`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from a2a_server.client.transport import ClientError, Unreachable

__all__ = ["add_call_arguments", "run_call", "run_card"]


def add_call_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="the agent: its endpoint or host (the card is read from the host)")
    parser.add_argument("text", nargs="?", help="the message (- reads it from stdin); none: an interactive chat")
    parser.add_argument("--task", metavar="ID", help="continue this task (answer its question)")
    parser.add_argument("--context", metavar="ID", help="stay in this conversation (contextId)")
    parser.add_argument("--send", action="store_true", help="message/send (wait for the task) instead of streaming")
    parser.add_argument("--json", action="store_true", help="print the raw JSON-RPC responses, one per line")
    parser.add_argument("--protocol", choices=("0.3", "1.0"),
                        help="the protocol version to speak (default: 1.0 if the card offers it, else 0.3)")
    add_credential_arguments(parser)


def add_credential_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-key", metavar="KEY", default=os.environ.get("A2A_API_KEY"),
                        help="send X-API-Key: KEY (env A2A_API_KEY)")
    parser.add_argument("--bearer", metavar="TOKEN", default=os.environ.get("A2A_BEARER_TOKEN"),
                        help="send Authorization: Bearer TOKEN (env A2A_BEARER_TOKEN)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to connect and for unary calls (default 30)")


def _credentials(args: argparse.Namespace) -> dict[str, str]:
    headers = {}
    if args.api_key:
        headers["X-API-Key"] = args.api_key
    if args.bearer:
        headers["Authorization"] = f"Bearer {args.bearer}"
    return headers


def run_call(args: argparse.Namespace) -> int:
    from a2a_server.client.discovery import discover
    from a2a_server.client.render import make_renderer
    from a2a_server.client.session import UNREACHABLE, Session, chat, exit_code

    renderer = make_renderer(args.json)
    headers = _credentials(args)
    try:
        endpoint = discover(args.url, headers, protocol=args.protocol, timeout=args.timeout)
    except Unreachable as exc:
        renderer.error(str(exc))
        return UNREACHABLE
    for note in endpoint.notes:
        renderer.info(note)
    session = Session(endpoint, headers, renderer, send=args.send, timeout=args.timeout)
    try:
        if args.text is None:
            return chat(session, task_id=args.task, context_id=args.context)
        text = sys.stdin.read().strip() if args.text == "-" else args.text
        try:
            outcome = session.turn(text, args.task, args.context)
        except KeyboardInterrupt:
            renderer.error("interrupted")
            return 130
        hint = ""
        if outcome.state in ("input-required", "auth-required") and outcome.task_id:
            hint = f'answer with: a2a-server call {args.url} --task {outcome.task_id} "..."'
        renderer.end(outcome, hint)
        return exit_code(outcome)
    except Unreachable as exc:
        renderer.error(str(exc))
        return UNREACHABLE
    except ClientError as exc:
        renderer.error(str(exc))
        return 1
    except BrokenPipeError:  # `call ... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        session.close()


def run_card(args: argparse.Namespace) -> int:
    """Fetch, check and show the card of the agent at `args.url`: 0 valid, 1 problems, 3 no card."""
    from rich.console import Console

    from a2a_server.client.cards import card_problems, show_card
    from a2a_server.client.discovery import fetch_card

    try:
        card, where = fetch_card(args.url, _credentials(args), args.timeout)
    except Unreachable as exc:
        print(f"a2a-server card: {exc}", file=sys.stderr)
        return 3
    if card is None or where is None:
        print(f"a2a-server card: no agent card at {args.url} (/.well-known/agent-card.json, "
              "/.well-known/agent.json)", file=sys.stderr)
        return 3
    problems = card_problems(card)
    if args.json:
        out: dict[str, Any] = {"cardUrl": where, "card": card,
                               "problems": [vars(p) for p in problems]}
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        show_card(card, where, problems, console=Console(highlight=False))
    return 1 if problems else 0
