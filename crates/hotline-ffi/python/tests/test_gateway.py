"""A Python bot answers as a business through hotline-gateway: the gateway
POSTs each customer message to the bot's webhook (signed with HMAC-SHA256),
the bot checks the signature and answers with POST /v1/messages. The
platform is made with hotline-issuer, the relay and the gateway are the
real programs, the customer is the Python bindings; everything on
loopback. The bot is plain Python: urllib and http.server."""

import asyncio
import hashlib
import hmac
import http.server
import json
import queue
import threading
import time
import urllib.error
import urllib.request

import pytest
from conftest import make_platform

import hotline
from hotline import BadgeState, ClientConfig, ClientEvent

TOKEN = "bot-token-0123456789abcdef"
ADMIN = "admin-token-0123456789abcdef"
SECRET = "whsec-python-bot"
# What a receiver accepts between the signature's time and its own clock.
TOLERANCE_SECS = 300


def verify_signature(secret, header, body, now):
    """Checks `X-Hotline-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret,
    "<t>.<body>")>` as the gateway's README says; True if it holds."""
    t, sigs = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            t = int(value)
        elif key == "v1":
            sigs.append(value)
    if t is None or not sigs or abs(now - t) > TOLERANCE_SECS:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in sigs)


def test_the_signature_check_refuses_what_it_should():
    body = b'{"type":"message.received"}'
    now = 1_800_000_000
    mac = hmac.new(SECRET.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    good = f"t={now},v1={mac}"
    assert verify_signature(SECRET, good, body, now + 10)
    assert not verify_signature("another secret", good, body, now)
    assert not verify_signature(SECRET, good, body + b" ", now)
    assert not verify_signature(SECRET, good, body, now + TOLERANCE_SECS + 1)
    assert not verify_signature(SECRET, f"v1={mac}", body, now)
    assert not verify_signature(SECRET, f"t={now}", body, now)


class Bot:
    """The business's bot: a webhook receiver that answers every customer
    message through the gateway's REST API."""

    def __init__(self):
        self.api = None
        self.verified = []  # events whose signature held
        self.rejected = 0  # requests whose signature did not
        self.answers = []  # (status, body) of each POST /v1/messages
        self.work = queue.Queue()
        bot = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                sig = self.headers.get("X-Hotline-Signature", "")
                if not verify_signature(SECRET, sig, body, int(time.time())):
                    bot.rejected += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                event = json.loads(body)
                assert self.headers.get("X-Hotline-Event-Id") == event["id"]
                bot.verified.append(event)
                # Answered at once; the reply is sent from the bot's own
                # thread, as a receiver should not keep the gateway waiting.
                if event["type"] == "message.received":
                    bot.work.put(event)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hotline"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.worker = threading.Thread(target=self._answer, daemon=True)
        self.worker.start()

    def _answer(self):
        while True:
            event = self.work.get()
            if event is None:
                return
            data = event["data"]
            reply = {"customer": data["customer"], "class": "chat", "text": f"Bot: we got {data['text']!r}"}
            request = urllib.request.Request(
                f"{self.api}/v1/messages",
                data=json.dumps(reply).encode(),
                method="POST",
                headers={
                    "Authorization": f"Bearer {TOKEN}",
                    "Content-Type": "application/json",
                    # The event id: a webhook delivered twice is answered once.
                    "Idempotency-Key": event["id"],
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as r:
                    self.answers.append((r.status, json.loads(r.read())))
            except urllib.error.HTTPError as e:
                self.answers.append((e.code, json.loads(e.read())))

    def stop(self):
        self.work.put(None)
        self.worker.join(timeout=10)
        self.server.shutdown()
        self.server.server_close()


def get_json(url, token):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.loads(r.read())


async def customer_asks(url, business, root):
    config = ClientConfig(relay_url=url, database_path=None, storage_key=hotline.generate_storage_key(), trust_roots=[root])
    client = await hotline.open_client(config)
    try:
        await client.consent(business, chat=True, notifications=False)
        session = await client.start_session(business)
        assert session.badge.state == BadgeState.VERIFIED, session.badge.description
        assert session.badge.business_name == "Python Air"
        await client.send_text(business, "Is flight PY100 on time?")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            event = await client.next_event(250)
            if isinstance(event, ClientEvent.MESSAGE):
                await client.confirm(event.message.seq)
                assert event.message.sender == business
                return client.account_id(), event.message.body.decode()
        raise TimeoutError("the bot's answer never came")
    finally:
        await client.shutdown()


def test_a_python_bot_answers_through_the_gateway_webhooks_and_rest_api(tmp_path, relay, gateway):
    root_path = make_platform(tmp_path, "Python Air")
    url = relay(root_path)

    bot = Bot()
    try:
        config = {
            "tokens": [{"name": "bot", "token": TOKEN, "scopes": ["bot"]},
                       {"name": "admin", "token": ADMIN, "scopes": ["admin"]}],
            "webhooks": [{"url": bot.url, "secret": SECRET}],
        }
        process, business, bot.api = gateway(tmp_path, url, config, ADMIN)

        # A forged webhook is refused by the bot and answers nobody.
        forged = urllib.request.Request(bot.url, data=b'{"type":"message.received"}', method="POST",
                                        headers={"X-Hotline-Signature": f"t={int(time.time())},v1={'00' * 32}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=10)
        assert refused.value.code == 401 and bot.rejected == 1

        me, answer = asyncio.run(customer_asks(url, business, root_path.read_bytes()))
        assert answer == "Bot: we got 'Is flight PY100 on time?'"

        received = [e for e in bot.verified if e["type"] == "message.received"]
        assert len(received) == 1, bot.verified
        assert received[0]["data"]["customer"] == me
        assert received[0]["data"]["text"] == "Is flight PY100 on time?"
        # The bot records the gateway's answer once urlopen returns, which
        # may be after the customer already has the message.
        deadline = time.monotonic() + 10
        while not bot.answers and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [a[0] for a in bot.answers] == [202], bot.answers
        assert bot.rejected == 1, "every webhook of the gateway carried a valid signature"

        # The gateway's own record: one message in, one out, accepted.
        deadline = time.monotonic() + 20
        while True:
            messages = get_json(f"{bot.api}/v1/conversations/{me}/messages", TOKEN)["messages"]
            if [m["direction"] for m in messages] == ["in", "out"] and messages[1]["state"] == "accepted":
                break
            assert time.monotonic() < deadline, messages
            time.sleep(0.1)
        assert process.stop() == 0, "the gateway stops cleanly on SIGTERM"
    finally:
        bot.stop()
