"""The identity page's live socket: a plain ASGI WebSocket application at ``/c/<slug>/identity/live``,
mounted beside Django's ASGI application in ``config/asgi.py`` (so the web process must run ASGI).

While a member's socket is open their identity counts as live: ``last_seen_at`` is written at connect
and every half ``LIVE_CLIENT_SECONDS``, by the same service as the API's heartbeat. Their pending
challenges are pushed as they appear (the database is polled every ``POLL_SECONDS``), and the answers
sent back go through the same service as ``POST identity/challenges/<id>/solve``. The messages are in
docs/api.md ("Live socket").

The member is the one the Django session cookie signed in, with the API's checks (an active member of
the path's community whose identity is not revoked); they run again before every answer and every
refresh, so signing out, leaving or being revoked closes the socket. A refusal accepts the handshake and
closes at once with ``4000 + the HTTP status`` (4401 not signed in, 4403 not a member or revoked, 4404 no
such community or no identity) and the error code as the reason. A handshake from a page of another
origin is refused before it is accepted, so a foreign page never holds a socket with the member's cookie.
"""

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from importlib import import_module
from types import SimpleNamespace
from typing import Any, TypeVar
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.db import close_old_connections
from django.http import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from bank import selectors as bank_selectors
from bank.models import Member
from bank.signals import access_requested
from core.errors import ApplicationError, Forbidden, InvalidInput, NotFound, Unauthorized
from identity import pow
from identity.apis.challenges import ChallengeOutput, IncomingChallengeOutput
from identity.selectors import identity_required
from identity.services import challenges

PATH = re.compile(r"^/c/(?P<slug>[^/]+)/identity/live/?$")
POLL_SECONDS = 5.0
MAX_MESSAGE_CHARS = 1024  # a solve message is under 100; nothing longer is parsed
CLOSE_FOREIGN_ORIGIN = 4403
CLOSE_NO_ROUTE = 4404

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
T = TypeVar("T")


@dataclass(frozen=True)
class Handshake:
    """What the socket's requests are authenticated from: the path's community, the Host, the session."""

    slug: str
    host_domain: str
    session_key: str | None


def _headers(scope: Scope) -> dict[str, str]:
    """Headers by lower-case name; repeated Cookie headers are joined as one (HTTP/2 splits them)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name == "cookie" and name in headers:
            headers[name] += f"; {value}"
        else:
            headers.setdefault(name, value)
    return headers


def _allowed_hosts() -> list[str]:
    # Django's own rule (HttpRequest.get_host): in debug, no ALLOWED_HOSTS means the local names only.
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return [".localhost", "127.0.0.1", "[::1]"]
    return settings.ALLOWED_HOSTS


def origin_allowed(*, origin: str | None, host: str | None, secure: bool) -> bool:
    """Django's CSRF origin rule, applied to the handshake: the page's origin is this (allowed) host, or
    matches ``CSRF_TRUSTED_ORIGINS``. A page of any site may open a socket here and the browser sends the
    member's cookie with it (cross-site WebSocket hijacking); browsers always send Origin, so one
    without it is refused too."""
    if not origin:
        return False
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    if host and validate_host(split_domain_port(host)[0], _allowed_hosts()):
        # Behind a TLS-terminating proxy the socket may arrive as ws:// for an https page; an http page
        # on a wss:// socket is never this site.
        schemes = {"https"} if secure else {"http", "https"}
        if parsed.scheme in schemes and parsed.netloc.lower() == host.lower():
            return True
    trusted = settings.CSRF_TRUSTED_ORIGINS
    if origin in trusted:
        return True
    wildcards = (urlsplit(pattern) for pattern in trusted if "*" in pattern)
    return any(p.scheme == parsed.scheme and is_same_domain(parsed.netloc, p.netloc.lstrip("*")) for p in wildcards)


def _db(function: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """``function`` run in Django's thread for sync code, with a request's connection handling around
    it: connections past their age or broken are closed before and after (as request_started and
    request_finished do for views)."""

    @wraps(function)
    def call(*args: Any, **kwargs: Any) -> T:
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(call, thread_sensitive=True)


def _member_of(handshake: Handshake) -> Member:
    """The active member the session signed in, in the path's community, with an identity that is not
    revoked; an ``ApplicationError`` says why not."""
    community = bank_selectors.community_get_by_slug(slug=handshake.slug)
    host_community = bank_selectors.community_get_by_domain(domain=handshake.host_domain)
    if community is None or (host_community is not None and host_community != community):
        raise NotFound("There is no community at this address.", code="community_not_found")
    session = import_module(settings.SESSION_ENGINE).SessionStore(handshake.session_key)
    user = get_user(SimpleNamespace(session=session))  # checks the session's auth hash, as requests do
    if not user.is_authenticated:
        raise Unauthorized("Sign in first.", code="not_authenticated")
    member = bank_selectors.membership_for_user(user=user, community=community)
    if member is None:
        raise Forbidden("You are not a member of this community.", code="not_a_member")
    access_requested.send(sender=Member, member=member)  # identity refuses a revoked member
    identity_required(member=member)
    return member


def _keep_live(handshake: Handshake) -> Member:
    member = _member_of(handshake)
    challenges.heartbeat(member=member)
    return member


def _pending(member: Member) -> list[dict]:
    return [dict(ChallengeOutput(c).data) for c in challenges.challenges_of(member=member, pending_only=True)]


def _solve(member: Member, challenge_id: int, nonce: int) -> dict:
    challenge = challenges.challenge_solve(member=member, challenge_id=challenge_id, nonce=nonce)
    return dict(IncomingChallengeOutput(challenge).data)


def _int(value: Any) -> bool:
    return type(value) is int  # JSON's true and false are not numbers here


def solve_request(text: str | None) -> tuple[int, int]:
    """The challenge id and nonce of a ``{"type": "solve", "id", "nonce"}`` message; an
    ``ApplicationError`` for anything else."""
    if text is None or len(text) > MAX_MESSAGE_CHARS:
        raise ApplicationError(
            f"Messages are JSON text of at most {MAX_MESSAGE_CHARS} characters.", code="malformed_request"
        )
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: deeply nested arrays
        raise ApplicationError("The message is not JSON.", code="malformed_request") from None
    if not isinstance(message, dict) or message.get("type") != "solve":
        raise InvalidInput("type", ['The socket takes only {"type": "solve", "id", "nonce"}.'])
    challenge_id, nonce = message.get("id"), message.get("nonce")
    if not _int(challenge_id) or challenge_id < 1:
        raise InvalidInput("id", ["A challenge id: a positive integer."])
    if not _int(nonce) or not 0 <= nonce < pow.NONCE_LIMIT:
        raise InvalidInput("nonce", [f"An integer from 0 to {pow.NONCE_LIMIT - 1}."])
    return challenge_id, nonce


async def _send_json(send: Send, message: dict) -> None:
    await send({"type": "websocket.send", "text": json.dumps(message)})


async def _close(send: Send, refusal: ApplicationError) -> None:
    await send({"type": "websocket.close", "code": 4000 + refusal.status, "reason": refusal.code})


async def _serve(handshake: Handshake, member: Member, receive: Receive, send: Send) -> None:
    """The open socket: refreshes liveness, pushes new challenges, answers solve messages."""
    loop = asyncio.get_running_loop()
    pushed: set[int] = set()
    next_poll, next_beat = loop.time(), loop.time() + settings.LIVE_CLIENT_SECONDS / 2
    incoming = asyncio.ensure_future(receive())
    try:
        while True:
            if loop.time() >= next_beat:
                member = await _db(_keep_live)(handshake)
                next_beat = loop.time() + settings.LIVE_CLIENT_SECONDS / 2
            if loop.time() >= next_poll:
                pending = await _db(_pending)(member)
                for challenge in pending:
                    if challenge["id"] not in pushed:
                        await _send_json(send, {"type": "challenge", **challenge})
                pushed = {challenge["id"] for challenge in pending}  # solved and expired ones drop out
                next_poll = loop.time() + POLL_SECONDS
            done, _ = await asyncio.wait({incoming}, timeout=max(0.0, min(next_poll, next_beat) - loop.time()))
            if not done:
                continue
            message = incoming.result()
            if message["type"] == "websocket.disconnect":
                return
            incoming = asyncio.ensure_future(receive())
            if message["type"] == "websocket.receive":
                await _send_json(send, await _answer(handshake, message.get("text")))
    except ApplicationError as refusal:  # signed out, left or revoked since the last check
        await _close(send, refusal)
    finally:
        incoming.cancel()


async def _answer(handshake: Handshake, text: str | None) -> dict:
    """The reply to one message; a refusal of the member (not of the answer) is raised."""
    try:
        challenge_id, nonce = solve_request(text)
    except ApplicationError as error:
        return {"type": "error", "code": error.code, "message": error.message, **error.extra}
    member = await _db(_member_of)(handshake)
    try:
        return {"type": "solved", **await _db(_solve)(member, challenge_id, nonce)}
    except ApplicationError as error:
        return {"type": "error", "id": challenge_id, "code": error.code, "message": error.message}


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI application for WebSocket connections (config/asgi.py sends every one here)."""
    if scope["type"] != "websocket" or (await receive())["type"] != "websocket.connect":
        return
    match = PATH.match(scope["path"])
    if match is None:
        await send({"type": "websocket.close", "code": CLOSE_NO_ROUTE})
        return
    headers = _headers(scope)
    host = headers.get("host", "")
    if not origin_allowed(origin=headers.get("origin"), host=host, secure=scope.get("scheme") == "wss"):
        await send({"type": "websocket.close", "code": CLOSE_FOREIGN_ORIGIN})
        return
    handshake = Handshake(
        slug=match["slug"],
        host_domain=split_domain_port(host)[0],
        session_key=parse_cookie(headers.get("cookie", "")).get(settings.SESSION_COOKIE_NAME),
    )
    try:
        member = await _db(_keep_live)(handshake)
    except ApplicationError as refusal:
        await send({"type": "websocket.accept"})
        await _close(send, refusal)
        return
    await send({"type": "websocket.accept"})
    await _serve(handshake, member, receive, send)
