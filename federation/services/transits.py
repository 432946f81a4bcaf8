"""Payments routed across instances: the Resilience seed's path search and hashlock settlement.

Every step is one database transaction on one instance (the one that accepts a datagram, or beat's sweep),
which also queues the datagrams the step sends; the pair channel (``services.datagrams``) delivers each
exactly once and in order, so a restart goes on from the step recorded. The steps, for a payment from
the payer's instance through relays to the payee's::

    payer  --SYNC_PAYMENT(request, amount)-->  payee       the payee's instance picks the preimage and
           <--ACK_SYNC(hashlock)-------------              answers its hash: the payment's id from now on
    payer  --FIND_PATH-->  relay  --FIND_PATH-->  payee    each forwards along its own trustlines only
           <--PATH_FOUND--        <--PATH_FOUND--          the first branch that answers is the path
    payer  --PREPARE_PATH(deadline)--> relay --> payee     each hop holds its segment, deadlines decrease
    payer  <--COMMIT_PAYMENT--------------------  payee    every hold is in place
    payer  --SEAL_PAYMENT---------------------->  payee    the payer's irrevocable go
           <--FINALIZE_PAYMENT(preimage)-- <--             each hop settles its holds on the preimage

A hop that cannot hold refuses PREPARE_PATH and the refusal goes back as CANCEL_PAYMENT, each hop
releasing its holds. A hold never ends by one side alone while the other may still claim it: past its
deadline a hop asks the next (VERIFY_COMMIT) and releases only when that one answers it released too (a
payee that was never sealed releases when asked), or when the next instance has not answered for
``FEDERATED_ABANDON_SECONDS`` past the deadline.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bank.models import Member
from core.errors import Conflict
from federation.errors import PeerUnreachable
from federation.models import Outbound, Pair, Transit
from federation.protocols.datagrams import PeerCommand, PeerDatagram, Session, Status
from federation.services import lines, outbox, pairs
from trust import selectors as trust_selectors
from trust.errors import InsufficientCapacity, NoTrustPath, RoutingError, RoutingTimeout, written
from trust.models import Account, Payment
from trust.routing.planner import Plan
from trust.services import accounts, holds, payments
from trust.services.moving import StaleRoute
from trust.services.settlement import plan_here, with_retries

logger = logging.getLogger("federation.transits")
State = Payment.State
Role = Transit.Role
OPEN = (State.PENDING, State.ROUTED)  # searching, no holds
HELD = (State.PREPARED, State.COMMITTED, State.SEALED)
IN_FLIGHT = OPEN + HELD
ENDED = (State.FINALIZED, State.CANCELLED)
REFUSALS = {
    "no_trust_path": NoTrustPath,
    "insufficient_capacity": InsufficientCapacity,
    "routing_timeout": RoutingTimeout,
    "peer_unreachable": PeerUnreachable,
}
MAX_BRANCHES = 8  # remote accounts a search goes out to from one instance
PAYER_HOPS = 6  # instances a payment may cross after the payer's
SEARCH_GAS = 32


@dataclass(frozen=True)
class Exit:
    """A way out of this instance: the pair to the remote account, and the plan from the entry to it."""

    pair: Pair
    plan: Plan


def _send(pair: Pair, command: PeerCommand, session: Session = Session.ACCOUNT, **arguments) -> None:
    outbox.datagram_queue(pair=pair, command=command, arguments=arguments, session=session)


def _remote_of(pair: Pair) -> Account:
    return lines.remote_account_of(pair)


def _exit_through(entry: Account, pair: Pair, amount: int, *, taxed: bool) -> Plan:
    """The plan from ``entry`` to ``pair``'s remote account, over the pair's own trustline last.

    Raises ``RoutingError`` (or ``StaleRoute`` when the plan would reach it over another member's line).
    """
    remote = _remote_of(pair)
    plan = plan_here(entry, remote, amount, taxed=taxed)
    last_senders = {sender for purpose, _, _, sender, receiver, _ in plan.legs() if receiver == remote.pk}
    member_account = trust_selectors.account_of(member=pair.member)
    if last_senders != {member_account.pk}:
        raise StaleRoute(entry.community_id, set())
    return plan


def _exits(entry: Account, amount: int, *, taxed: bool, not_via: set[str]) -> tuple[list[Exit], RoutingError]:
    """The pairs a payment of ``amount`` from ``entry`` can leave this instance by, and why the others cannot."""
    community = entry.community
    remotes = Account.objects.filter(community=community, kind=Account.Kind.REMOTE).exclude(pk=entry.pk)
    best: RoutingError = NoTrustPath("There is no chain of trustlines to another instance.")
    found = []
    for remote in remotes.exclude(address__in=not_via)[: MAX_BRANCHES * 4]:
        handle, _, host = remote.address.rpartition("@")
        for pair in Pair.objects.filter(member__community=community, handle=handle, host=host).select_related(
            "member__community", "remote"
        ):
            if not trust_selectors.trustline_between(
                first=trust_selectors.account_of(member=pair.member), second=remote
            ):
                continue
            try:
                found.append(Exit(pair, _exit_through(entry, pair, amount, taxed=taxed)))
            except InsufficientCapacity as exc:
                if not isinstance(best, InsufficientCapacity) or exc.max_sendable > best.max_sendable:
                    best = exc
            except (RoutingError, StaleRoute):
                continue
        if len(found) >= MAX_BRANCHES:
            break
    return found, best


# The payer's side


def payment_start(*, member: Member, payee: Account, amount: int, memo: str = "", tag: str = "") -> Payment:
    """Begin paying ``payee`` (a remote account of another instance) through the trust graph.

    Refuses at once, changing nothing, when no trustline to another instance can carry the amount and its
    tax here (``no_trust_path``, ``insufficient_capacity`` with ``max_sendable``). Otherwise the payment is
    ``pending`` until the payee's instance answers with its hashlock, and goes on from there.
    """
    payer = trust_selectors.account_of(member=member)
    found, best = _exits(payer, amount, taxed=True, not_via=set())
    if not found:
        raise best
    return with_retries(partial(_payment_open, member, payer, payee, amount, memo, tag))


def _payment_open(member: Member, payer: Account, payee: Account, amount: int, memo: str, tag: str) -> Payment:
    with transaction.atomic():
        payee = accounts.remote_account_open(community=payer.community, address=payee.address)
        payment = Payment.objects.create(
            community_id=payer.community_id, payer=payer, payee=payee, amount=amount, memo=memo, tag=tag
        )
        counterpart = pairs.pair_open(member=member, address=payee.address)
        request = secrets.token_bytes(32)
        Transit.objects.create(
            role=Role.PAYER,
            request_id=request.hex(),
            payment=payment,
            amount=amount,
            counterpart=counterpart,
            hops=PAYER_HOPS,
            search_until=timezone.now() + timedelta(seconds=settings.FEDERATED_SEARCH_SECONDS),
        )
        _send(counterpart, PeerCommand.SYNC_PAYMENT, Session.COUNTERPART, id=request, amount=amount)
    return payment


def payment_preview(*, member: Member, amount: int) -> Plan:
    """The plan of the payer's part of a payment to another instance: to the first account there."""
    payer = trust_selectors.account_of(member=member)
    found, best = _exits(payer, amount, taxed=True, not_via=set())
    if not found:
        raise best
    return found[0].plan


def request_start(*, member: Member, payer: Account, amount: int, memo: str = "", tag: str = "") -> Payment:
    """Ask ``payer`` (a remote account) to pay ``member``: a pending request here, announced to the payer's
    instance as FIND_PATH "in" over their counterpart pair; when the payer accepts there, the payment comes
    the way any payment between instances does, under this request's hashlock."""
    payee = trust_selectors.account_of(member=member)
    preimage = secrets.token_bytes(32)
    hashlock = hashlib.sha256(preimage).digest()
    with transaction.atomic():
        payer = accounts.remote_account_open(community=payee.community, address=payer.address)
        counterpart = pairs.pair_open(member=member, address=payer.address)
        payment = payments.request_record(
            payee=payee,
            payer=payer,
            amount=amount,
            memo=memo,
            tag=tag,
            preimage=preimage.hex(),
            hashlock=hashlock.hex(),
        )
        Transit.objects.create(
            role=Role.PAYEE,
            hashlock=hashlock.hex(),
            payment=payment,
            amount=amount,
            counterpart=counterpart,
            search_until=payment.deadline,
        )
        _send(counterpart, PeerCommand.FIND_PATH, Session.COUNTERPART, **_asked_in(hashlock, amount))
    return payment


def _asked_in(hashlock: bytes, amount: int) -> dict:
    return {"id": hashlock, "amount": amount, "tax": 0, "in_or_out": 1, "fee": 0, "hops": 0, "gas": 0}


def request_accept(*, payment: Payment) -> Payment:
    """The payer here pays a request of a member of another instance: the search starts under its hashlock.
    Refused at once, changing nothing, when no line to another instance can carry it."""
    with transaction.atomic():
        transit = _locked(payment=payment, role=Role.PAYER)
        payment = transit.payment if transit is not None else payment
        if transit is None or payment.state != State.PENDING or payment.payer_status != Payment.PayerStatus.NOT_SET:
            raise Conflict("This request is no longer pending.", code="status_change_not_allowed")
        if payment.deadline and payment.deadline <= timezone.now():
            raise Conflict("This request has expired.", code="status_change_not_allowed")
        found, best = _exits(payment.payer, transit.amount, taxed=True, not_via=set())
        if not found:
            raise best
        payment.payer_status, payment.payee_status = Payment.PayerStatus.ACCEPT, Payment.PayeeStatus.ACCEPT
        payment.save(update_fields=["payer_status", "payee_status"])
        transit.search_until = timezone.now() + timedelta(seconds=settings.FEDERATED_SEARCH_SECONDS)
        _search(transit, found, **_payers_search(transit))
    return payment


def _request_received(pair: Pair, transit: Transit | None, arguments: dict) -> Status:
    """FIND_PATH "in" over the counterpart pair: a member elsewhere asks the member here to pay them."""
    if transit is not None or arguments["amount"] == 0:
        return Status.REFUSED
    payer = trust_selectors.account_of(member=pair.member)
    payee = accounts.remote_account_open(community=payer.community, address=pair.remote_address)
    payment = payments.request_record(
        payee=payee, payer=payer, amount=arguments["amount"], hashlock=arguments["id"].hex()
    )
    Transit.objects.create(
        role=Role.PAYER,
        hashlock=payment.hashlock,
        payment=payment,
        amount=payment.amount,
        counterpart=pair,
        hops=PAYER_HOPS,
        search_until=payment.deadline,
    )
    return Status.OK


def refusal_of(payment: Payment) -> Exception:
    """The error a cancelled payment of this instance's member answers with: its code and reason."""
    code = Transit.objects.filter(payment=payment).values_list("error", flat=True).first() or ""
    refusal = REFUSALS.get(code)
    reason = payment.cancel_reason or "The payment could not be completed."
    if refusal is InsufficientCapacity:
        return RoutingError(reason, code="insufficient_capacity")  # beyond this instance: max_sendable unknown
    if refusal is not None:
        return refusal(reason)
    return RoutingError(reason, code=code or "payment_refused")


def _hashlock_known(transit: Transit, hashlock: bytes) -> None:
    """The payee's instance answered SYNC_PAYMENT: search for the path under the payment's id."""
    payment = transit.payment
    if payment.state != State.PENDING or transit.hashlock:
        return
    if hashlock.hex() == transit.request_id:
        _cancel(transit, "The payee's instance declined the payment.", code="payment_refused")
        return
    transit.hashlock = payment.hashlock = hashlock.hex()
    payment.save(update_fields=["hashlock"])
    found, best = _exits(payment.payer, transit.amount, taxed=True, not_via=set())
    if not found:
        _cancel(transit, best.message, code=best.code)  # saves the hashlock with the rest
        return
    _search(transit, found, **_payers_search(transit))


def _payers_search(transit: Transit) -> dict:
    """The FIND_PATH the payer's instance sends out: the whole amount, the hops after it, all the gas."""
    return {
        "id": bytes.fromhex(transit.hashlock),
        "amount": transit.amount,
        "tax": 0,
        "in_or_out": 0,
        "fee": 0,
        "hops": transit.hops - 1,
        "gas": SEARCH_GAS,
    }


def _search(transit: Transit, found: list[Exit], **search) -> None:
    """Send FIND_PATH (``search``, its arguments) out over every exit found, and remember them as the branches."""
    transit.branches = [exit.pair.pk for exit in found]
    transit.save()
    for exit in found:
        _send(exit.pair, PeerCommand.FIND_PATH, **search)


def _prepare_first_hop(transit: Transit, pair: Pair) -> None:
    """The path is found: hold the payer's segment and send PREPARE_PATH with the payer's deadline."""
    payment = transit.payment
    try:
        plan = _exit_through(payment.payer, pair, transit.amount, taxed=True)
        deadline = timezone.now() + timedelta(
            seconds=settings.FEDERATED_HOLD_SECONDS + transit.hops * settings.FEDERATED_DEADLINE_STEP_SECONDS
        )
        with transaction.atomic():
            holds.hold_place(payment, plan)
    except (RoutingError, StaleRoute) as exc:
        message = exc.message if isinstance(exc, RoutingError) else "Balances changed while routing."
        _cancel(transit, message, code=getattr(exc, "code", "route_changed"))
        _send(pair, PeerCommand.CLEANUP_PAYMENT, id=bytes.fromhex(transit.hashlock))
        return
    transit.deadline = payment.deadline = deadline
    payment.save(update_fields=["deadline"])
    transit.save()
    _send(pair, PeerCommand.PREPARE_PATH, id=bytes.fromhex(transit.hashlock), deadline=int(deadline.timestamp()))


def _payee_deadline(transit: Transit) -> datetime:
    """The deadline of the payee's hold: the payer's, less a step for each instance in between."""
    return transit.deadline - timedelta(seconds=(transit.hops - 1) * settings.FEDERATED_DEADLINE_STEP_SECONDS)


# Each step, as a datagram arrives


def handle(pair: Pair, message: PeerDatagram) -> Status:
    """Apply a routed-payment datagram from ``pair``, in the transaction that accepts it."""
    step = STEPS[message.command]
    if message.command == PeerCommand.SYNC_PAYMENT:
        return step(pair, message.arguments)
    return step(pair, _locked(hashlock=_id_of(message)), message.arguments)


def _id_of(message: PeerDatagram) -> str:
    """The payment a datagram is about, by its id (hex): FINALIZE_PAYMENT names it by the preimage."""
    arguments = message.arguments
    if message.command == PeerCommand.FINALIZE_PAYMENT:
        return hashlib.sha256(arguments["preimage"]).hexdigest()
    if message.command == PeerCommand.CANCEL_PAYMENT:
        return arguments["preimage"].hex()  # a cancel names the payment by its id: no preimage was revealed
    return arguments["id"].hex()


def _payee_announced(pair: Pair, arguments: dict) -> Status:
    """SYNC_PAYMENT over the counterpart pair: a member elsewhere means to pay the member here."""
    preimage = secrets.token_bytes(32)
    payee = trust_selectors.account_of(member=pair.member)
    payer = _remote_of(pair)
    payment = Payment.objects.create(
        community_id=payee.community_id,
        payer=payer,
        payee=payee,
        amount=arguments["amount"],
        hashlock=hashlib.sha256(preimage).hexdigest(),
        preimage=preimage.hex(),
    )
    Transit.objects.create(
        role=Role.PAYEE,
        hashlock=payment.hashlock,
        request_id=arguments["id"].hex(),
        payment=payment,
        amount=arguments["amount"],
        counterpart=pair,
        search_until=timezone.now() + timedelta(seconds=settings.FEDERATED_HOLD_SECONDS),
    )
    return Status.OK


def _path_sought(pair: Pair, transit: Transit | None, arguments: dict) -> Status:
    """FIND_PATH from ``pair``: the payee's instance answers PATH_FOUND if it can carry the amount to the payee;
    another forwards the search along its own trustlines, once per payment."""
    if arguments["in_or_out"] == 1:
        return _request_received(pair, transit, arguments)
    amount = arguments["amount"]
    entry = _remote_of(pair)
    if transit is not None:
        if transit.role != Role.PAYEE or transit.upstream_id is not None or transit.payment.state != State.PENDING:
            return Status.REFUSED  # seen already: a search never loops
        if transit.amount != amount:
            return Status.REFUSED
        try:
            plan_here(entry, transit.payment.payee, amount, taxed=False)
        except RoutingError as exc:
            return _refusal_status(exc)
        transit.upstream = pair
        transit.save()
        _set_state(transit.payment, State.ROUTED)
        _send(pair, PeerCommand.PATH_FOUND, id=arguments["id"], hops=1)
        return Status.OK
    if arguments["hops"] == 0 or arguments["gas"] == 0:
        return Status.REFUSED
    found, best = _exits(entry, amount, taxed=False, not_via={entry.address})
    if not found:
        return _refusal_status(best)
    relay = Transit(
        role=Role.RELAY,
        hashlock=arguments["id"].hex(),
        amount=amount,
        upstream=pair,
        hops=arguments["hops"],
        search_until=timezone.now() + timedelta(seconds=settings.FEDERATED_SEARCH_SECONDS * 2),
    )
    gas = max(1, (arguments["gas"] - 1) // len(found))
    _search(relay, found, **{**arguments, "hops": arguments["hops"] - 1, "gas": gas})
    return Status.OK


def _refusal_status(exc: RoutingError) -> Status:
    return Status.INSUFFICIENT if isinstance(exc, InsufficientCapacity) else Status.REFUSED


def _path_found(pair: Pair, transit: Transit | None, arguments: dict) -> Status:
    """PATH_FOUND from a branch: the first one is the path (a relay passes it on, the payer prepares)."""
    if transit is None or pair.pk not in transit.branches:
        return Status.REFUSED
    if transit.downstream_id is not None or _state(transit) != State.PENDING:
        _send(pair, PeerCommand.CLEANUP_PAYMENT, id=arguments["id"])  # another branch was quicker
        return Status.OK
    transit.downstream = pair
    if transit.role == Role.RELAY:
        transit.save()
        _send(transit.upstream, PeerCommand.PATH_FOUND, id=arguments["id"], hops=min(255, arguments["hops"] + 1))
        return Status.OK
    transit.hops = arguments["hops"]
    transit.save()
    _set_state(transit.payment, State.ROUTED)
    _prepare_first_hop(transit, pair)
    return Status.OK


def _prepare_asked(pair: Pair, transit: Transit | None, arguments: dict) -> Status:
    """PREPARE_PATH from upstream: hold this instance's segment, then pass it on with an earlier deadline."""
    if transit is None or transit.upstream_id != pair.pk or _state(transit) not in OPEN:
        return Status.REFUSED
    now = timezone.now()
    deadline_in = datetime.fromtimestamp(arguments["deadline"], tz=now.tzinfo)
    step = timedelta(seconds=settings.FEDERATED_DEADLINE_STEP_SECONDS)
    own_deadline = deadline_in if transit.role == Role.PAYEE else deadline_in - step
    if own_deadline < now + step or (transit.role == Role.RELAY and transit.downstream_id is None):
        return _refuse_prepare(transit, "Too late to hold the payment before its deadline.", code="routing_timeout")
    entry = _remote_of(pair)
    try:
        if transit.role == Role.PAYEE:
            payment = transit.payment
            plan = plan_here(entry, payment.payee, transit.amount, taxed=False)
        else:
            plan = _exit_through(entry, transit.downstream, transit.amount, taxed=False)
            payment = Payment(
                community_id=entry.community_id,
                payer=entry,
                payee=_remote_of(transit.downstream),
                amount=transit.amount,
                hashlock=transit.hashlock,
            )
        payment.deadline = own_deadline
        with transaction.atomic():
            holds.hold_place(payment, plan)
    except (RoutingError, StaleRoute):
        reason = "A trustline on the way could not carry the payment."
        return _refuse_prepare(transit, reason, code="insufficient_capacity")
    transit.payment, transit.deadline_in = payment, deadline_in
    transit.deadline = None if transit.role == Role.PAYEE else own_deadline
    transit.save()
    payment_id = bytes.fromhex(transit.hashlock)
    if transit.role == Role.PAYEE:
        _send(transit.counterpart, PeerCommand.COMMIT_PAYMENT, Session.COUNTERPART, id=payment_id)
    else:
        _send(transit.downstream, PeerCommand.PREPARE_PATH, id=payment_id, deadline=int(own_deadline.timestamp()))
    return Status.OK


def _refuse_prepare(transit: Transit, reason: str, *, code: str) -> Status:
    if transit.downstream_id is not None:
        _send(transit.downstream, PeerCommand.CLEANUP_PAYMENT, id=bytes.fromhex(transit.hashlock))
    _cancel(transit, reason, code=code, tell_upstream=False)  # the refusal tells upstream
    return Status.INSUFFICIENT if code == "insufficient_capacity" else Status.REFUSED


def _committed(pair: Pair, transit: Transit | None, arguments: dict) -> Status:
    """COMMIT_PAYMENT from the payee: every hold is in place; seal while the payee's hold has time to run."""
    if transit is None or transit.role != Role.PAYER or transit.counterpart_id != pair.pk:
        return Status.REFUSED
    if _state(transit) not in (State.PREPARED, State.COMMITTED):
        return Status.REFUSED
    margin = timedelta(seconds=settings.FEDERATED_DEADLINE_STEP_SECONDS)
    if timezone.now() + margin > _payee_deadline(transit):
        return Status.REFUSED  # too late to seal: the payee's hold ends, and the cancel comes back
    _set_state(transit.payment, State.SEALED)
    _send(pair, PeerCommand.SEAL_PAYMENT, Session.COUNTERPART, id=arguments["id"])
    return Status.OK


def _sealed(pair: Pair, transit: Transit | None, arguments: dict) -> Status:
    """SEAL_PAYMENT from the payer: the payee's instance settles and sends the preimage back along the path."""
    if transit is None or transit.role != Role.PAYEE or transit.counterpart_id != pair.pk:
        return Status.REFUSED
    if _state(transit) != State.PREPARED or timezone.now() >= transit.deadline_in:
        return Status.REFUSED
    if transit.payment.kind == Payment.Kind.REQUEST:  # the payer accepted it, or it would not have come
        transit.payment.payer_status = Payment.PayerStatus.ACCEPT
        transit.payment.save(update_fields=["payer_status"])
    payment = holds.hold_settle(transit.payment)
    _close(transit)
    _send(transit.upstream, PeerCommand.FINALIZE_PAYMENT, preimage=bytes.fromhex(payment.preimage))
    return Status.OK


def _finalized(pair: Pair, transit: Transit | None, arguments: dict) -> Status:
    """FINALIZE_PAYMENT from downstream: the preimage settles this instance's holds and goes on upstream."""
    if transit is None or transit.downstream_id != pair.pk:
        return Status.REFUSED
    state = _state(transit)
    if state == State.FINALIZED:
        return Status.OK
    if state not in HELD:
        transit.conflict = True
        transit.save(update_fields=["conflict", "updated_at"])
        logger.error("event=preimage_after_cancel transit=%s", transit.pk)
        return Status.REFUSED
    transit.payment.preimage = arguments["preimage"].hex()
    holds.hold_settle(transit.payment)
    _close(transit)
    if transit.role == Role.RELAY:
        _send(transit.upstream, PeerCommand.FINALIZE_PAYMENT, preimage=arguments["preimage"])
    return Status.OK


def _cancelled(pair: Pair, transit: Transit | None, arguments: dict) -> Status:
    """CANCEL_PAYMENT from downstream: it will never claim, so this instance releases and tells upstream."""
    if transit is None or transit.downstream_id != pair.pk:
        return Status.REFUSED
    if _state(transit) not in ENDED:
        _cancel(transit, "The payment could not be completed on the way to the payee.", code="insufficient_capacity")
    return Status.OK


def _cleanup(pair: Pair, transit: Transit | None, arguments: dict) -> Status:
    """CLEANUP_PAYMENT from upstream, or from the payer to the payee: forget a search that holds nothing
    (another branch was taken, or the payment ended)."""
    if transit is None or pair.pk not in (transit.upstream_id, transit.counterpart_id):
        return Status.REFUSED
    if _state(transit) in OPEN:
        if transit.downstream_id is not None:
            _send(transit.downstream, PeerCommand.CLEANUP_PAYMENT, id=arguments["id"])
        _end_quietly(transit)
    return Status.OK


def _verify(pair: Pair, transit: Transit | None, arguments: dict) -> Status:
    """VERIFY_COMMIT from upstream, whose hold towards here has ended: OK when settled here (the preimage is on
    its way), REFUSED when released here (a payee never sealed releases now), PENDING while it depends on
    the next hop."""
    if transit is None or transit.upstream_id != pair.pk:
        return Status.REFUSED
    state = _state(transit)
    if state == State.FINALIZED:
        return Status.OK
    if state == State.CANCELLED:
        return Status.REFUSED
    if transit.role == Role.PAYEE or state in OPEN:
        _end_quietly(transit)
        return Status.REFUSED
    return Status.PENDING


STEPS = {
    PeerCommand.SYNC_PAYMENT: _payee_announced,
    PeerCommand.FIND_PATH: _path_sought,
    PeerCommand.PATH_FOUND: _path_found,
    PeerCommand.PREPARE_PATH: _prepare_asked,
    PeerCommand.COMMIT_PAYMENT: _committed,
    PeerCommand.SEAL_PAYMENT: _sealed,
    PeerCommand.FINALIZE_PAYMENT: _finalized,
    PeerCommand.CANCEL_PAYMENT: _cancelled,
    PeerCommand.CLEANUP_PAYMENT: _cleanup,
    PeerCommand.VERIFY_COMMIT: _verify,
}
COMMANDS = frozenset(STEPS)


# Answers to what this instance sent


def acknowledged(*, outbound: Outbound, sent: PeerDatagram, answer: PeerDatagram) -> None:
    """The other side's answer to a routed-payment datagram this instance sent, in the transaction that
    records the acknowledgement."""
    status = answer.arguments.get("status", Status.OK)
    if sent.command == PeerCommand.SYNC_PAYMENT:
        transit = _locked(request_id=sent.arguments["id"].hex(), role=Role.PAYER)
        if transit is not None:
            _hashlock_known(transit, answer.arguments["id"])
        return
    transit = _locked(hashlock=_id_of(sent)) if sent.command in COMMANDS else None
    if transit is None:
        return
    if sent.command == PeerCommand.FIND_PATH and status != Status.OK:
        _branch_refused(transit, outbound.pair_id, status)
    elif sent.command == PeerCommand.PREPARE_PATH:
        if status == Status.OK and _state(transit) == State.PREPARED:
            _set_state(transit.payment, State.COMMITTED)
        elif status != Status.OK and _state(transit) in HELD:
            code = "insufficient_capacity" if status == Status.INSUFFICIENT else "routing_timeout"
            reason = (
                "A trustline on the way could not carry the payment."
                if status == Status.INSUFFICIENT
                else ("The payment could not be held on the way before its deadline.")
            )
            _cancel(transit, reason, code=code)
    elif sent.command == PeerCommand.VERIFY_COMMIT:
        if status == Status.REFUSED and _state(transit) in HELD:
            _cancel(transit, "The payment ran out of time on the way to the payee.", code="routing_timeout")
        elif status == Status.PENDING:
            transit.asked_at = None
            transit.save(update_fields=["asked_at", "updated_at"])


def _branch_refused(transit: Transit, pair_id: int, status: Status) -> None:
    """A branch of the search found no way on: when every branch of the payer's did, the payment ends
    (``insufficient_capacity`` when some way on was too narrow, else ``no_trust_path``)."""
    if pair_id not in transit.refused:
        transit.refused = [*transit.refused, pair_id]
    if status == Status.INSUFFICIENT:
        transit.error = "insufficient_capacity"
    transit.save(update_fields=["refused", "error", "updated_at"])
    everyone = set(transit.branches) <= set(transit.refused)
    if everyone and transit.role == Role.PAYER and _state(transit) == State.PENDING:
        payee = transit.payment.payee.name
        if transit.error == "insufficient_capacity":
            amount = written(transit.payment.amount, transit.payment.payer.community.currency_code)
            reason = f"The trust paths to {payee} on other instances cannot carry {amount}."
            _cancel(transit, reason, code="insufficient_capacity")
        else:
            _cancel(transit, f"There is no chain of trustlines to {payee}.", code="no_trust_path")


# Beat's sweep


def transits_due(*, now: datetime | None = None) -> int:
    """Move on every transit whose time has come: searches that found nothing end, holds past their deadline
    ask the next hop (or, past the abandon time, release), a payee never sealed releases. Returns how many."""
    now = now or timezone.now()
    moved = 0
    for pk in _due_ids(now):
        with transaction.atomic():
            transit = _locked(pk=pk)
            if transit is not None and _due_step(transit, now):
                moved += 1
    return moved


def _due_ids(now: datetime) -> list[int]:
    due = Transit.objects.filter(closed_at__isnull=True).filter(
        Q(payment__state__in=ENDED)
        | Q(search_until__lte=now, payment__isnull=True)
        | Q(search_until__lte=now, payment__state__in=OPEN)
        | Q(deadline__lte=now, payment__state__in=HELD)
        | Q(role=Role.PAYEE, deadline_in__lte=now, payment__state__in=HELD)
    )
    return list(due.order_by("pk").values_list("pk", flat=True)[:500])


def _due_step(transit: Transit, now: datetime) -> bool:
    state = _state(transit)
    if state in ENDED:  # a request its payee withdrew, its payer declined, or that expired: the other side forgets it
        if transit.counterpart_id is not None:
            _send(
                transit.counterpart,
                PeerCommand.CLEANUP_PAYMENT,
                Session.COUNTERPART,
                id=bytes.fromhex(transit.hashlock),
            )
        _close(transit)
        return True
    if state in OPEN:
        if transit.search_until > now:
            return False
        if transit.role == Role.PAYER:
            if transit.downstream_id is not None:
                _send(transit.downstream, PeerCommand.CLEANUP_PAYMENT, id=bytes.fromhex(transit.hashlock))
            _cancel(transit, "No path to the payee was found in time.", code="routing_timeout")
        else:
            _end_quietly(transit)
        return True
    if state not in HELD:
        return False
    if transit.role == Role.PAYEE:
        if state == State.PREPARED and now >= transit.deadline_in:
            _cancel(transit, "The payer did not seal the payment in time.", code="routing_timeout")
            return True
        return False
    if now >= transit.deadline + timedelta(seconds=settings.FEDERATED_ABANDON_SECONDS):
        logger.warning("event=transit_abandoned transit=%s", transit.pk)
        _cancel(transit, "The next instance on the path did not answer.", code="peer_unreachable")
        return True
    interval = timedelta(seconds=settings.FEDERATED_VERIFY_INTERVAL_SECONDS)
    asking = Outbound.objects.filter(
        pair=transit.downstream, command=PeerCommand.VERIFY_COMMIT, acked_at__isnull=True
    ).exists()
    if asking or (transit.asked_at is not None and now - transit.asked_at < interval):
        return False
    transit.asked_at = now
    transit.save(update_fields=["asked_at", "updated_at"])
    _send(transit.downstream, PeerCommand.VERIFY_COMMIT, id=bytes.fromhex(transit.hashlock))
    return True


# Small pieces


def _locked(**lookup) -> Transit | None:
    """The transit, and its payment, locked (a member's action on the payment waits for the step, or the
    step for it)."""
    transit = Transit.objects.select_for_update(of=("self",)).filter(**lookup).first()
    if transit is not None and transit.payment_id is not None:
        transit.payment = (
            Payment.objects.select_for_update().select_related("payer", "payee").get(pk=transit.payment_id)
        )
    return transit


def _state(transit: Transit) -> str:
    if transit.payment is not None:
        return transit.payment.state
    return State.CANCELLED if transit.closed_at else State.PENDING


def _close(transit: Transit) -> None:
    transit.closed_at = timezone.now()
    transit.save()


def _set_state(payment: Payment, state: str) -> None:
    payment.state = state
    payment.save(update_fields=["state"])


def _cancel(transit: Transit, reason: str, *, code: str, tell_upstream: bool = True) -> None:
    """End ``transit`` cancelled here: its holds released, and upstream told (a relay's or payee's)."""
    transit.error = code
    if transit.payment is not None and transit.payment.state not in ENDED:
        holds.hold_release(transit.payment, reason=reason)
    _close(transit)
    if tell_upstream and transit.role != Role.PAYER and transit.upstream_id is not None:
        _send(transit.upstream, PeerCommand.CANCEL_PAYMENT, preimage=bytes.fromhex(transit.hashlock))
    if transit.role == Role.PAYER and transit.hashlock:  # the payee's instance may forget it at once
        _send(transit.counterpart, PeerCommand.CLEANUP_PAYMENT, Session.COUNTERPART, id=bytes.fromhex(transit.hashlock))


def _end_quietly(transit: Transit) -> None:
    """End a transit nobody upstream waits on any more (it asked, or never chose this branch)."""
    _cancel(transit, "The payment was not completed.", code=transit.error or "cleaned_up", tell_upstream=False)
