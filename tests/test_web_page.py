"""The chat page in a real browser (headless Chromium through Playwright) against a live
server: suggestions from the card, the answer streaming in, tool and ticket lines, a
question answered in place, cancel, and conversations that survive a reload."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from a2a_server.runner.demo import DemoRunner
from tests.browser import DESKTOP, PHONE, chromium
from tests.conftest import LiveServer, in_process
from tests.procs import ROOT


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def server(live_server: Callable[..., LiveServer]) -> LiveServer:
    return live_server(runner=DemoRunner(token_delay=0.03, build_seconds=1.5))


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/")
    page.wait_for_selector(".suggestion")
    yield page
    context.close()
    assert not errors, errors


def last_turn(page: Any) -> Any:
    return page.locator(".turn").last


@pytest.mark.anyio
async def test_the_page_is_served_to_browsers_only() -> None:
    async with in_process() as client:
        html = await client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in html.headers["content-security-policy"]
        assert '<script type="module" src="ui/app.js">' in html.text
        assert (await client.get("/", headers={"Accept": "application/json"})).status_code == 405
        assert (await client.get("/")).status_code == 405  # curl's */*: the endpoint's answer
        for name, kind in (("app.js", "text/javascript"), ("a2a.js", "text/javascript"),
                           ("store.js", "text/javascript"), ("style.css", "text/css")):
            asset = await client.get(f"/ui/{name}")
            assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
            again = await client.get(f"/ui/{name}", headers={"If-None-Match": asset.headers["etag"]})
            assert again.status_code == 304
        assert (await client.get("/ui/../app.py")).status_code == 404
    async with in_process(public_url="http://127.0.0.1:8000/a2a") as client:
        page = await client.get("/a2a", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "ui/app.js" in page.text


def test_the_card_shows_with_suggestions(page: Any) -> None:
    assert page.locator("#agent-name").inner_text() == DemoRunner.name
    names = page.locator(".skill h3").all_inner_texts()
    assert "Calculator" in names and "Background build" in names
    suggestions = page.locator(".suggestion").all_inner_texts()
    assert {"time", "calc 12*(3+4)", "build website", "ask me", "fail"} <= set(suggestions)


def test_a_suggestion_streams_an_answer_with_a_tool_line(page: Any) -> None:
    page.click(".suggestion >> text=calc 12*(3+4)")
    turn = last_turn(page)
    turn.locator(".state.completed").wait_for()
    assert turn.locator(".bubble").inner_text() == "calc 12*(3+4)"
    tool = turn.locator(".act.tool")
    assert tool.locator(".what").inner_text() == "calculator"
    assert "84" in tool.locator(".detail").inner_text() and "ok" in tool.get_attribute("class")
    assert turn.locator(".answer").inner_text() == "12*(3+4) = 84"
    page.fill("#prompt", "broken tool")
    page.press("#prompt", "Enter")
    failed = last_turn(page).locator(".act.tool.fail")
    failed.wait_for()
    assert "the broken tool always fails" in failed.inner_text()


def test_text_streams_in_before_the_turn_ends(page: Any) -> None:
    page.fill("#prompt", " ".join(f"w{i}" for i in range(80)))
    page.press("#prompt", "Enter")
    answer = last_turn(page).locator(".answer")
    page.wait_for_function("() => /w5\\b/.test(document.querySelector('.turn:last-child .answer').textContent)")
    partial = answer.inner_text()
    assert "w79" not in partial, "the answer shows while it is generated"
    assert last_turn(page).locator(".state.live").count() == 1
    last_turn(page).locator(".state.completed").wait_for()
    assert answer.inner_text().endswith("w78 w79")


def test_a_ticket_shows_pending_then_resolved(page: Any) -> None:
    page.click(".suggestion >> text=build website")
    turn = last_turn(page)
    pending = turn.locator(".act.ticket.pending")
    pending.wait_for()
    assert re.search(r"build: ticket build-\w+", pending.inner_text())
    assert turn.locator(".state.working").count() == 1
    turn.locator(".act.ticket.ok").wait_for()
    turn.locator(".state.completed").wait_for()
    assert "Build of website finished: success." in turn.locator(".answer").inner_text()
    assert turn.locator(".attachment summary").inner_text() == "build result"


def test_a_question_is_answered_in_place(page: Any) -> None:
    page.click(".suggestion >> text=ask me")
    turn = last_turn(page)
    turn.locator(".state.input-required").wait_for()
    assert turn.locator(".question-text").inner_text() == "Happy to. What should I call you?"
    assert page.get_attribute("#prompt", "placeholder") == "Answer the agent's question…"
    field = turn.get_by_label("Your answer")
    field.fill("Ada")
    field.press("Enter")
    answer = last_turn(page)
    answer.locator(".state.completed").wait_for()
    assert answer.locator(".answer").inner_text() == "Nice to meet you, Ada!"
    ids = page.locator(".turn .ids").evaluate_all("els => els.map(e => e.title.split('\\n')[0])")
    assert ids[0] == ids[1], "the answer went to the same task"
    assert page.locator(".question:not([hidden]) .answer-form").count() == 0, "the question is answered"


def test_cancel_a_long_task(page: Any) -> None:
    page.fill("#prompt", " ".join(f"w{i}" for i in range(400)))
    page.press("#prompt", "Enter")
    page.wait_for_function("() => /w3\\b/.test(document.querySelector('.turn:last-child .answer').textContent)")
    assert page.is_visible("#cancel") and not page.is_visible("#send")
    page.click("#cancel")
    last_turn(page).locator(".state.canceled").wait_for()
    assert "w399" not in last_turn(page).locator(".answer").inner_text()
    assert page.is_visible("#send")


def test_failure_shows_its_reason(page: Any) -> None:
    page.click(".suggestion >> text=fail")
    turn = last_turn(page)
    turn.locator(".state.failed").wait_for()
    assert turn.locator(".error").inner_text() == "The demo agent was asked to fail, so it did."


def test_a_reload_keeps_the_conversation(page: Any) -> None:
    page.click(".suggestion >> text=my name is Ada")
    last_turn(page).locator(".state.completed").wait_for()
    page.reload()
    page.wait_for_selector(".turn")
    assert page.locator(".turn .bubble").all_inner_texts() == ["my name is Ada"]
    assert page.locator(".conversation[aria-current='true'] .title").inner_text() == "my name is Ada"
    page.fill("#prompt", "what is my name")
    page.press("#prompt", "Enter")
    last_turn(page).locator(".state.completed").wait_for()
    assert last_turn(page).locator(".answer").inner_text() == "Your name is Ada."
    page.click("#new-chat")
    assert page.is_visible("#welcome") and page.locator(".turn").count() == 0
    page.click(".conversation >> text=my name is Ada")
    assert page.locator(".turn").count() == 2


def test_a_reload_mid_task_follows_it_to_the_end(page: Any) -> None:
    page.click(".suggestion >> text=build website")
    last_turn(page).locator(".act.ticket.pending").wait_for()
    page.reload()
    turn = last_turn(page)
    turn.locator(".state.completed").wait_for()
    assert "Build of website finished: success." in turn.locator(".answer").inner_text()
    assert turn.locator(".act.ticket.ok").count() == 1


def test_credentials_go_with_every_call(page: Any) -> None:
    sent: list[dict[str, str]] = []
    page.on("request", lambda r: sent.append(r.headers) if r.method == "POST" else None)
    page.click("#connection summary")
    page.select_option("#auth-kind", "api-key")
    page.fill("#auth-secret", "sekret")
    page.click("#credentials-form button")
    page.click(".suggestion >> text=time")
    last_turn(page).locator(".state.completed").wait_for()
    assert sent and sent[-1]["x-api-key"] == "sekret" and sent[-1]["a2a-version"] == "1.0"
    page.click("#connection summary")
    page.select_option("#auth-kind", "bearer")
    page.fill("#auth-secret", "tok")
    page.click("#credentials-form button")
    page.fill("#prompt", "hello")
    page.press("#prompt", "Enter")
    page.locator(".turn").nth(1).locator(".state.completed").wait_for()
    assert sent[-1]["authorization"] == "Bearer tok" and "x-api-key" not in sent[-1]


def test_every_control_has_a_label(page: Any) -> None:
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('input, textarea, select, button')]
        .filter(e => e.offsetParent !== null || e.closest('details'))
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
        .map(e => e.outerHTML)""")
    assert unlabeled == []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") in ("BUTTON", "TEXTAREA", "SELECT", "SUMMARY")


def test_phone_width(browser: Any, server: LiveServer) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(server.url + "/")
        page.wait_for_selector(".suggestion")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert not page.locator("#sidebar").is_visible() or page.locator("#sidebar").bounding_box()["x"] < 0
        page.tap(".suggestion >> text=calc 12*(3+4)")
        last_turn(page).locator(".state.completed").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.tap("#open-sidebar")
        page.wait_for_function("() => document.querySelector('#sidebar').getBoundingClientRect().x >= 0")
        assert page.locator(".conversation .title").first.inner_text() == "calc 12*(3+4)"
        page.keyboard.press("Escape")
        page.wait_for_function("() => document.querySelector('#sidebar').getBoundingClientRect().right <= 0")
    finally:
        context.close()


def test_the_page_ships_in_the_wheel(tmp_path: Path) -> None:
    """The page's files are package data: a wheel without them would serve no page."""
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("a2a_server-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("index.html", "app.js", "a2a.js", "store.js", "style.css"):
        assert f"a2a_server/web/{name}" in names
