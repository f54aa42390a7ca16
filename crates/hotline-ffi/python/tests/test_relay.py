"""A Python customer, on the generated bindings, chats with a Rust business
(the echo_business example on the client SDK) through a real hotline-relay
process on loopback: opt-in, a verified session (badge and safety number),
messages both ways, typed errors, a block the relay enforces, and the
account reopened from its SQLite file."""

import asyncio
import time

import pytest
from conftest import binary

import hotline
from hotline import BadgeState, ClientConfig, ClientEvent, DeliveryState, HotlineError


async def wait_for(client, pick, timeout=20):
    """The first event for which `pick` returns something, within `timeout`."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        event = await client.next_event(250)
        if event is None:
            continue
        seen.append(event)
        found = pick(event)
        if found is not None:
            return found
    raise TimeoutError(f"no such event in {timeout}s; saw {seen}")


def message(event):
    return event.message if isinstance(event, ClientEvent.MESSAGE) else None


def delivery(event):
    return event.state if isinstance(event, ClientEvent.DELIVERY) else None


async def customer_story(url, business, root, db, key, echo):
    config = ClientConfig(relay_url=url, database_path=str(db), storage_key=key, trust_roots=[root])
    client = await hotline.open_client(config)
    me = client.account_id()
    assert len(me) == 64 and me != business

    # No session yet: the badge says so.
    badge = await client.badge(business)
    assert badge.state == BadgeState.NO_SESSION and not badge.verified
    assert await client.safety_number(business) is None

    # Typed errors, not strings: a malformed id, and an account the relay
    # does not know.
    with pytest.raises(HotlineError.InvalidArgument) as bad:
        await client.start_session("not hex")
    assert "not hex" in bad.value.message
    with pytest.raises(HotlineError.Refused) as refused:
        await client.start_session("00" * 32)
    assert refused.value.refusal.name in ("UnknownAccount", "NoBundle"), refused.value.refusal

    await client.consent(business, chat=True, notifications=False)
    session = await client.start_session(business)
    assert session.badge.state == BadgeState.VERIFIED and session.badge.verified
    assert session.badge.business_name == "Example Air"
    assert session.badge.level == "verified"
    assert session.badge.until > time.time()
    assert session.badge.description.startswith("verified business: Example Air"), session.badge.description
    digits = session.safety_number.replace(" ", "")
    assert digits.isdigit() and len(digits) >= 30, session.safety_number

    sent = await client.send_text(business, "Where is my bag?")
    state = await wait_for(client, lambda e: delivery(e) if isinstance(e, ClientEvent.DELIVERY) and e.id == sent else None)
    assert isinstance(state, DeliveryState.ACCEPTED), state
    reply = await wait_for(client, message)
    assert reply.body == b"re: Where is my bag?"
    assert reply.sender == business
    await client.confirm(reply.seq)

    # The business got the text from this account, and computed the same
    # safety number on its side.
    assert echo.expect(f"got {me} ") == "Where is my bag?"
    assert echo.expect(f"safety {me} ") == session.safety_number
    assert echo.expect("delivery ") == "Accepted", "the relay took the reply"
    assert await client.safety_number(business) == session.safety_number
    assert (await client.badge(business)).verified
    status = await client.status()
    assert status.connected and status.outbox == 0

    # Blocked: the relay refuses the business's next message.
    await client.block(business)
    echo.send_line(f"send {me} Still there?")
    assert echo.expect("delivery ") == "Blocked"
    await client.shutdown()
    with pytest.raises(HotlineError.Closed):
        await client.badge(business)
    return me, reply.seq


async def reopen(url, business, root, db, key, me, seq):
    config = ClientConfig(relay_url=url, database_path=str(db), storage_key=key, trust_roots=[root])
    client = await hotline.open_client(config)
    try:
        assert client.account_id() == me, "the same account from the same file"
        inbox = await client.inbox(0, 10)
        assert [m.body for m in inbox] == [b"re: Where is my bag?"]
        assert inbox[-1].seq == seq
        badge = await client.badge(business)
        assert badge.verified and badge.business_name == "Example Air"
        # Erased at the relay (SPEC 14.15): the account can do nothing more.
        await client.delete_account()
        with pytest.raises(HotlineError.Refused) as refused:
            await client.delete_account()
        assert refused.value.refusal.name == "UnknownAccount", refused.value.refusal
        assert refused.value.refusal.code == 7
    finally:
        await client.shutdown()
    # The file is sealed under its key: another key does not open it.
    wrong = ClientConfig(relay_url=url, database_path=str(db), storage_key=hotline.generate_storage_key(), trust_roots=[root])
    with pytest.raises((HotlineError.Store, HotlineError.Corrupt)):
        await hotline.open_client(wrong)
    # Arguments are checked before anything is opened.
    short = ClientConfig(relay_url=url, database_path=None, storage_key=b"short", trust_roots=[])
    with pytest.raises(HotlineError.InvalidArgument):
        await hotline.open_client(short)
    junk_root = ClientConfig(relay_url=url, database_path=None, storage_key=hotline.generate_storage_key(), trust_roots=[b"junk"])
    with pytest.raises(HotlineError.InvalidArgument):
        await hotline.open_client(junk_root)
    bad_url = ClientConfig(relay_url="ftp://x", database_path=None, storage_key=hotline.generate_storage_key(), trust_roots=[])
    with pytest.raises(HotlineError.BadUrl):
        await hotline.open_client(bad_url)


def test_a_python_customer_chats_with_a_rust_business_through_the_relay(tmp_path, processes, relay):
    echo = processes([binary("examples/echo_business"), "--dir", tmp_path, "--limit-secs", "100"], stdin=True)
    root_path = echo.expect("root ")
    url = relay(root_path)
    echo.send_line(url)
    business = echo.expect("business ")
    root = open(root_path, "rb").read()
    key = hotline.generate_storage_key()
    assert len(key) == 32
    db = tmp_path / "customer.db"

    me, seq = asyncio.run(customer_story(url, business, root, db, key, echo))
    asyncio.run(reopen(url, business, root, db, key, me, seq))

    # Its input closed, the business stops by itself, successfully.
    echo.close_stdin()
    assert echo.wait(timeout=20) == 0, "".join(echo.stderr)
