"""Holds (the legs a payment between instances promises before it settles), model-based: random holds placed,
settled and released, with local payments between them; after every step what is held on each line is
exactly its held payments' legs, no line can come to exceed a limit even if every hold settles, and balances
are conserved and replay the settled payments' legs alone."""

import contextlib
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import settings
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
from tests.trust.factories import community_with_commons, member_account
from tests.trust.invariants import leg_replay
from trust import selectors
from trust.models import Account, Payment, PaymentLeg, Trustline
from trust.routing.graph import forget_all
from trust.services import holds
from trust.services.accounts import trustline_add, trustline_set_limit
from trust.services.moving import StaleRoute
from trust.services.payments import payment_send
from trust.services.settlement import plan_here

MEMBERS = 4
State = Payment.State
members = st.integers(0, MEMBERS - 1)
pairs = st.permutations(range(MEMBERS)).map(lambda order: order[:2])
amounts = st.integers(1, 60)
limits = st.sampled_from([50, 10, 0, 100, 5])


class HoldsMachine(RuleBasedStateMachine):
    @initialize(web=st.lists(st.tuples(pairs, limits, limits), min_size=3, max_size=8))
    def open_community(self, web):
        forget_all()
        self.community = community_with_commons(minimum_trust_index=Decimal("0.05"), commons_limit=40)
        self.accounts = [member_account(self.community, f"h{i}") for i in range(MEMBERS)]
        for (a, b), limit_from_a, limit_from_b in web:
            for giver, taker, limit in ((a, b, limit_from_a), (b, a, limit_from_b)):
                owner, other = self.accounts[giver], self.accounts[taker]
                if selectors.trustline_between(first=owner, second=other) is None:
                    trustline_add(owner=owner, other=other)
                trustline_set_limit(owner=owner, other=other, limit=limit)
        self.held: list[int] = []

    @rule(parties=pairs, amount=amounts, taxed=st.booleans())
    def hold(self, parties, amount, taxed):
        payer, payee = (self.accounts[i] for i in parties)
        try:
            plan = plan_here(payer, payee, amount, taxed=taxed)
            payment = Payment(community=self.community, payer=payer, payee=payee, amount=amount, hashlock="00" * 32)
            holds.hold_place(payment, plan)
        except (ApplicationError, StaleRoute):
            return
        self.held.append(payment.pk)

    @precondition(lambda self: self.held)
    @rule(data=st.data(), settle=st.booleans())
    def end(self, data, settle):
        payment = Payment.objects.get(pk=self.held.pop(data.draw(st.integers(0, len(self.held) - 1))))
        if settle:
            holds.hold_settle(payment)
        else:
            holds.hold_release(payment, reason="released by the test")

    @rule(parties=pairs, amount=amounts)
    def pay(self, parties, amount):
        payer, payee = (self.accounts[i] for i in parties)
        with contextlib.suppress(ApplicationError):
            payment_send(payer=payer, payee=payee, amount=amount)

    @invariant()
    def holds_are_their_legs(self):
        expected: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        held_legs = PaymentLeg.objects.filter(payment__community=self.community, payment__state=State.PREPARED)
        for line_id, low, sender, amount in held_legs.values_list(
            "trustline_id", "trustline__low_id", "sender_id", "amount"
        ):
            expected[line_id][0 if sender == low else 1] += amount
        for line in Trustline.objects.filter(community=self.community):
            assert [line.held_from_low, line.held_from_high] == expected.get(line.pk, [0, 0]), line
            # Were every hold to settle and none the other way, no debt would pass its limit.
            assert line.held_from_low - line.balance <= max(line.limit_from_high, -line.balance), line
            assert line.held_from_high + line.balance <= max(line.limit_from_low, line.balance), line

    @invariant()
    def balances_replay_the_settled_legs(self):
        net = selectors.net_balances(community=self.community)
        assert sum(net.values()) == 0
        settled = [
            leg
            for leg in PaymentLeg.objects.filter(
                payment__community=self.community, payment__state=State.FINALIZED
            ).values_list("payment_id", "purpose", "path", "hop", "sender_id", "receiver_id", "amount", "id", "id")
        ]
        replay = leg_replay(settled)
        assert {pk: value for pk, value in net.items() if value} == {pk: v for pk, v in replay.items() if v}
        released = Payment.objects.filter(community=self.community, state=State.CANCELLED)
        assert not PaymentLeg.objects.filter(payment__in=released).exists()
        assert Account.objects.filter(community=self.community, kind=Account.Kind.COMMONS).count() == 1


@pytest.mark.django_db(transaction=True)
def test_holds_model():
    run_state_machine_as_test(HoldsMachine, settings=settings(max_examples=25, stateful_step_count=30, deadline=None))
