"""Exactly-once API requests: a request sent again with the same ``Idempotency-Key`` gets the first answer.

An app on a flaky network sends a payment, loses the answer and sends it again: without a key
that pays twice. With one, the first request runs inside a transaction that also writes its
``IdempotentRequest`` row and its answer, so the row and the request's changes commit together
or not at all:

- A retry after the first committed finds the row and gets the stored answer; nothing runs again.
- Two requests with the same key at once: the second's insert of the row waits on the unique
  index until the first commits (then it replays the first answer) or rolls back (then it runs).
- A request that failed with a server error, or whose process died, left no row: its retry runs.
- So did a request refused for now (429, with ``Retry-After``): the retry that waited runs, rather than
  getting the stale refusal, without its ``Retry-After``, for 24 hours.
- The same key with another body is refused (``idempotency_key_reused``).

Answers are kept for ``IDEMPOTENCY_KEY_LIFETIME_HOURS`` (24 by default, the convention of payment APIs).
"""

import contextvars
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from bank.models import IdempotentRequest
from core.errors import ApplicationError, InvalidInput

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Answers that say "not now" rather than "no": never stored, the retry runs afresh.
RUN_AGAIN = frozenset({429})

# While a request with a key runs: a digest of its scope, key and fingerprint (``answered_request``).
_answering: contextvars.ContextVar[str | None] = contextvars.ContextVar("answering_once", default=None)


class KeyReused(ApplicationError):
    status = 422
    code = "idempotency_key_reused"


def wraps_this_request() -> bool:
    """Whether the current request runs inside the transaction of its idempotency record.

    The outermost transaction is then the record's: money services that would open a durable
    (outermost) transaction of their own run as a savepoint of it instead.
    """
    return _answering.get() is not None


def answered_request() -> str | None:
    """A digest naming the request with a key that runs now (its scope, key and body), or None.

    A service that commits apart from the request's transaction (batched settlement) records it
    beside what it did, so that the request's retry finds that rather than doing it again.
    """
    return _answering.get()


def requested_key(request: Request) -> str | None:
    """The request's key: 1 to 255 visible ASCII characters (a UUID, say), or None when it sent none."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not (0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable() and key.strip() == key):
        raise InvalidInput(HEADER, [f"An idempotency key is 1 to {MAX_KEY_LENGTH} visible ASCII characters."])
    return key


def _cutoff():
    """Answers created before this moment have expired."""
    return timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_LIFETIME_HOURS)


def _scope(request: Request) -> str:
    community = getattr(request, "community", None)
    user = request.user
    return f"{community.pk if community else '-'}:{user.pk if user.is_authenticated else '-'}"


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{request.method} {request.get_full_path()}\n{body}".encode()).hexdigest()


def _replay(record: IdempotentRequest, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise KeyReused(
            "This idempotency key was used for another request; send a new key with each new request.",
        )
    return Response(json.loads(record.body), status=record.status, headers={REPLAYED_HEADER: "true"})


def _answer_first(handle: Callable[[], Response], *, scope: str, key: str, fingerprint: str, cutoff) -> Response | None:
    """Run the request with its record in one transaction; None when another request holds the key."""
    with transaction.atomic():
        IdempotentRequest.objects.filter(scope=scope, key=key, created_at__lt=cutoff).delete()
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(scope=scope, key=key, fingerprint=fingerprint)
        except IntegrityError:
            return None
        token = _answering.set(hashlib.sha256(f"{scope}\n{key}\n{fingerprint}".encode()).hexdigest())
        try:
            response = handle()
        finally:
            _answering.reset(token)
        if response.status_code >= 500 or response.status_code in RUN_AGAIN:
            transaction.set_rollback(True)  # nothing of it stays, so a retry runs afresh
            return response
        record.status, record.body = response.status_code, json.dumps(response.data, cls=DjangoJSONEncoder)
        record.save(update_fields=["status", "body"])
    return response


def answer_once(request: Request, handle: Callable[[], Response]) -> Response:
    """``handle()``'s response, or the stored answer of the first request with this request's key.

    ``handle`` must turn application errors into responses (``APIView.handle_exception``) so that
    refusals are stored and replayed like successes.
    """
    key = requested_key(request)
    if key is None:
        return handle()
    scope, fingerprint = _scope(request), _fingerprint(request)
    cutoff = _cutoff()
    while True:
        earlier = IdempotentRequest.objects.filter(scope=scope, key=key, created_at__gte=cutoff).first()
        if earlier is not None:
            return _replay(earlier, fingerprint)
        response = _answer_first(handle, scope=scope, key=key, fingerprint=fingerprint, cutoff=cutoff)
        if response is not None:
            return response


def forget_expired() -> int:
    """Delete the answers older than their lifetime; returns how many."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=_cutoff()).delete()
    return deleted
