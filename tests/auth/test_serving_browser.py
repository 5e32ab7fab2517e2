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


def test_an_origin_not_allowed_gets_no_dashboard_and_an_allowed_one_does(users_file, browser):
    port = free_port()
    server = start_server(users_file.parent, "--auth", str(users_file), "--allow-websocket-origin",
                          f"127.0.0.2:{port}", port=port)
    try:
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, f"http://127.0.0.2:{port}", "carl")
        expect(page.get_by_text(COUNT).first).to_be_visible(timeout=TIMEOUT)
        sign_in(page, server.url, "carl")  # 127.0.0.1 is no longer an allowed origin
        page.wait_for_timeout(5000)
        expect(page.get_by_text(COUNT)).to_have_count(0)
        context.close()
    finally:
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
        server.stop()


def test_a_page_says_when_its_server_went_away(users_file, page):
    server = start_server(users_file.parent, "--auth", str(users_file))
    sign_in(page, server.url, "dora")
    expect(page.get_by_text(COUNT).first).to_be_visible(timeout=TIMEOUT)
    server.stop()
    expect(page.get_by_text("Connection to the server lost")).to_be_visible(timeout=TIMEOUT)
