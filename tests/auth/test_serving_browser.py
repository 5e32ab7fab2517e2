"""Serving beyond this machine, in Chromium: a second loopback address (127.0.0.2) stands in for a
remote host, and its page updates over the websocket with the origin derived from --address; a
signed-in page ends when its sign-in expires; a page whose server goes away says so."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.ui.pages import choose

from .conftest import PASSWORD, start_server

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
        count = page.get_by_text(COUNT).first
        expect(count).to_be_visible(timeout=TIMEOUT)
        expect(page.locator(".role")).to_have_text("carl · role: closed")
        before = count.inner_text()
        choose(page, "Site")
        expect(count).not_to_have_text(before, timeout=TIMEOUT)  # updated over the websocket
    finally:
        page.goto("about:blank")  # leave the page before its server stops
        server.stop()


def test_the_page_reloads_to_the_sign_in_when_the_sign_in_expires(users_file, page):
    server = start_server(users_file.parent, "--auth", str(users_file), "--session-hours", "0.005")  # 18 s
    try:
        sign_in(page, server.url, "anna")
        expect(page.get_by_text(COUNT).first).to_be_visible(timeout=TIMEOUT)
        page.wait_for_url(re.compile(r"/login"), timeout=90_000)
        expect(page.locator("input[name=password]")).to_be_visible()
        assert '"sign-in-expired"' in server.audit.read_text()
    finally:
        page.goto("about:blank")
        server.stop()


def test_a_page_says_when_its_server_went_away(users_file, page):
    server = start_server(users_file.parent, "--auth", str(users_file))
    sign_in(page, server.url, "dora")
    expect(page.get_by_text(COUNT).first).to_be_visible(timeout=TIMEOUT)
    server.stop()
    expect(page.get_by_text("Connection to the server lost")).to_be_visible(timeout=TIMEOUT)
