"""Serving beyond this machine, in Chromium: a second loopback address (127.0.0.2) stands in for a
remote host; websocket origins follow --address; a signed-in page ends when its sign-in expires;
a page whose server goes away says so."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, free_port, start_server

pytestmark = pytest.mark.ui
TIMEOUT = 60_000
COUNT = re.compile(r"\d+ of \d+ patients")


def sign_in(page, url: str, name: str) -> None:
    page.goto(url + "/login", timeout=TIMEOUT)
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_a_page_opened_from_another_address_works_with_the_default_origin(users_file, page):
    server = start_server(users_file.parent, "--auth", str(users_file), host="127.0.0.2")
    try:
        sign_in(page, server.url, "carl")
        expect(page.get_by_text(COUNT).first).to_be_visible(timeout=TIMEOUT)  # drawn over the websocket
        expect(page.locator(".role")).to_have_text("carl · role: closed")
    finally:
        server.stop()


def test_the_host_name_browsers_use_must_be_an_allowed_origin(users_file, browser):
    """A browser reaching the server by a name (dmc.example, mapped to 127.0.0.2 as DNS would) gets no
    live connection (websocket refused with 403) unless that name is an allowed websocket origin."""
    from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS

    port = free_port("127.0.0.2")
    named = browser.browser_type.launch(executable_path=CHROMIUM, headless=True,
                                        args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP dmc.example 127.0.0.2"])
    try:
        for extra, works in (((), False), (("--allow-websocket-origin", f"dmc.example:{port}"), True)):
            server = start_server(users_file.parent, "--auth", str(users_file), *extra, host="127.0.0.2", port=port)
            try:
                page = named.new_page()
                refused = []
                page.on("websocket", lambda ws: ws.on("socketerror", lambda error: refused.append(error)))
                sign_in(page, f"http://dmc.example:{port}", "carl")
                expect(page.get_by_text(COUNT).first).to_be_visible(timeout=TIMEOUT)  # the page's first state
                lost = page.get_by_text("Connection to the server lost")
                if works:  # the live connection stays up
                    page.wait_for_timeout(5000)
                    expect(lost).to_have_count(0)
                    assert refused == []
                else:  # refused (403): the page cannot update, and says so
                    expect(lost).to_be_visible(timeout=TIMEOUT)
                page.close()
            finally:
                server.stop()
    finally:
        named.close()


def test_the_page_reloads_to_the_sign_in_when_the_sign_in_expires(users_file, page):
    server = start_server(users_file.parent, "--auth", str(users_file), "--session-hours", "0.005")  # 18 s
    try:
        sign_in(page, server.url, "anna")
        expect(page.get_by_text(COUNT).first).to_be_visible(timeout=TIMEOUT)
        page.wait_for_url(re.compile(r"/login"), timeout=90_000)
        expect(page.locator("input[name=password]")).to_be_visible()
        assert '"sign-in-expired"' in server.audit.read_text()
    finally:
        server.stop()


def test_a_page_says_when_its_server_went_away(users_file, page):
    server = start_server(users_file.parent, "--auth", str(users_file))
    sign_in(page, server.url, "dora")
    expect(page.get_by_text(COUNT).first).to_be_visible(timeout=TIMEOUT)
    server.stop()
    expect(page.get_by_text("Connection to the server lost")).to_be_visible(timeout=TIMEOUT)
