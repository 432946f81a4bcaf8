"""The money core's invariants, checked against the database for one community.

Shared by the property tests and the concurrency tests: conservation, ledger agreement (replaying
the legs gives the balances), atomicity (a payment is finalized iff all its legs exist and chain
from payer to payee and to the commons), and limits.
"""

from collections import defaultdict
from itertools import pairwise

from bank.models import Community
from trust import selectors
from trust.models import Account, Payment, PaymentLeg, Trustline

LineState = tuple[int, int, int]  # limit_from_low, limit_from_high, balance
LEG_FIELDS = (
    "payment_id",
    "purpose",
    "path",
    "hop",
    "sender_id",
    "receiver_id",
    "amount",
    "trustline__low_id",
    "trustline__high_id",
)


def line_states(community: Community) -> dict[int, LineState]:
    return {
        pk: (limit_from_low, limit_from_high, balance)
        for pk, limit_from_low, limit_from_high, balance in Trustline.objects.filter(community=community).values_list(
            "pk", "limit_from_low", "limit_from_high", "balance"
        )
    }


def community_legs(community: Community) -> list[tuple]:
    """Every payment leg of the community as ``LEG_FIELDS`` tuples (plain values: this runs after every step)."""
    return list(PaymentLeg.objects.filter(payment__community=community).values_list(*LEG_FIELDS))


def leg_replay(legs: list[tuple]) -> dict[int, int]:
    """Every account's net balance as the payment legs say: received minus sent."""
    replay: dict[int, int] = defaultdict(int)
    for _, _, _, _, sender, receiver, amount, _, _ in legs:
        replay[receiver] += amount
        replay[sender] -= amount
    return dict(replay)


def assert_conserved_and_replayable(community: Community, legs: list[tuple]) -> dict[int, int]:
    """Balances sum to zero and equal the replay of the legs; returns the net balances."""
    net = selectors.net_balances(community=community)
    assert sum(net.values()) == 0, net
    replay = leg_replay(legs)
    accounts = set(net) | set(replay)
    mismatched = {pk: (net.get(pk, 0), replay.get(pk, 0)) for pk in accounts if net.get(pk, 0) != replay.get(pk, 0)}
    assert not mismatched, f"net balance vs leg replay: {mismatched}"
    return net


def assert_payments_whole(community: Community, legs: list[tuple]) -> dict[int, tuple[str, int, int]]:
    """A payment is finalized iff it has legs, and its legs chain payer -> payee (and payer -> commons for
    tax and fees) with the payment's amounts; returns every payment's state, payer and payee status."""
    commons = Account.objects.get(community=community, kind=Account.Kind.COMMONS).pk
    paths: dict[int, dict[tuple[str, int], list[tuple]]] = defaultdict(lambda: defaultdict(list))
    for leg in legs:
        paths[leg[0]][(leg[1], leg[2])].append(leg)
    states = {}
    payments = Payment.objects.filter(community=community).values_list(
        "pk", "state", "payer_status", "payee_status", "payer_id", "payee_id", "amount", "tax", "fees"
    )
    for pk, state, payer_status, payee_status, payer, payee, amount, tax, fees in payments:
        states[pk] = (state, payer_status, payee_status)
        if state != Payment.State.FINALIZED:
            assert pk not in paths, f"payment {pk} is {state} but has legs"
            continue
        assert pk in paths, f"payment {pk} is finalized without legs"
        moved = {"payment": 0, "tax": 0}
        for (purpose, _), path in paths[pk].items():
            path.sort(key=lambda leg: leg[3])
            assert [leg[3] for leg in path] == list(range(len(path))), f"payment {pk}: hops missing"
            end = payee if purpose == PaymentLeg.Purpose.PAYMENT else commons
            assert path[0][4] == payer and path[-1][5] == end, f"payment {pk}: a path does not join its ends"
            for leg, following in pairwise(path):
                assert leg[5] == following[4] and leg[6] == following[6], f"payment {pk}: a broken path"
            for *_, sender, receiver, _, low, high in path:
                assert {sender, receiver} == {low, high}, f"payment {pk}: a leg off its trustline"
            moved[purpose] += path[0][6]
        assert moved["payment"] == amount, f"payment {pk} moved {moved['payment']} of {amount}"
        assert moved["tax"] == tax + fees, f"payment {pk} moved {moved['tax']} of tax and fees {tax + fees}"
    return states


def assert_limits_kept(before: dict[int, LineState], after: dict[int, LineState]) -> None:
    """No debt exceeds the creditor's limit, except one that already did (a limit lowered later) and did not grow."""
    for pk, (limit_from_low, limit_from_high, balance) in after.items():
        old_balance = before.get(pk, (0, 0, 0))[2]
        # balance is what high owes low; -balance what low owes high.
        sides = ((balance, limit_from_low, old_balance), (-balance, limit_from_high, -old_balance))
        for debt, limit, old_debt in sides:
            assert debt <= max(limit, old_debt), f"trustline {pk}: debt {debt} over limit {limit} (was {old_debt})"


def assert_invariants(community: Community) -> tuple[dict[int, int], dict[int, tuple[str, int, int]]]:
    """Check conservation, ledger agreement and atomicity; returns net balances and payment states."""
    legs = community_legs(community)
    return assert_conserved_and_replayable(community, legs), assert_payments_whole(community, legs)
