"""Model-based test of the money core: random operations on one community, invariants after every step.

Each example builds its own community (examples share the test's database, which is flushed at the
end), so balances and payments of earlier examples never mix in. Amounts and limits are a few
micro-units, so capacity runs out often and the 5% trust-index tax is not rounded away.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.errors import ApplicationError
from core.money import apply_rate
from tests.trust.factories import community_with_commons, member_account
from tests.trust.invariants import assert_invariants, assert_limits_kept, line_states
from trust import selectors
from trust.models import Account, Payment, PaymentLeg, Trustline
from trust.routing.graph import forget_all
from trust.services.accounts import (
    trust_index_ppm,
    trust_index_set,
    trustline_add,
    trustline_limits_set,
    trustline_remove,
    trustline_set_limit,
)
from trust.services.income import basic_income_distribute
from trust.services.payments import payment_change_status, payment_request, payment_send, payments_expire

MEMBERS = 5
MINIMUM_RATE = Decimal("0.05")
HOP_FEE_PPM = 20_000
COMMONS_LIMIT = 60
ROUTING_REFUSALS = {"insufficient_capacity", "no_trust_path", "too_many_hops"}
ACTIONS = ("accept", "cancel", "decline", "refund", "dispute")
STATUS_CHANGES = [(role, action) for role in ("payer", "payee") for action in ACTIONS]

Status, PayeeStatus = Payment.PayerStatus, Payment.PayeeStatus
accounts = st.integers(0, MEMBERS)  # MEMBERS stands for the commons
members = st.integers(0, MEMBERS - 1)
amounts = st.integers(1, 120)
limits = st.sampled_from([100, 40, 5, 0, 200, 500])  # the first is what shrinking prefers
pairs = st.permutations(range(MEMBERS)).map(lambda order: order[:2])  # two different members


@dataclass
class Modelled:
    """What the model expects of a payment record."""

    kind: str
    payer: int
    payee: int
    amount: int
    state: str
    payer_status: int
    payee_status: int


class MoneyMachine(RuleBasedStateMachine):
    @initialize(web=st.lists(st.tuples(pairs, limits, limits), min_size=4, max_size=10))
    def open_community(self, web):
        forget_all()
        self.community = community_with_commons(
            minimum_trust_index=MINIMUM_RATE, hop_fee_ppm=HOP_FEE_PPM, commons_limit=COMMONS_LIMIT
        )
        self.accounts = [member_account(self.community, f"m{i}") for i in range(MEMBERS)]
        self.commons = Account.objects.get(community=self.community, kind=Account.Kind.COMMONS)
        self.accounts.append(self.commons)
        self.payments: dict[int, Modelled] = {}
        self.rates = {account.pk: int(MINIMUM_RATE * 1_000_000) for account in self.accounts}
        for (a, b), limit_from_a, limit_from_b in web:
            self._extend(self.accounts[a], self.accounts[b], limit_from_a)
            self._extend(self.accounts[b], self.accounts[a], limit_from_b)
        self.lines = line_states(self.community)
        self.net, _ = assert_invariants(self.community)

    def _extend(self, owner: Account, other: Account, limit: int) -> None:
        pair = {"low_id": min(owner.pk, other.pk), "high_id": max(owner.pk, other.pk)}
        if not Trustline.objects.filter(**pair, closed_at=None).exists():
            trustline_add(owner=owner, other=other)
        trustline_set_limit(owner=owner, other=other, limit=limit)

    # --- helpers ---------------------------------------------------------------------------

    def _snapshot(self) -> tuple:
        payments = sorted(
            Payment.objects.filter(community=self.community).values_list("pk", "state", "payer_status", "payee_status")
        )
        lines = sorted(
            Trustline.objects.filter(community=self.community).values_list(
                "pk", "limit_from_low", "limit_from_high", "balance", "closed_at"
            )
        )
        legs = PaymentLeg.objects.filter(payment__community=self.community).count()
        return payments, lines, legs

    def _attempt(self, action, *, allowed: set[str] | None = None):
        """Run ``action``; a refusal must have one of the ``allowed`` codes (any, if None) and change nothing."""
        before = self._snapshot()
        try:
            result = action()
        except ApplicationError as exc:
            event(f"refused: {exc.code}")
            assert allowed is None or exc.code in allowed, f"unexpected refusal {exc.code}: {exc.message}"
            assert self._snapshot() == before, f"refused ({exc.code}) but something changed"
            return None
        event("done")
        return result

    def _assert_moved(self, changes: dict[int, int]) -> None:
        """The net balances moved by exactly ``changes`` since the last step."""
        now = selectors.net_balances(community=self.community)
        for pk in set(now) | set(self.net) | set(changes):
            assert now.get(pk, 0) - self.net.get(pk, 0) == changes.get(pk, 0), (pk, changes)
        self.net = now

    def _record(self, payment: Payment) -> None:
        self.payments[payment.pk] = Modelled(
            payment.kind,
            payment.payer_id,
            payment.payee_id,
            payment.amount,
            payment.state,
            payment.payer_status,
            payment.payee_status,
        )

    def _check_settled_payment(self, payment: Payment, *, taxed: bool) -> None:
        payment.refresh_from_db()
        assert payment.state == Payment.State.FINALIZED
        assert payment.tax == (apply_rate(payment.amount, self.rates[payment.payer_id]) if taxed else 0)
        assert payment.fees == (_hop_fees(payment) if taxed else 0)
        levy = payment.tax + payment.fees
        changes: dict[int, int] = defaultdict(int)
        changes[payment.payer_id] -= payment.amount + levy
        changes[payment.payee_id] += payment.amount
        changes[self.commons.pk] += levy
        self._assert_moved(changes)

    # --- trustlines and trust index ---------------------------------------------------------

    @rule(
        change=st.sampled_from(["limit", "limit", "limit", "open", "remove", "index", "admin"]),
        owner=accounts,
        other=accounts,
        limit=limits,
        rate=st.sampled_from(["0.01", "0.05", "0.1", "0.5"]),
    )
    def change_trust(self, change, owner, other, limit, rate):
        """Limits go up and down (also below a debt), lines open and close, members raise their tax rate."""
        owner, other = self.accounts[owner], self.accounts[other]
        if change == "limit":
            # The commons' lines follow the community's setting, changed by admins only.
            allowed = {"commons_trustline"} if self.commons in (owner, other) else {"trustline_not_found"}
            self._attempt(lambda: trustline_set_limit(owner=owner, other=other, limit=limit), allowed=allowed)
        elif change == "open":
            opened = self._attempt(
                lambda: trustline_add(owner=owner, other=other), allowed={"trustline_exists", "invalid_input"}
            )
            if opened:
                trustline_set_limit(owner=owner, other=other, limit=limit)
        elif change == "remove":
            self._attempt(
                lambda: trustline_remove(owner=owner, other=other),
                allowed={"trustline_not_found", "commons_trustline", "balance_not_zero", "payment_pending"},
            )
        elif change == "admin":
            if owner.kind == Account.Kind.MEMBER:  # an admin moves a member's commons line, both ways
                low, high = sorted((owner.pk, self.commons.pk))
                line = Trustline.objects.get(low_id=low, high_id=high)
                trustline_limits_set(line=line, limit_from_low=limit, limit_from_high=limit)
        elif owner.kind == Account.Kind.MEMBER:
            ppm = int(Decimal(rate) * 1_000_000)
            if self._attempt(lambda: trust_index_set(account=owner, value=rate), allowed={"invalid_input"}):
                self.rates[owner.pk] = ppm
            else:
                assert ppm < MINIMUM_RATE * 1_000_000
            owner.refresh_from_db()
            assert trust_index_ppm(owner) == self.rates[owner.pk]

    @rule(
        how=st.sampled_from(["routed", "routed", "routed", "local", "commons", "self"]),
        parties=pairs,
        amount=amounts,
        answer=st.sampled_from([None, "decline", "accept"]),
    )
    def pay(self, how, parties, amount, answer):
        """A payment, and sometimes the payee's answer right away."""
        payer, payee = (self.accounts[i] for i in parties)
        if how == "self":
            to_self = self._attempt(
                lambda: payment_send(payer=payer, payee=payer, amount=amount), allowed={"invalid_input"}
            )
            assert to_self is None
            return
        if how == "commons":
            payee = self.commons
        local = how == "local"
        payment = self._attempt(
            lambda: payment_send(payer=payer, payee=payee, amount=amount, direct_only=local), allowed=ROUTING_REFUSALS
        )
        if payment is not None:
            if local:
                hops = payment.legs.filter(purpose="payment").values_list("sender_id", "receiver_id")
                assert set(hops) == {(payer.pk, payee.pk)}
            self._check_settled_payment(payment, taxed=True)
            self._record(payment)
            if answer and payee != self.commons:
                self._change_status(payment.pk, "payee", answer)

    @rule(parties=pairs, amount=amounts)
    def request(self, parties, amount):
        payee, payer = (self.accounts[i] for i in parties)
        request = payment_request(payee=payee, payer=payer, amount=amount)
        self._assert_moved({})
        self._record(request)

    @precondition(lambda self: self.payments)
    @rule(data=st.data(), sensible=st.booleans())
    def change_status(self, data, sensible):
        """Half of the time a change the model allows (so money goes back and forth), else any change."""
        pk = data.draw(st.sampled_from(sorted(self.payments)))
        model = self.payments[pk]
        changes = STATUS_CHANGES
        if sensible and (allowed_now := [change for change in changes if _allowed(model, *change)]):
            changes = allowed_now
        role, action = data.draw(st.sampled_from(changes))
        self._change_status(pk, role, action)

    def _change_status(self, pk: int, role: str, action: str) -> None:
        model = self.payments[pk]
        account = Account.objects.get(pk=model.payer if role == "payer" else model.payee)
        payment = Payment.objects.get(pk=pk)
        expected = _allowed(model, role, action)
        moves_money = (role, action) in {("payer", "accept"), ("payee", "decline"), ("payee", "refund")}
        if expected is None:
            code = "not_allowed_for_role"
        elif expected is False:
            code = "status_change_not_allowed"
        else:
            code = None
        allowed = {code} if code else ROUTING_REFUSALS
        result = self._attempt(
            lambda: payment_change_status(payment=payment, account=account, action=action), allowed=allowed
        )
        if code:
            assert result is None, f"{role} {action} on {model} should have been refused with {code}"
            return
        if result is None:
            assert moves_money, "only status changes that move money may be refused for routing"
            return
        _apply(model, role, action)
        payment.refresh_from_db()
        assert (payment.state, payment.payer_status, payment.payee_status) == (
            model.state,
            model.payer_status,
            model.payee_status,
        )
        if (role, action) == ("payer", "accept"):
            self._check_settled_payment(payment, taxed=True)
        elif moves_money:
            [back] = payment.followups.all()
            kind = Payment.Kind.RETURN if action == "decline" else Payment.Kind.REFUND
            assert (back.kind, back.payer_id, back.payee_id) == (kind, model.payee, model.payer)
            assert back.amount == model.amount
            self._check_settled_payment(back, taxed=False)
            self._record(back)
        else:
            self._assert_moved({})

    @rule(income=st.booleans())
    def time_passes(self, income):
        if income:
            self._basic_income()
        else:
            self._expire()

    def _expire(self):
        later = timezone.now() + timedelta(seconds=django_settings.PAYMENT_REQUEST_LIFETIME_SECONDS + 1)
        payments_expire(now=later)
        for model in self.payments.values():
            if model.kind == Payment.Kind.REQUEST and model.state == Payment.State.PENDING:
                model.state = Payment.State.CANCELLED
        self._assert_moved({})

    def _basic_income(self):
        debts = {pk: -balance for pk, balance in self.net.items() if balance < 0 and pk != self.commons.pk}
        paid = basic_income_distribute(community=self.community)
        changes: dict[int, int] = {}
        for payment in paid:
            assert payment.kind == Payment.Kind.INCOME and payment.payer_id == self.commons.pk
            assert payment.amount <= debts[payment.payee_id], "basic income beyond a member's debt"
            assert payment.tax == payment.fees == 0
            changes[payment.payee_id] = payment.amount
            changes[self.commons.pk] = changes.get(self.commons.pk, 0) - payment.amount
            self._record(payment)
        assert -changes.get(self.commons.pk, 0) <= max(self.net.get(self.commons.pk, 0), 0)
        self._assert_moved(changes)

    # --- after every step -------------------------------------------------------------------

    @invariant()
    def money_invariants(self):
        if not hasattr(self, "community"):
            return
        lines = line_states(self.community)
        assert_limits_kept(self.lines, lines)
        self.net, states = assert_invariants(self.community)
        self.lines = lines
        assert states == {pk: (m.state, m.payer_status, m.payee_status) for pk, m in self.payments.items()}


def _allowed(model: Modelled, role: str, action: str) -> bool | None:
    """Whether the Civil Money transition is allowed now; None when the role may never do it."""
    if model.kind not in (Payment.Kind.PAYMENT, Payment.Kind.REQUEST):
        return False  # income, returns and refunds keep the statuses they settled with
    pending, settled = model.state == Payment.State.PENDING, model.state == Payment.State.FINALIZED
    rules = {
        ("payer", "dispute"): settled and model.payer_status == Status.ACCEPT,
        ("payer", "cancel"): pending and model.payee_status == PayeeStatus.NOT_SET,
        ("payee", "cancel"): pending and model.payee_status == PayeeStatus.NOT_SET,
        ("payer", "accept"): pending and model.kind == Payment.Kind.REQUEST,
        ("payee", "accept"): settled and model.payee_status == PayeeStatus.NOT_SET,
        ("payee", "decline"): settled and model.payee_status == PayeeStatus.NOT_SET,
        ("payee", "refund"): settled and model.payee_status == PayeeStatus.ACCEPT,
    }
    return rules.get((role, action))


def _apply(model: Modelled, role: str, action: str) -> None:
    if action == "dispute":
        model.payer_status = Status.DISPUTE
    elif action == "cancel":
        model.state = Payment.State.CANCELLED
        if model.payer_status == Status.ACCEPT:
            model.payer_status = Status.CANCEL
    elif (role, action) == ("payer", "accept"):
        model.state, model.payer_status, model.payee_status = Payment.State.FINALIZED, Status.ACCEPT, PayeeStatus.ACCEPT
    elif action == "accept":
        model.payee_status = PayeeStatus.ACCEPT
    elif action == "decline":
        model.payee_status = PayeeStatus.DECLINE
    elif action == "refund":
        model.payee_status = PayeeStatus.REFUND


def _hop_fees(payment: Payment) -> int:
    """What the payment's paths owe in hop fees: their share times the number of intermediaries."""
    paths: dict[int, list[int]] = defaultdict(list)
    for path, amount in payment.legs.filter(purpose=PaymentLeg.Purpose.PAYMENT).values_list("path", "amount"):
        paths[path].append(amount)
    return sum(apply_rate(hops[0] * (len(hops) - 1), HOP_FEE_PPM) for hops in paths.values())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_money_core_model():
    run_state_machine_as_test(MoneyMachine, settings=settings(max_examples=50, stateful_step_count=40, deadline=None))
