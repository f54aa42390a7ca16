"""A human agent answers a customer in the gateway's agent console, driven
in a real headless Chromium (Debian's package) by Playwright. The relay, the
gateway and the issuer are the real programs; the customer is the Python
bindings, on its own thread; everything on loopback.

The customer's first message carries markup: the console must show it as
text and run none of it."""

import asyncio
import os
import queue
import re
import shutil
import threading
import time

import pytest
from conftest import make_platform

import hotline
from hotline import BadgeState, ClientConfig, ClientEvent

AGENT = "agent-token-0123456789abcdef"
ADMIN = "admin-token-0123456789abcdef"
HOSTILE = 'Where is my bag? <img src=x onerror="document.title=\'owned\'"><b>now</b>'
ANSWER = "Your bag is on the next flight to Amsterdam."


def need(what, present):
    """Skips without `what`, except in CI, where its absence is a failure
    (.ci/run installs Chromium and Playwright)."""
    if present:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing: .ci/run installs it")
    pytest.skip(f"{what} is missing (apt-get install chromium; pip install playwright)")


def chromium():
    for candidate in (os.environ.get("HOTLINE_CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


class Customer(threading.Thread):
    """The customer's app: starts a verified session, writes first, then
    collects what the business answers until told to stop."""

    def __init__(self, url, business, root):
        super().__init__(daemon=True)
        self.url, self.business, self.root = url, business, root
        self.account = queue.Queue()  # its account id, or the error
        self.received = queue.Queue()  # texts from the business
        self.done = threading.Event()

    def run(self):
        asyncio.run(self.main())

    async def main(self):
        config = ClientConfig(relay_url=self.url, database_path=None,
                              storage_key=hotline.generate_storage_key(), trust_roots=[self.root])
        client = None
        try:
            client = await hotline.open_client(config)
            session = await client.start_session(self.business)
            assert session.badge.state == BadgeState.VERIFIED, session.badge.description
            # No opt-in: the customer writes first, which lets the business
            # answer within the window.
            await client.send_text(self.business, HOSTILE)
            self.account.put(client.account_id())
            while not self.done.is_set():
                event = await client.next_event(200)
                if isinstance(event, ClientEvent.MESSAGE):
                    await client.confirm(event.message.seq)
                    self.received.put(event.message.body.decode())
        except BaseException as e:  # handed to the test, which fails with it
            self.account.put(e)
        finally:
            if client is not None:
                await client.shutdown()


def test_an_agent_answers_a_customer_in_the_console(tmp_path, relay, gateway):
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        sync_playwright = None
    need("Playwright for Python", sync_playwright is not None)
    browser_path = chromium()
    need("Chromium", browser_path is not None)

    root_path = make_platform(tmp_path, "Console Air")
    url = relay(root_path)
    config = {"tokens": [{"name": "agent", "token": AGENT, "scopes": ["agent"]},
                         {"name": "admin", "token": ADMIN, "scopes": ["admin"]}]}
    process, business, api = gateway(tmp_path, url, config, ADMIN)

    customer = Customer(url, business, root_path.read_bytes())
    customer.start()
    try:
        me = customer.account.get(timeout=60)
        if isinstance(me, BaseException):
            raise me
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
            try:
                page = browser.new_page()
                page.set_default_timeout(20_000)
                errors = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(f"{api}/console")

                # A token the gateway does not know is refused, clearly.
                page.fill("#token", "not-a-token")
                page.click("#sign-in-button")
                expect(page.locator("#sign-in-error")).to_contain_text("does not know this token")
                page.fill("#token", AGENT)
                page.click("#sign-in-button")

                # The customer's conversation, its window open for about 24 h.
                row = page.locator(f"#conversations li[data-customer='{me}']")
                expect(row.locator(".clock")).to_have_text(re.compile(r"^2[34]:\d\d:\d\d left$"))
                row.click()
                expect(page.locator("#customer")).to_have_text(me)
                expect(page.locator("#window")).to_have_text(re.compile(r"^open, 2[34]:\d\d:\d\d left"))
                expect(page.locator("#consent")).to_have_text("chat no, notifications no (never given)")
                expect(page.locator("#blocked")).to_have_text("no")

                # The markup is shown as the customer typed it, and nothing of
                # it ran or rendered.
                incoming = page.locator("#messages li.in .text")
                expect(incoming).to_have_text(HOSTILE)
                assert page.locator("#messages img, #messages b").count() == 0
                assert page.title() == "Hotline agent console"

                # The agent answers; the gateway accepts it once.
                page.fill("#reply", ANSWER)
                page.click("#send")
                outgoing = page.locator("#messages li.out")
                expect(outgoing.locator(".text")).to_have_text(ANSWER)
                expect(outgoing).to_have_attribute("data-state", "accepted")
                expect(page.locator("#reply")).to_have_value("")
                assert errors == [], errors
            finally:
                browser.close()

        # The answer reached the customer's app, once.
        assert customer.received.get(timeout=30) == ANSWER
        time.sleep(1)
        assert customer.received.empty(), "the answer arrived twice"
        assert process.stop() == 0, "the gateway stops cleanly on SIGTERM"
    finally:
        customer.done.set()
        customer.join(timeout=20)
