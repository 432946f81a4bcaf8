"""The clients: threads doing random operations as random members until time is up.

Every state-changing request carries an ``Idempotency-Key`` (a fresh uuid4) and every payment or
request a memo with the operation's unique id, so the checker can find what each one did. The
clients share a ``Book`` of what they have seen acknowledged (payments the payee may still answer,
accepted ones it may refund, open requests), from which status changes pick their payment; one
taken from the book is acted on by one client, except in the deliberately doubled changes.
"""

import random
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from workload.client import OK, Http, Op
from workload.community import UNIT

# Operation kinds and how often each is drawn. A kind whose book is empty falls back to a payment.
WEIGHTS = {
    "pay": 34,
    "replay": 5,  # a payment, then the same request again with the same key: the first answer again
    "race": 3,  # the same payment request twice at once with one key: one payment, the same answer twice
    "reuse": 3,  # a payment, then another body with the same key: refused 422 idempotency_key_reused
    "request": 10,  # the payee asks (user/receive_payment) ...
    "accept_request": 9,  # ... and the payer pays it
    "cancel_request": 2,
    "payee_accept": 8,
    "decline": 8,  # the money goes back, as a linked payment of kind return
    "refund": 6,  # of an accepted payment, as a linked payment of kind refund
    "double": 6,  # a decline or refund sent twice at once with two keys: one may succeed
    "dispute": 2,
    "read": 5,  # user/accounts
}
MAX_AMOUNT = 20 * UNIT


def amount_text(micro: int) -> str:
    return f"{micro // UNIT}.{micro % UNIT:06d}"


class Book:
    """Payments the clients know of, by what can still be done with them: ``{payment id: (payer, payee)}``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.unanswered: dict[int, tuple[str, str]] = {}  # settled, the payee has not answered
        self.accepted: dict[int, tuple[str, str]] = {}  # settled and accepted: refundable
        self.requests: dict[int, tuple[str, str]] = {}  # pending requests

    def add(self, pool: str, payment_id: int, parties: tuple[str, str]) -> None:
        with self.lock:
            getattr(self, pool)[payment_id] = parties

    def take(self, pool: str, rng: random.Random) -> tuple[int, tuple[str, str]] | None:
        with self.lock:
            entries = getattr(self, pool)
            if not entries:
                return None
            payment_id = rng.choice(list(entries))
            return payment_id, entries.pop(payment_id)

    def peek(self, rng: random.Random) -> tuple[int, tuple[str, str]] | None:
        with self.lock:
            settled = list(self.unanswered.items()) + list(self.accepted.items())
        return rng.choice(settled) if settled else None


class Client:
    """One client thread's operations; ``record`` receives every operation once it has its outcome."""

    def __init__(
        self,
        number: int,
        *,
        http: Http,
        slug: str,
        handles: list[str],
        book: Book,
        record: Callable[[Op], None],
        seed: int,
    ) -> None:
        self.number, self.http, self.book, self.record = number, http, book, record
        self.api, self.handles = f"/c/{slug}/api/", handles
        self.rng = random.Random(f"{seed}-{number}")
        self.sequence = 0
        self.kinds, self.weights = list(WEIGHTS), list(WEIGHTS.values())

    def run(self, deadline: float) -> None:
        while self.http.now() < deadline:
            kind = self.rng.choices(self.kinds, self.weights)[0]
            getattr(self, f"do_{kind}")()

    # --- building and sending ------------------------------------------------------------------

    def new_op(
        self,
        kind: str,
        member: str,
        method: str,
        path: str,
        body: dict | None = None,
        *,
        key: str | None = None,
        **fields,
    ) -> Op:
        """An operation with the next id; a POST gets a fresh key unless it sends ``key`` again."""
        self.sequence += 1
        key = key or (str(uuid.uuid4()) if method == "POST" else None)
        return Op(f"c{self.number:02d}-{self.sequence:05d}", kind, member, method, self.api + path, body, key, **fields)

    def send(self, op: Op) -> Op:
        self.http.send(op)
        self.record(op)
        return op

    def two_members(self) -> tuple[str, str]:
        first, second = self.rng.sample(self.handles, 2)
        return first, second

    def money_body(self, other: str, op_id: str) -> dict:
        return {"username": other, "amount": amount_text(self.rng.randint(1, MAX_AMOUNT)), "memo": f"workload {op_id}"}

    def payment_op(self) -> Op:
        payer, payee = self.two_members()
        op = self.new_op("pay", payer, "POST", "user/payment")
        op.body = self.money_body(payee, op.id)
        return op

    def status_op(self, kind: str, member: str, payment_id: int, action: str) -> Op:
        return self.new_op(kind, member, "POST", f"user/payments/{payment_id}/{action}", {}, target=payment_id)

    # --- the operations --------------------------------------------------------------------------

    def pay(self) -> Op:
        op = self.send(self.payment_op())
        if op.outcome == OK:
            self.book.add("unanswered", op.payment_id, (op.member, op.body["username"]))
        return op

    def do_pay(self) -> None:
        self.pay()

    def again(self, kind: str, first: Op, body: dict) -> Op:
        """Another request with ``first``'s Idempotency-Key."""
        return self.new_op(
            kind, first.member, first.method, first.path.removeprefix(self.api), body, key=first.key, replay_of=first.id
        )

    def do_replay(self) -> None:
        first = self.pay()
        self.send(self.again("replay", first, dict(first.body)))

    def do_race(self) -> None:
        first = self.payment_op()
        second = self.again("race", first, dict(first.body))
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(self.send, (first, second)))
        if first.outcome == OK:
            self.book.add("unanswered", first.payment_id, (first.member, first.body["username"]))

    def do_reuse(self) -> None:
        first = self.pay()
        other = self.again("reuse", first, {})
        other.body = self.money_body(first.body["username"], other.id)  # its own memo: another body
        self.send(other)

    def do_request(self) -> None:
        payee, payer = self.two_members()
        op = self.new_op("request", payee, "POST", "user/receive_payment")
        op.body = self.money_body(payer, op.id)
        if self.send(op).outcome == OK:
            self.book.add("requests", op.payment_id, (payer, payee))

    def do_accept_request(self) -> None:
        taken = self.book.take("requests", self.rng)
        if taken is None:
            return self.do_pay()
        payment_id, (payer, payee) = taken
        if self.send(self.status_op("accept_request", payer, payment_id, "accept")).outcome == OK:
            self.book.add("accepted", payment_id, (payer, payee))

    def do_cancel_request(self) -> None:
        taken = self.book.take("requests", self.rng)
        if taken is None:
            return self.do_pay()
        payment_id, parties = taken
        self.send(self.status_op("cancel_request", self.rng.choice(parties), payment_id, "cancel"))

    def do_payee_accept(self) -> None:
        taken = self.book.take("unanswered", self.rng)
        if taken is None:
            return self.do_pay()
        payment_id, (payer, payee) = taken
        if self.send(self.status_op("payee_accept", payee, payment_id, "accept")).outcome == OK:
            self.book.add("accepted", payment_id, (payer, payee))

    def do_decline(self) -> None:
        taken = self.book.take("unanswered", self.rng)
        if taken is None:
            return self.do_pay()
        payment_id, (_, payee) = taken
        self.send(self.status_op("decline", payee, payment_id, "decline"))

    def do_refund(self) -> None:
        taken = self.book.take("accepted", self.rng)
        if taken is None:
            return self.do_pay()
        payment_id, (_, payee) = taken
        self.send(self.status_op("refund", payee, payment_id, "refund"))

    def do_double(self) -> None:
        """The same status change twice at once, with two keys (two clicks, two devices)."""
        pool, action = self.rng.choice((("unanswered", "decline"), ("accepted", "refund")))
        taken = self.book.take(pool, self.rng)
        if taken is None:
            return self.do_pay()
        payment_id, (_, payee) = taken
        ops = [self.status_op(f"double_{action}", payee, payment_id, action) for _ in range(2)]
        with ThreadPoolExecutor(2) as pool_:
            list(pool_.map(self.send, ops))

    def do_dispute(self) -> None:
        seen = self.book.peek(self.rng)
        if seen is None:
            return self.do_pay()
        payment_id, (payer, _) = seen
        self.send(self.status_op("dispute", payer, payment_id, "dispute"))

    def do_read(self) -> None:
        self.send(self.new_op("read", self.rng.choice(self.handles), "GET", "user/accounts"))


def run_clients(*, count: int, http: Http, slug: str, handles: list[str], seed: int, deadline: float) -> list[Op]:
    """``count`` client threads until ``deadline`` (seconds on ``http``'s clock); every operation they did."""
    ops: list[Op] = []
    book = Book()
    clients = [
        Client(n, http=http, slug=slug, handles=handles, book=book, record=ops.append, seed=seed) for n in range(count)
    ]
    threads = [threading.Thread(target=c.run, args=(deadline,), name=f"client-{c.number}") for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(ops, key=lambda op: op.start)
