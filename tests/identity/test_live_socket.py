"""The identity page's live socket (identity/live.py) driven through config.asgi as an ASGI server would:
liveness, pushed challenges, answers, malformed messages, and the refusals (sign-in, membership,
revocation, origin). The socket's ORM calls run in another thread, so the rows are committed."""

import asyncio
import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from config.asgi import application
from identity import live, pow, reputation_points
from identity.models import Challenge, Identity
from identity.services import challenges
from tests.factories import MemberFactory
from tests.identity.test_challenges import identity_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ORIGIN = "http://testserver"


@pytest.fixture(autouse=True)
def _quick(settings, monkeypatch):
    settings.CHALLENGE_POW_BITS = 6
    monkeypatch.setattr(live, "POLL_SECONDS", 0.05)


def session_cookie(member) -> str:
    client = Client()
    client.force_login(member.user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def scope(community, *, cookie: str | None = None, origin: str | None = ORIGIN, path: str | None = None) -> dict:
    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    return {
        "type": "websocket",
        "scheme": "ws",
        "path": path or f"/c/{community.slug}/identity/live",
        "headers": headers,
        "subprotocols": [],
    }


def run(test) -> None:
    """Runs the async ``test``; under async_to_sync the socket's ORM calls come back to this thread."""
    async_to_sync(test)()


async def opened(member, cookie: str | None = None) -> ApplicationCommunicator:
    cookie = cookie or await sync_to_async(session_cookie)(member)
    socket = ApplicationCommunicator(application, scope(member.community, cookie=cookie))
    await socket.send_input({"type": "websocket.connect"})
    assert await socket.receive_output() == {"type": "websocket.accept"}
    return socket


async def closed(socket: ApplicationCommunicator) -> None:
    await socket.send_input({"type": "websocket.disconnect", "code": 1000})
    await socket.wait()


async def send(socket: ApplicationCommunicator, message) -> dict:
    text = message if isinstance(message, str) else json.dumps(message)
    await socket.send_input({"type": "websocket.receive", "text": text})
    return await received(socket)


async def received(socket: ApplicationCommunicator, timeout: float = 2) -> dict:
    output = await socket.receive_output(timeout)
    assert output["type"] == "websocket.send", output
    return json.loads(output["text"])


async def refusal(handshake: dict) -> dict:
    """What the socket answers a connection it refuses: accepted, then closed with a code and reason."""
    socket = ApplicationCommunicator(application, handshake)
    await socket.send_input({"type": "websocket.connect"})
    assert await socket.receive_output() == {"type": "websocket.accept"}
    close = await socket.receive_output()
    await socket.wait()
    return close


def is_live(identity: Identity) -> bool:
    return challenges.live_identities(timezone.now()).filter(pk=identity.pk).exists()


def a_wrong_nonce(challenge: Challenge) -> int:
    data = bytes.fromhex(challenge.data)
    return next(n for n in range(1000) if not pow.proof_valid(data, n, challenge.difficulty_bits))


def closing(code: int, reason: str) -> dict:
    return {"type": "websocket.close", "code": code, "reason": reason}


@pytest.fixture
def member():
    return MemberFactory()


@pytest.fixture
def identity(member) -> Identity:
    return identity_of(member, live=False)


def test_an_open_socket_makes_the_identity_live_and_keeps_it_so(member, identity, settings):
    settings.LIVE_CLIENT_SECONDS = 1  # refreshed every half second while open
    assert not is_live(identity)

    async def test():
        socket = await opened(member)
        assert await sync_to_async(is_live)(identity)
        stale = timezone.now() - timedelta(hours=1)
        await sync_to_async(Identity.objects.filter(pk=identity.pk).update)(last_seen_at=stale)
        await asyncio.sleep(0.8)
        assert await sync_to_async(is_live)(identity)
        await closed(socket)

    run(test)
    assert challenges.challenges_issue_round().target_id == identity.pk  # the only live identity


def test_pending_challenges_are_pushed_at_connect_and_as_they_are_issued(member, identity):
    first = challenges.challenge_issue(target=identity)
    client = Client()
    client.force_login(member.user)
    (listed,) = client.get(f"/c/{member.community.slug}/api/identity/challenges").json()

    async def test():
        socket = await opened(member)
        assert await received(socket) == {"type": "challenge", **listed}  # as GET identity/challenges lists it
        assert await socket.receive_nothing(0.3)  # pushed once, not at every poll

        await sync_to_async(Challenge.objects.filter(pk=first.pk).update)(state=Challenge.State.IGNORED)
        second = await sync_to_async(challenges.challenge_issue)(target=identity)
        pushed = await received(socket)
        assert (pushed["type"], pushed["id"], pushed["challenge_data_hex"]) == ("challenge", second.pk, second.data)
        await closed(socket)

    run(test)


def test_a_solve_message_solves_the_challenge_and_pays_the_reward(member, identity):
    challenge = challenges.challenge_issue(target=identity)
    nonce = pow.solve(bytes.fromhex(challenge.data), challenge.difficulty_bits)

    async def test():
        socket = await opened(member)
        assert (await received(socket))["id"] == challenge.pk
        reply = await send(socket, {"type": "solve", "id": challenge.pk, "nonce": nonce})
        assert (reply["type"], reply["id"], reply["state"]) == ("solved", challenge.pk, "solved")
        assert reply["solved_at"] is not None
        again = await send(socket, {"type": "solve", "id": challenge.pk, "nonce": nonce})
        assert (again["type"], again["id"], again["code"]) == ("error", challenge.pk, "challenge_closed")
        await closed(socket)

    run(test)
    challenge.refresh_from_db()
    identity.refresh_from_db()
    assert (challenge.state, challenge.nonce) == (Challenge.State.SOLVED, nonce)
    assert identity.balance == reputation_points.START + 10


def test_a_wrong_nonce_or_someone_elses_challenge_is_an_error_reply(member, identity):
    challenge = challenges.challenge_issue(target=identity)
    foreign = challenges.challenge_issue(target=identity_of(MemberFactory(community=member.community)))

    async def test():
        socket = await opened(member)
        await received(socket)
        reply = await send(socket, {"type": "solve", "id": challenge.pk, "nonce": a_wrong_nonce(challenge)})
        assert (reply["type"], reply["id"], reply["code"]) == ("error", challenge.pk, "proof_invalid")
        reply = await send(socket, {"type": "solve", "id": foreign.pk, "nonce": 0})
        assert (reply["type"], reply["code"]) == ("error", "challenge_not_found")
        await closed(socket)

    run(test)
    challenge.refresh_from_db()
    identity.refresh_from_db()
    assert challenge.state == Challenge.State.PENDING and identity.balance == reputation_points.START


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("{", "malformed_request"),
        ("[" * 1000 + "]" * 1000, "malformed_request"),  # nested too deep for the parser
        ("1" * (live.MAX_MESSAGE_CHARS + 1), "malformed_request"),
        ("[]", "invalid_input"),
        ('{"type": "ping"}', "invalid_input"),
        ('{"type": "solve", "id": true, "nonce": 1}', "invalid_input"),
        ('{"type": "solve", "id": "7", "nonce": 1}', "invalid_input"),
        ('{"type": "solve", "id": 7, "nonce": -1}', "invalid_input"),
        ('{"type": "solve", "id": 7, "nonce": 18446744073709551616}', "invalid_input"),
        ('{"type": "solve", "id": 7, "nonce": 1.5}', "invalid_input"),
    ],
)
def test_a_malformed_message_gets_an_error_reply_and_the_socket_stays_open(member, identity, message, code):
    challenge = challenges.challenge_issue(target=identity)
    nonce = pow.solve(bytes.fromhex(challenge.data), challenge.difficulty_bits)

    async def test():
        socket = await opened(member)
        await received(socket)
        reply = await send(socket, message)
        assert (reply["type"], reply["code"]) == ("error", code), reply
        assert reply["message"]
        await socket.send_input({"type": "websocket.receive", "bytes": b"\x00\xff"})
        assert (await received(socket))["code"] == "malformed_request"
        assert (await send(socket, {"type": "solve", "id": challenge.pk, "nonce": nonce}))["type"] == "solved"
        await closed(socket)

    run(test)


def test_anonymous_members_of_other_communities_and_revoked_identities_are_refused(member, identity):
    outsider = MemberFactory()
    identity_of(outsider)
    revoked = MemberFactory(community=member.community)
    identity_of(revoked)
    Identity.objects.filter(member=revoked).update(revoked=True, revoked_reason="ignored challenges")
    no_identity = MemberFactory(community=member.community)
    community = member.community

    async def test():
        cookie_of = sync_to_async(session_cookie)
        assert await refusal(scope(community)) == closing(4401, "not_authenticated")
        assert await refusal(scope(community, cookie="sessionid=forged")) == closing(4401, "not_authenticated")
        other = scope(community, cookie=await cookie_of(outsider))
        assert await refusal(other) == closing(4403, "not_a_member")
        gone = scope(community, cookie=await cookie_of(revoked))
        assert await refusal(gone) == closing(4403, "identity_revoked")
        none = scope(community, cookie=await cookie_of(no_identity))
        assert await refusal(none) == closing(4404, "identity_not_found")
        nowhere = scope(community, cookie=await cookie_of(member), path="/c/nowhere/identity/live")
        assert await refusal(nowhere) == closing(4404, "community_not_found")

    run(test)
    assert not is_live(identity)


def test_revocation_or_signing_out_while_open_closes_the_socket(member, identity):
    challenge = challenges.challenge_issue(target=identity)
    client = Client()
    client.force_login(member.user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    solve = {"type": "websocket.receive", "text": json.dumps({"type": "solve", "id": challenge.pk, "nonce": 1})}

    async def test():
        socket = await opened(member, cookie)
        await received(socket)
        await sync_to_async(Identity.objects.filter(pk=identity.pk).update)(revoked=True)
        await socket.send_input(solve)
        assert await socket.receive_output() == closing(4403, "identity_revoked")
        await socket.wait()

        await sync_to_async(Identity.objects.filter(pk=identity.pk).update)(revoked=False)
        socket = await opened(member, cookie)
        await received(socket)
        await sync_to_async(client.logout)()  # flushes the session the socket was opened with
        await socket.send_input(solve)
        assert await socket.receive_output() == closing(4401, "not_authenticated")
        await socket.wait()

    run(test)
    assert Challenge.objects.get(pk=challenge.pk).state == Challenge.State.PENDING


@pytest.mark.parametrize("origin", ["https://evil.example", "http://testserver.evil.example", "null", "", None])
def test_a_handshake_from_another_origin_is_refused_before_it_is_accepted(member, identity, origin):
    handshake = scope(member.community, cookie=session_cookie(member), origin=origin)

    async def test():
        socket = ApplicationCommunicator(application, handshake)
        await socket.send_input({"type": "websocket.connect"})
        assert await socket.receive_output() == {"type": "websocket.close", "code": 4403}
        await socket.wait()

    run(test)
    identity.refresh_from_db()
    assert identity.last_seen_at < timezone.now() - timedelta(minutes=30)


def test_other_websocket_paths_are_refused():
    async def test():
        socket = ApplicationCommunicator(application, {"type": "websocket", "path": "/ws/", "headers": []})
        await socket.send_input({"type": "websocket.connect"})
        assert await socket.receive_output() == {"type": "websocket.close", "code": 4404}
        await socket.wait()

    run(test)


def test_http_still_goes_to_django(member, monkeypatch):
    # Django serves the request in a thread of its own; as in production with CONN_MAX_AGE 0, the
    # request's end closes that thread's connection (else it would outlive the test database).
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 0)

    async def test():
        request = ApplicationCommunicator(
            application,
            {
                "type": "http",
                "http_version": "1.1",
                "method": "GET",
                "scheme": "http",
                "path": f"/c/{member.community.slug}/identity/",
                "query_string": b"",
                "headers": [
                    (b"host", b"testserver"),
                    (b"cookie", (await sync_to_async(session_cookie)(member)).encode()),
                ],
            },
        )
        await request.send_input({"type": "http.request", "body": b""})
        start = await request.receive_output()
        body = b""
        while True:
            part = await request.receive_output()
            body += part.get("body", b"")
            if not part.get("more_body"):
                break
        await request.wait()
        return start, body

    start, body = async_to_sync(test)()
    assert start["type"] == "http.response.start" and start["status"] == 200
    assert b"<h1>Identity</h1>" in body


ORIGINS = [  # origin, Host, wss, CSRF_TRUSTED_ORIGINS, allowed
    ("http://testserver", "testserver", False, [], True),
    ("https://testserver", "testserver", False, [], True),  # TLS ended at a proxy
    ("http://testserver", "testserver", True, [], False),  # an http page on a wss socket
    ("http://testserver:8000", "testserver", False, [], False),
    ("http://not-allowed.example", "not-allowed.example", False, [], False),  # Host outside ALLOWED_HOSTS
    ("https://app.example.org", "testserver", True, ["https://app.example.org"], True),
    ("https://a.example.org", "testserver", True, ["https://*.example.org"], True),
    ("http://a.example.org", "testserver", False, ["https://*.example.org"], False),
    ("https://example.org.evil", "testserver", True, ["https://*.example.org"], False),
]


def test_the_origin_rule_is_djangos_csrf_rule(settings):
    for origin, host, secure, trusted, allowed in ORIGINS:
        settings.CSRF_TRUSTED_ORIGINS = trusted
        assert live.origin_allowed(origin=origin, host=host, secure=secure) is allowed, (origin, host, secure, trusted)
