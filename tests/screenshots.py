"""The README's screenshots of the chat page, at desktop and phone widths:

    python -m tests.screenshots docs/

A live demo server, headless Chromium, and a short conversation that shows what the page
does: a tool call, a deferred ticket, a question asked back."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from a2a_server import Settings, create_app
from a2a_server.runner.demo import DemoRunner
from tests.browser import DESKTOP, PHONE, chromium
from tests.conftest import LiveServer, free_port


def _say(page: Any, text: str, state: str = "completed") -> None:
    page.fill("#prompt", text)
    page.press("#prompt", "Enter")
    page.locator(".turn").last.locator(f".state.{state}").wait_for()


def shoot(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        app = create_app(Settings(port=port, store=f"sqlite:///{tmp}/tasks.db"),
                         DemoRunner(token_delay=0.01, build_seconds=1.0))
        server = LiveServer(app, port)
        server.start()
        made = []
        try:
            with chromium() as browser:
                desktop = browser.new_page(viewport={**DESKTOP, "height": 940}, device_scale_factor=1)
                desktop.goto(server.url + "/")
                desktop.wait_for_selector(".suggestion")
                desktop.click(".suggestion >> text=time")
                desktop.locator(".turn").last.locator(".state.completed").wait_for()
                desktop.click("#new-chat")
                desktop.click(".suggestion >> text=calc 12*(3+4)")
                desktop.locator(".turn").last.locator(".state.completed").wait_for()
                _say(desktop, "build website")
                _say(desktop, "ask me", "input-required")
                desktop.locator(".turn").last.get_by_label("Your answer").fill("Ada")
                desktop.evaluate("() => { const log = document.querySelector('#log'); log.style.scrollBehavior = 'auto'; log.scrollTop = log.scrollHeight; }")
                made.append(folder / "chat-desktop.png")
                desktop.screenshot(path=str(made[-1]))
                phone = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
                phone.goto(server.url + "/")
                phone.wait_for_selector(".suggestion")  # a context of its own: no conversations yet
                made.append(folder / "chat-phone-welcome.png")
                phone.screenshot(path=str(made[-1]))
                _say(phone, "calc 12*(3+4)")
                phone.fill("#prompt", "build website")
                phone.press("#prompt", "Enter")
                phone.locator(".turn").last.locator(".act.ticket.pending").wait_for()
                phone.wait_for_timeout(300)  # a few words of the answer
                made.append(folder / "chat-phone.png")
                phone.screenshot(path=str(made[-1]))
        finally:
            server.stop()
    return made


if __name__ == "__main__":
    for path in shoot(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")):
        print(path)
