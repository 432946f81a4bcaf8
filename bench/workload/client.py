"""HTTP with the standard library: one request per connection, each operation recorded with its attempts.

An operation is retried with the same ``Idempotency-Key`` after a network error, a timeout or a 5xx
(and a 409 ``idempotency_*`` answer: the first request with that key is still being served), a few
times with growing pauses. Its outcome is ``ok`` (a 2xx: acknowledged), ``failed`` (a definite 4xx
refusal) or ``indeterminate`` (no definite answer for its key at all).
"""

import http.client
import json
import time
from dataclasses import dataclass, field

OK, FAILED, INDETERMINATE = "ok", "failed", "indeterminate"
TIMEOUT = 15.0  # seconds; longer than the server's routing timeout (10 s)
PAUSES = (0.2, 0.4, 0.8, 1.6, 2.0)  # between attempts: a web server restart takes a few seconds


@dataclass
class Attempt:
    start: float
    end: float
    status: int | None  # None: no answer (connection refused or reset, timeout)
    error: str = ""


@dataclass
class Op:
    """One operation as sent, and what came of it. ``id`` is unique and is in the memo of what it creates."""

    id: str
    kind: str
    member: str
    method: str
    path: str
    body: dict | None = None
    key: str | None = None
    target: int | None = None  # the payment a status change acts on
    replay_of: str | None = None  # the op whose Idempotency-Key this one sends again
    attempts: list[Attempt] = field(default_factory=list)
    status: int | None = None
    response: dict | None = None

    @property
    def outcome(self) -> str:
        if _retryable(self.status, self.response):
            return INDETERMINATE
        return OK if self.status < 300 else FAILED

    @property
    def code(self) -> str:
        error = (self.response or {}).get("error")
        return error.get("code", "") if isinstance(error, dict) else ""

    @property
    def payment_id(self) -> int | None:
        return (self.response or {}).get("id") if self.outcome == OK else None

    @property
    def history(self) -> str:
        """What each attempt got: ``"RemoteDisconnected, 500, 409"``."""
        return ", ".join(str(a.status or a.error) for a in self.attempts)

    @property
    def start(self) -> float:
        return self.attempts[0].start

    @property
    def latency(self) -> float:
        return self.attempts[-1].end - self.attempts[0].start


def _retryable(status: int | None, response: dict | None) -> bool:
    if status is None or status >= 500:
        return True
    error = (response or {}).get("error")
    return status == 409 and isinstance(error, dict) and str(error.get("code", "")).startswith("idempotency_")


def request(port: int, method: str, path: str, *, body: dict | None, headers: dict, timeout: float = TIMEOUT):
    """``(status, parsed JSON or None)``; raises OSError/HTTPException when there is no answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **headers} if data is not None else headers
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None  # an HTML error page
    return response.status, parsed if isinstance(parsed, dict) else None


def post_json(port: int, path: str, body: dict, token: str | None = None) -> tuple[int, dict | None]:
    """One POST without retries or records (set-up and checks)."""
    headers = {"Authorization": f"Token {token}"} if token else {}
    return request(port, "POST", path, body=body, headers=headers)


def get_json(port: int, path: str, token: str) -> tuple[int, dict | None]:
    return request(port, "GET", path, body=None, headers={"Authorization": f"Token {token}"})


class Http:
    """Sends operations as a member, retrying as described above; times are seconds since ``origin``."""

    def __init__(self, *, port: int, origin: float, tokens: dict[str, str]) -> None:
        self.port, self.origin, self.tokens = port, origin, tokens

    def now(self) -> float:
        return time.monotonic() - self.origin

    def send(self, op: Op) -> Op:
        headers = {"Authorization": f"Token {self.tokens[op.member]}"}
        if op.key:
            headers["Idempotency-Key"] = op.key
        for pause in (*PAUSES, None):
            start = self.now()
            try:
                op.status, op.response = request(self.port, op.method, op.path, body=op.body, headers=headers)
                op.attempts.append(Attempt(start, self.now(), op.status))
            except (OSError, http.client.HTTPException) as exc:
                op.status, op.response = None, None
                op.attempts.append(Attempt(start, self.now(), None, type(exc).__name__))
            if pause is None or not _retryable(op.status, op.response):
                return op
            time.sleep(pause)
        return op
