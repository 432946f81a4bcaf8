"""The checker: what the bank must hold after the run, read from the database with the ORM and from the API.

Each check returns a ``Check``: passed or not, its figures, and what was wrong (the first few).
Operations are matched to what they did by the memo carrying their id (payments and requests) and by
the payment their status change names; an operation without a definite answer (indeterminate) may
have been applied once or not at all, never twice.
"""

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from workload.client import FAILED, INDETERMINATE, OK, Op, get_json, post_json
from workload.community import UNIT
from workload.faults import Fault

SHOWN = 8  # problems printed per check
MOTION_TIMEOUT = 120.0
# A status change, and what it leaves on the payment once applied (later changes considered:
# an accepted payment may since have been refunded).
EFFECTS: dict[str, Callable] = {
    "decline": lambda p: p.payee_status == p.PayeeStatus.DECLINE,
    "refund": lambda p: p.payee_status == p.PayeeStatus.REFUND,
    "payee_accept": lambda p: p.payee_status in (p.PayeeStatus.ACCEPT, p.PayeeStatus.REFUND),
    "accept_request": lambda p: p.kind == p.Kind.REQUEST and p.state == p.State.FINALIZED,
    "cancel_request": lambda p: p.state == p.State.CANCELLED,
    "dispute": lambda p: p.payer_status == p.PayerStatus.DISPUTE,
}


@dataclass
class Check:
    name: str
    passed: bool
    figures: str
    problems: list[str] = field(default_factory=list)


@dataclass
class Run:
    """What the checks look at: the operations, the faults, the community and a way into its API."""

    ops: list[Op]
    faults: list[Fault]
    slug: str
    port: int
    tokens: dict[str, str]
    peak_connections: int
    connection_samples: int
    max_connections: int

    @property
    def api(self) -> str:
        return f"/c/{self.slug}/api/"


def micro(text: str) -> int:
    return int(Decimal(text) * UNIT)


def action_of(op: Op) -> str:
    return op.kind.removeprefix("double_")


def _check(name: str, problems: list[str], figures: str) -> Check:
    return Check(name, not problems, figures, problems)


# --- both sides of every trustline, sums and limits -------------------------------------------------


def _api_rows(run: Run, path: str) -> dict[str, dict[str, dict]]:
    views = {}
    for handle, token in run.tokens.items():
        status, body = get_json(run.port, run.api + path, token)
        if status != 200:
            raise RuntimeError(f"GET {path} as {handle} answered {status}")
        views[handle] = {row["username"]: row for row in body["accounts"]}
    return views


def trustline_views(run: Run) -> Check:
    """Each member's ``user/accounts`` row for another mirrors that member's row for them, and
    ``ledger/balance`` (balances replayed from the ledger) shows the same rows."""
    from trust.models import Trustline

    views, replayed = _api_rows(run, "user/accounts"), _api_rows(run, "ledger/balance")
    problems, pairs = [], 0
    for mine, rows in views.items():
        for theirs, row in rows.items():
            if theirs not in views or mine > theirs:
                continue
            pairs += 1
            other = views[theirs].get(mine)
            if other is None:
                problems.append(f"{mine} sees a line with {theirs}, who does not see it")
            elif (micro(row["balance"]), row["limit_out"], row["limit_in"]) != (
                -micro(other["balance"]),
                other["limit_in"],
                other["limit_out"],
            ):
                problems.append(f"{mine}~{theirs}: {mine} sees {row}, {theirs} sees {other}")
        if replayed[mine] != rows:
            problems.append(f"{mine}: ledger/balance differs from user/accounts")
    member_lines = Trustline.objects.filter(
        community__slug=run.slug, closed_at=None, low__member__isnull=False, high__member__isnull=False
    ).count()
    if member_lines != pairs:
        problems.append(f"the API shows {pairs} lines between members, the database holds {member_lines}")
    return _check(
        "trustlines: both sides' views agree",
        problems,
        f"{pairs} lines between members, each seen from both sides; ledger/balance and user/accounts "
        f"of {len(views)} members compared",
    )


def balances_sum_to_zero(run: Run) -> Check:
    """Net balances sum to zero, in the trust tables and in the ledger's replay, which must agree."""
    from bank.models import Community
    from ledger.replay import ledger_state, trustline_state
    from trust.selectors import net_balances

    community = Community.objects.get(slug=run.slug)
    nets = net_balances(community=community)
    replayed = ledger_state(community.pk)
    replay_nets: Counter = Counter()
    for (first, second), owed in replayed.items():  # what second owes first
        replay_nets[first] += owed
        replay_nets[second] -= owed
    problems = []
    if sum(nets.values()):
        problems.append(f"trustline nets sum to {sum(nets.values())} micro-units")
    if sum(replay_nets.values()):
        problems.append(f"ledger replay nets sum to {sum(replay_nets.values())} micro-units")
    if replayed != trustline_state(community.pk):
        problems.append("the ledger's replayed balances differ from the trustlines")
    moved = sum(abs(n) for n in nets.values()) / 2 / UNIT
    return _check(
        "balances sum to zero",
        problems,
        f"{len(nets)} accounts, nets sum to {sum(nets.values())}; {len(replayed)} non-zero lines replayed "
        f"from the ledger; {moved:,.2f} units owed in all",
    )


def within_limits(run: Run) -> Check:
    """No debt on a line exceeds the credit its creditor extended (the run never lowers a limit)."""
    from trust.models import Trustline

    problems, most = [], 0.0
    for line in Trustline.objects.filter(community__slug=run.slug):
        # balance > 0: high owes low, within what low extends; balance < 0: the other way round.
        limit = line.limit_from_low if line.balance > 0 else line.limit_from_high
        debt = abs(line.balance)
        if debt > limit:
            problems.append(f"line {line.pk} ({line.low_id}~{line.high_id}): debt {debt} over the limit {limit}")
        if debt and limit:
            most = max(most, debt / limit)
    return _check(
        "no balance over its credit limit",
        problems,
        f"{Trustline.objects.filter(community__slug=run.slug).count()} lines; the fullest at {most:.0%} of its limit",
    )


# --- operations against what the bank holds ---------------------------------------------------------


def payments_applied_once(run: Run) -> Check:
    """Payments and requests, by the memo with their op id: acknowledged ones exactly once with the
    answered id, refused ones never, indeterminate ones at most once; none without an op; every
    settled payment's legs carry its amount from payer to payee and its tax and fees to the commons."""
    from trust.models import Payment, PaymentLeg

    by_memo: dict[str, list[Op]] = defaultdict(list)
    for op in run.ops:
        if op.body and "memo" in op.body:
            by_memo[op.body["memo"]].append(op)
    kinds = (Payment.Kind.PAYMENT, Payment.Kind.REQUEST)
    stored: dict[str, list[Payment]] = defaultdict(list)
    for payment in Payment.objects.filter(community__slug=run.slug, kind__in=kinds).select_related(
        "payer__member", "payee__member"
    ):
        stored[payment.memo].append(payment)
    problems, tally = [], Counter()
    for memo, ops in by_memo.items():
        applied = stored.pop(memo, [])
        outcomes = {op.outcome for op in ops}
        if OK in outcomes:
            tally["acknowledged"] += 1
            problems += _acknowledged_problems(ops, applied)
        elif outcomes == {FAILED}:
            tally["refused"] += 1
            if applied:
                problems.append(
                    f"{ops[0].id} ({ops[0].kind}) was refused (attempts: {ops[0].history} {ops[0].code}) but applied"
                )
        else:
            tally["indeterminate"] += 1
            tally["indeterminate applied"] += bool(applied)
            if len(applied) > 1:
                problems.append(f"{ops[0].id} ({ops[0].kind}, no definite answer) applied {len(applied)} times")
    problems += [f"payment {p.pk} (memo {p.memo!r}) matches no operation" for ps in stored.values() for p in ps]
    legs_problems, settled = _legs_problems(Payment, PaymentLeg, run.slug)
    return _check(
        "payments applied exactly once",
        problems + legs_problems,
        f"{tally['acknowledged']} acknowledged, {tally['refused']} refused, {tally['indeterminate']} "
        f"indeterminate ({tally['indeterminate applied']} of them applied); legs of {settled} settled "
        f"payments checked",
    )


def _acknowledged_problems(ops: list[Op], applied: list) -> list[str]:
    first = ops[0]
    if len(applied) != 1:
        sent = "; ".join(f"{op.id} {op.kind} got {op.history}" for op in ops)
        return [f"{first.id} acknowledged, applied {len(applied)} times: payments {[p.pk for p in applied]} ({sent})"]
    payment, problems = applied[0], []
    for op in ops:
        if op.outcome == OK and op.payment_id != payment.pk:
            problems.append(f"{op.id} ({op.kind}) was answered payment {op.payment_id}, the bank holds {payment.pk}")
    body_payer, body_payee = (first.member, first.body["username"])
    if first.kind == "request":
        body_payer, body_payee = body_payee, body_payer
    if (payment.payer.name, payment.payee.name, payment.amount) != (
        body_payer,
        body_payee,
        micro(first.body["amount"]),
    ):
        problems.append(
            f"{first.id}: payment {payment.pk} is {payment.payer.name}->{payment.payee.name} "
            f"{payment.amount}, not what was sent ({first.body})"
        )
    if first.kind == "pay" and payment.state != payment.State.FINALIZED:
        problems.append(f"{first.id}: acknowledged payment {payment.pk} is {payment.state}")
    return problems


def _legs_problems(Payment, PaymentLeg, slug: str) -> tuple[list[str], int]:
    legs = defaultdict(list)
    for leg in PaymentLeg.objects.filter(payment__community__slug=slug).values_list(
        "payment_id", "sender_id", "receiver_id", "amount", "purpose"
    ):
        legs[leg[0]].append(leg[1:])
    problems, settled = [], 0
    for payment in Payment.objects.filter(community__slug=slug):
        mine = legs.pop(payment.pk, [])
        if payment.state != Payment.State.FINALIZED:
            if mine:
                problems.append(f"payment {payment.pk} is {payment.state} but has {len(mine)} legs")
            continue
        settled += 1
        paid = sum(amount for sender, _, amount, purpose in mine if sender == payment.payer_id and purpose == "payment")
        received = sum(
            amount for _, receiver, amount, purpose in mine if receiver == payment.payee_id and purpose == "payment"
        )
        taxed = sum(amount for *_, amount, purpose in mine if purpose == "tax")
        if (paid, received, taxed) != (payment.amount, payment.amount, payment.tax + payment.fees):
            problems.append(
                f"payment {payment.pk}: legs pay {paid}, deliver {received}, tax {taxed}; "
                f"amount {payment.amount}, tax+fees {payment.tax + payment.fees}"
            )
    problems += [f"legs of payment {pk}, which does not exist" for pk in legs]
    return problems, settled


def status_changes(run: Run) -> Check:
    """Every acknowledged status change holds, every status a payment has was set by an operation
    that was not refused, a change sent twice at once is acknowledged at most once, and a declined
    or refunded payment went back exactly once, as one linked payment of its amount."""
    from trust.models import Payment

    by_target: dict[int, list[Op]] = defaultdict(list)
    for op in run.ops:
        if op.target is not None:
            by_target[op.target].append(op)
    payments = Payment.objects.filter(community__slug=run.slug)
    followups = defaultdict(list)
    for payment in payments.filter(related__isnull=False):
        followups[payment.related_id].append(payment)
    problems, tally = [], Counter(op.outcome for ops in by_target.values() for op in ops)
    for payment in payments.filter(kind__in=(Payment.Kind.PAYMENT, Payment.Kind.REQUEST)):
        ops = by_target.get(payment.pk, [])
        problems += _effects_problems(payment, ops)
        problems += _followup_problems(payment, followups.get(payment.pk, []))
    returned = sum(len(f) for f in followups.values())
    return _check(
        "status changes applied as answered",
        problems,
        f"{tally[OK]} acknowledged, {tally[FAILED]} refused, {tally[INDETERMINATE]} indeterminate; "
        f"{returned} declined or refunded payments sent back",
    )


def _effects_problems(payment, ops: list[Op]) -> list[str]:
    problems = []
    for action, holds in EFFECTS.items():
        mine = [op for op in ops if action_of(op) == action]
        acknowledged = [op for op in mine if op.outcome == OK]
        if len(acknowledged) > 1:
            problems.append(
                f"payment {payment.pk}: {action} acknowledged {len(acknowledged)} times "
                f"({', '.join(op.id for op in acknowledged)})"
            )
        if acknowledged and not holds(payment):
            problems.append(f"payment {payment.pk}: {action} acknowledged ({acknowledged[0].id}) but not applied")
        if holds(payment) and not _explained(payment, action, mine):
            tried = "; ".join(f"{op.id} got {op.history} {op.code}".strip() for op in mine) or "none sent"
            problems.append(f"payment {payment.pk}: shows {action}, but every {action} was refused ({tried})")
    return problems


def _explained(payment, action: str, mine: list[Op]) -> bool:
    # Paying a request accepts it on the payee's side too: the payer's accept_request answers for it.
    if action == "payee_accept" and payment.kind == payment.Kind.REQUEST:
        return True
    return any(op.outcome != FAILED for op in mine)


def _followup_problems(payment, followups: list) -> list[str]:
    kind = {payment.PayeeStatus.DECLINE: payment.Kind.RETURN, payment.PayeeStatus.REFUND: payment.Kind.REFUND}.get(
        payment.payee_status
    )
    if kind is None:
        return (
            [f"payment {payment.pk} was not declined or refunded but has followups {[f.pk for f in followups]}"]
            if followups
            else []
        )
    if len(followups) != 1:
        return [f"payment {payment.pk} ({payment.get_payee_status_display()}) went back {len(followups)} times"]
    back = followups[0]
    if (back.kind, back.state, back.amount, back.payer_id, back.payee_id) != (
        kind,
        payment.State.FINALIZED,
        payment.amount,
        payment.payee_id,
        payment.payer_id,
    ):
        return [
            (
                f"payment {payment.pk}: its {kind} {back.pk} is {back.kind} {back.state} {back.amount} "
                f"{back.payer_id}->{back.payee_id}"
            )
        ]
    return []


def idempotency(run: Run) -> Check:
    """The same key and body again answers the first response; the same key with another body is
    refused 422 ``idempotency_key_reused`` (checked where the first request was acknowledged)."""
    by_id = {op.id: op for op in run.ops}
    problems, replays, reuses = [], 0, 0
    for op in run.ops:
        first = by_id.get(op.replay_of) if op.replay_of else None
        if first is None or first.outcome != OK or op.outcome == INDETERMINATE:
            continue
        if op.kind in ("replay", "race"):
            replays += 1
            if (op.status, op.payment_id) != (first.status, first.payment_id):
                problems.append(
                    f"{op.id} replayed {first.id} (payment {first.payment_id}): answered {op.status} "
                    f"{op.code or 'payment ' + str(op.payment_id)}"
                )
        elif op.kind == "reuse":
            reuses += 1
            if (op.status, op.code) != (422, "idempotency_key_reused"):
                problems.append(
                    f"{op.id} reused the key of {first.id} with another body: answered {op.status} "
                    f"{op.code or 'payment ' + str(op.payment_id)}"
                )
    return _check(
        "Idempotency-Key honoured",
        problems,
        f"{replays} replays of acknowledged payments, {reuses} reuses of their keys with another body",
    )


# --- the books ---------------------------------------------------------------------------------------


def ledger_entry_per_leg(run: Run) -> Check:
    """Each leg of each payment has exactly one ledger entry: same accounts, amount and type."""
    from ledger import formats
    from ledger.models import Entry
    from trust.models import Payment, PaymentLeg

    kinds = dict(Payment.objects.filter(community__slug=run.slug).values_list("pk", "kind"))
    entry_type = {Payment.Kind.REQUEST: "payment"}
    expected: dict[int, Counter] = defaultdict(Counter)
    for payment_id, sender, receiver, amount, purpose in PaymentLeg.objects.filter(
        payment__community__slug=run.slug
    ).values_list("payment_id", "sender_id", "receiver_id", "amount", "purpose"):
        kind = "tax" if purpose == PaymentLeg.Purpose.TAX else entry_type.get(kinds[payment_id], kinds[payment_id])
        expected[payment_id][(sender, receiver, amount, kind)] += 1
    found: dict[int, Counter] = defaultdict(Counter)
    archives, problems = 0, []
    for payment_id, source, destination, record in Entry.objects.filter(community__slug=run.slug).values_list(
        "payment_id", "source_id", "destination_id", "record"
    ):
        parsed = formats.parse_record(record)
        if payment_id is None:
            archives += parsed.type == "archive"
            if parsed.type != "archive":
                problems.append(f"entry {parsed.receipt_id} ({parsed.type}) belongs to no payment")
            continue
        found[payment_id][(source, destination, formats.amount_micro(parsed.amount), parsed.type)] += 1
    for payment_id in sorted(set(expected) | set(found)):
        if expected[payment_id] != found[payment_id]:
            problems.append(
                f"payment {payment_id}: legs {dict(expected[payment_id])}, entries {dict(found[payment_id])}"
            )
    legs = sum(sum(c.values()) for c in expected.values())
    return _check(
        "one ledger entry per leg",
        problems,
        f"{legs} legs of {len(expected)} payments, {sum(sum(c.values()) for c in found.values())} "
        f"entries for them, {archives} archive entries",
    )


def ledger_audit(run: Run) -> Check:
    """``ledger.verification.audit``: every entry, record and archive, the head, the agreement with the trustlines."""
    from bank.models import Community
    from ledger.models import Archive, Entry
    from ledger.verification import audit

    community = Community.objects.get(slug=run.slug)
    began = time.monotonic()
    findings = audit(community.pk)
    entries = Entry.objects.filter(community=community).count()
    archives = Archive.objects.filter(community=community).count()
    return _check(
        "ledger audit clean",
        [f"{f.code} at receipt {f.receipt_id}: {f.description}" for f in findings],
        f"{entries} entries in {archives + 1} segments ({archives} archived), {len(findings)} findings, "
        f"{time.monotonic() - began:.1f} s",
    )


def audit_motion(run: Run) -> Check:
    """An audit moved and seconded over the API runs in the (restarted) Celery worker and finds nothing."""
    first, second = list(run.tokens.values())[:2]
    began = time.monotonic()
    status, ticket = post_json(run.port, run.api + "ledger/audit", {}, first)
    if status != 201:
        return _check("audit motion run by Celery", [f"ledger/audit answered {status}: {ticket}"], "")
    number = ticket["ticket"]
    status, ticket = post_json(run.port, run.api + "ledger/second", {"ticket": number}, second)
    while status == 200 and ticket["state"] not in ("done", "failed") and time.monotonic() - began < MOTION_TIMEOUT:
        time.sleep(0.5)
        status, ticket = get_json(run.port, run.api + f"ledger/tickets/{number}", first)
    problems = []
    if status != 200 or ticket["state"] != "done":
        problems.append(f"ticket {number}: {status} {ticket}")
    else:
        problems += [f"{c['code']} at receipt {c['receipt_id']}: {c['description']}" for c in ticket["conflicts"]]
    checked = (ticket or {}).get("progress", {}).get("entries_checked")
    return _check(
        "audit motion run by Celery",
        problems,
        f"ticket {(ticket or {}).get('state')} in {time.monotonic() - began:.1f} s, {checked} entries checked, "
        f"{len((ticket or {}).get('conflicts', []))} conflicts",
    )


def receipts_complete(run: Run) -> Check:
    """Every entry's signed receipt is served to its source and its destination account, and every
    receipt verifies offline (``ledger.offline``: both signatures, the key certificate, its record)."""
    from bank.models import Community
    from ledger import offline
    from ledger.models import Entry
    from ledger.selectors import receipts_all, records_lines
    from trust.models import Account

    community = Community.objects.get(slug=run.slug)
    holders: dict[int, set[int]] = defaultdict(set)
    for receipt_id, source, destination in Entry.objects.filter(community=community, source__isnull=False).values_list(
        "receipt_id", "source_id", "destination_id"
    ):
        holders[source].add(receipt_id)
        holders[destination].add(receipt_id)
    problems, receipts = [], {}
    for account in Account.objects.filter(community=community).select_related("community", "member"):
        served = {r["receipt_id"]: r for r in receipts_all(account=account)}
        missing = holders.get(account.pk, set()) - set(served)
        if missing:
            problems.append(f"{account.name} is not served {len(missing)} receipts: {sorted(missing)[:5]}")
        receipts.update(served)
    results, chain = offline.verify({"receipts": list(receipts.values())}, list(records_lines(community=community)))
    problems += [f"receipt {receipt_id}: {problem}" for receipt_id, problem in results if problem]
    if chain:
        problems.append(f"public records: {chain}")
    expected = len(set().union(*holders.values())) if holders else 0
    return _check(
        "receipts complete and signed",
        problems,
        f"{len(receipts)} receipts served for {expected} entries, "
        f"{sum(1 for _, p in results if not p)} verified offline",
    )


# --- availability and resources ---------------------------------------------------------------------


def no_errors_outside_faults(run: Run) -> Check:
    """No 5xx answer, and no request left without an answer, unless it overlapped a fault window."""
    inside, outside = Counter(), []
    for op in run.ops:
        for attempt in op.attempts:
            if attempt.status is not None and attempt.status < 500:
                continue
            what = attempt.status or attempt.error
            if any(f.overlaps(attempt.start, attempt.end) for f in run.faults):
                inside[what] += 1
            else:
                outside.append(
                    f"{op.id} {op.kind} {op.method} {op.path} at {attempt.start:.2f}-{attempt.end:.2f} s: {what}"
                )
    figures = ", ".join(f"{count} x {what}" for what, count in inside.most_common()) or "none"
    return _check(
        "no 5xx or dropped request outside fault windows",
        outside,
        f"within fault windows: {figures}; outside: {len(outside)}",
    )


def connections_within_limit(run: Run) -> Check:
    problems = []
    if not run.connection_samples:
        problems.append("pg_stat_activity was never sampled")
    if run.peak_connections > run.max_connections:
        problems.append(f"peak {run.peak_connections} over max_connections {run.max_connections}")
    return _check(
        "PostgreSQL connections within max_connections",
        problems,
        f"peak {run.peak_connections} client connections of {run.max_connections} "
        f"({run.connection_samples} samples, every 0.2 s)",
    )


CHECKS = (
    trustline_views,
    balances_sum_to_zero,
    within_limits,
    payments_applied_once,
    status_changes,
    idempotency,
    ledger_entry_per_leg,
    ledger_audit,
    audit_motion,
    receipts_complete,
    no_errors_outside_faults,
    connections_within_limit,
)


def run_checks(run: Run) -> list[Check]:
    return [check(run) for check in CHECKS]
