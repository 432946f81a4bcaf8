"""Routing against an independent oracle: ``plan_payment`` on random small graphs agrees with networkx."""

import time
from itertools import pairwise
from unittest import mock

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trust.errors import InsufficientCapacity, NoTrustPath, TooManyHops
from trust.routing import search
from trust.routing.graph import TrustGraph
from trust.routing.planner import Plan, plan_payment
from trust.routing.search import SearchTimeout, decompose, max_flow, push

LOOSE_HOPS = 30  # never binds on graphs of at most 8 nodes
# max_flow's SCALED_AUGMENTATIONS: as shipped, 0 (Dinic finds the whole flow) and 1 (Dinic goes on
# from a flow the scaled augmentations began).
SWITCHES = [search.SCALED_AUGMENTATIONS, 0, 1]
# Default strategies: a trustline's limits, and how much a payment asks beyond the maximum flow.
LIMITS, EXCESS = st.integers(0, 40), st.integers(1, 50)


@st.composite
def trust_graphs(draw, max_nodes: int = 8, limits=LIMITS):
    """``(nodes, lines)``: random trustlines ``(low, high, limit_from_low, limit_from_high, balance)``.

    Balances may lie beyond a limit (a limit lowered after the debt), where capacity is clamped at zero.
    """
    n = draw(st.integers(2, max_nodes))
    nodes = list(range(1, n + 1))
    pairs = [(a, b) for a in nodes for b in nodes if a < b]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
    lines = []
    for low, high in chosen:
        limit_from_low = draw(limits)
        limit_from_high = draw(limits)
        balance = draw(st.integers(-limit_from_low - 5, limit_from_high + 5))
        lines.append((low, high, limit_from_low, limit_from_high, balance))
    return nodes, lines


def oracle(out, payer: int, payee: int) -> tuple[int, bool]:
    """networkx's maximum flow from payer to payee, and whether any chain of trustlines joins them."""
    digraph = nx.DiGraph()
    digraph.add_nodes_from([payer, payee])
    for u, row in out.items():
        for v, cap in row.items():
            digraph.add_edge(u, v, capacity=cap)
    connected = nx.has_path(digraph.to_undirected(as_view=True), payer, payee)
    return nx.maximum_flow_value(digraph, payer, payee), connected


def net_use(plan: Plan) -> dict[tuple[int, int], int]:
    """What the whole plan moves over each trustline, as ``(low, high) -> amount from low to high``."""
    use: dict[tuple[int, int], int] = {}
    for _, _, _, u, v, amount in plan.legs():
        pair = (min(u, v), max(u, v))
        use[pair] = use.get(pair, 0) + (amount if u < v else -amount)
    return use


def assert_feasible(out, plan: Plan, payer: int, payee: int, commons: int | None = None) -> None:
    """Paths are simple trustline chains that carry exactly their sums and fit the capacities together."""
    assert sum(share for _, share in plan.paths) == plan.amount
    assert sum(share for _, share in plan.levy_paths) == (plan.levy if plan.levy_paths else 0)
    for paths, end in ((plan.paths, payee), (plan.levy_paths, commons)):
        for nodes, share in paths:
            assert share > 0
            assert nodes[0] == payer and nodes[-1] == end
            assert len(set(nodes)) == len(nodes), f"not a simple path: {nodes}"
            assert all(v in out[u] for u, v in pairwise(nodes)), f"not a chain of trustlines: {nodes}"
    for (low, high), moved in net_use(plan).items():
        if moved >= 0:
            assert moved <= out[low][high]
        else:
            assert -moved <= out[high][low]


def dinic_after(augmentations: int):
    """max_flow hands over to Dinic after that many scaled augmentations (or earlier, by the scaling share)."""
    return mock.patch.object(search, "SCALED_AUGMENTATIONS", augmentations)


@pytest.mark.parametrize("switch", SWITCHES)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=trust_graphs(), data=st.data())
def test_plan_agrees_with_networkx_max_flow(switch, graph, data):
    with dinic_after(switch):
        check_against_networkx(graph, data)


@pytest.mark.parametrize("switch", SWITCHES)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=trust_graphs(limits=st.one_of(st.integers(0, 5), st.integers(1_000, 40_000))), data=st.data())
def test_plan_agrees_with_networkx_max_flow_on_wide_and_tiny_capacities(switch, graph, data):
    """Wide lines that end in tiny ones: below the wide paths' thresholds, the scaling share hands over to Dinic."""
    with dinic_after(switch):
        check_against_networkx(graph, data, excess=st.integers(1, 10**9))


def check_against_networkx(graph, data, *, excess=EXCESS) -> None:
    nodes, lines = graph
    out = TrustGraph.from_lines(lines).out
    payer, payee = data.draw(st.sampled_from([(a, b) for a in nodes for b in nodes if a != b]))
    maximum, connected = oracle(out, payer, payee)

    if maximum:
        for amount in {1, maximum, data.draw(st.integers(1, maximum))}:
            plan = plan_payment(out, payer=payer, payee=payee, amount=amount, max_hops=LOOSE_HOPS)
            assert_feasible(out, plan, payer, payee)
            # Payment paths alone never use a hop in both directions, so per directed hop they fit too.
            used: dict[tuple[int, int], int] = {}
            for nodes_, share in plan.paths:
                for u, v in pairwise(nodes_):
                    used[(u, v)] = used.get((u, v), 0) + share
            assert all(total <= out[u][v] for (u, v), total in used.items())

    too_much = maximum + data.draw(excess)
    if connected:
        with pytest.raises(InsufficientCapacity) as refused:
            plan_payment(out, payer=payer, payee=payee, amount=too_much, max_hops=LOOSE_HOPS)
        assert refused.value.max_sendable == maximum
    else:
        with pytest.raises(NoTrustPath):
            plan_payment(out, payer=payer, payee=payee, amount=too_much, max_hops=LOOSE_HOPS)


@pytest.mark.parametrize("switch", SWITCHES)
@settings(max_examples=300, deadline=None)
@given(graph=trust_graphs(max_nodes=7), data=st.data())
def test_levy_to_the_commons_fits_together_with_the_payment(switch, graph, data):
    """Whatever the plan, payment and tax together never overdraw a trustline."""
    with dinic_after(switch):
        check_levy_fits(graph, data)


def check_levy_fits(graph, data) -> None:
    nodes, lines = graph
    out = TrustGraph.from_lines(lines).out
    if len(nodes) < 3:
        return
    payer, payee, commons = data.draw(st.permutations(nodes))[:3]
    maximum, _ = oracle(out, payer, payee)
    amount = data.draw(st.integers(1, max(1, maximum)))
    tax_ppm = data.draw(st.sampled_from([0, 10_000, 100_000, 500_000]))
    hop_fee_ppm = data.draw(st.sampled_from([0, 50_000]))
    try:
        plan = plan_payment(
            out,
            payer=payer,
            payee=payee,
            amount=amount,
            max_hops=LOOSE_HOPS,
            commons=commons,
            tax_ppm=tax_ppm,
            hop_fee_ppm=hop_fee_ppm,
        )
    except (InsufficientCapacity, NoTrustPath):
        return
    assert_feasible(out, plan, payer, payee, commons)


def chain(*nodes: int, cap: int = 100) -> list[tuple[int, int, int, int, int]]:
    """Trustlines along ``nodes`` where each may pay the next ``cap`` (and nothing back)."""
    return [(min(u, v), max(u, v), cap if u > v else 0, cap if u < v else 0, 0) for u, v in pairwise(nodes)]


def test_fewest_hops_wins_when_several_single_paths_can_carry_it():
    out = TrustGraph.from_lines(chain(1, 2, 3, 4, 9) + chain(1, 5, 9) + chain(1, 6, 7, 9)).out
    plan = plan_payment(out, payer=1, payee=9, amount=60, max_hops=LOOSE_HOPS)
    assert plan.paths == [([1, 5, 9], 60)]


def test_a_longer_single_path_is_taken_when_the_short_one_lacks_capacity():
    out = TrustGraph.from_lines(chain(1, 5, 9, cap=10) + chain(1, 6, 7, 9, cap=100) + chain(1, 2, 3, 4, 9)).out
    plan = plan_payment(out, payer=1, payee=9, amount=60, max_hops=LOOSE_HOPS)
    assert plan.paths == [([1, 6, 7, 9], 60)]


def test_a_split_over_several_paths_when_no_single_one_carries_it():
    out = TrustGraph.from_lines(chain(1, 5, 9, cap=40) + chain(1, 6, 7, 9, cap=30)).out
    plan = plan_payment(out, payer=1, payee=9, amount=70, max_hops=LOOSE_HOPS)
    assert sorted(plan.paths) == [([1, 5, 9], 40), ([1, 6, 7, 9], 30)]


def test_too_many_hops_when_only_a_longer_path_exists():
    out = TrustGraph.from_lines(chain(1, 2, 3, 4, 5)).out
    assert plan_payment(out, payer=1, payee=5, amount=10, max_hops=4).paths == [([1, 2, 3, 4, 5], 10)]
    with pytest.raises(TooManyHops):
        plan_payment(out, payer=1, payee=5, amount=10, max_hops=3)


def test_no_trust_path_between_separate_parts_of_the_graph():
    out = TrustGraph.from_lines(chain(1, 2) + chain(3, 4)).out
    with pytest.raises(NoTrustPath):
        plan_payment(out, payer=1, payee=4, amount=1, max_hops=LOOSE_HOPS)


def test_insufficient_capacity_names_the_largest_sendable_amount():
    out = TrustGraph.from_lines(chain(1, 5, 9, cap=40) + chain(1, 6, 7, 9, cap=30)).out
    with pytest.raises(InsufficientCapacity) as refused:
        plan_payment(out, payer=1, payee=9, amount=71, max_hops=LOOSE_HOPS)
    assert refused.value.max_sendable == 70


def test_tax_route_sharing_the_payers_only_line_respects_its_combined_capacity():
    # Payer 1's only line goes to 2, from where both the payee 3 and the commons 4 are reached.
    out = TrustGraph.from_lines(chain(1, 2) + chain(2, 3) + chain(2, 4)).out
    plan = plan_payment(out, payer=1, payee=3, amount=90, max_hops=LOOSE_HOPS, commons=4, tax_ppm=100_000)
    assert plan.paths == [([1, 2, 3], 90)] and plan.tax == 9
    assert plan.levy_paths == [([1, 2, 4], 9)]
    assert net_use(plan)[(1, 2)] == 99
    taxed = {"max_hops": LOOSE_HOPS, "commons": 4, "tax_ppm": 100_000}
    assert net_use(plan_payment(out, payer=1, payee=3, amount=91, **taxed))[(1, 2)] == 100  # tax 9.1 rounds down
    with pytest.raises(InsufficientCapacity) as refused:
        plan_payment(out, payer=1, payee=3, amount=92, **taxed)
    # The figure offered instead is one that can really be sent with its tax (not necessarily the largest).
    offered = refused.value.max_sendable
    assert 0 < offered <= 91
    plan_payment(out, payer=1, payee=3, amount=offered, **taxed)


def test_hop_fees_are_charged_per_intermediary_and_travel_with_the_tax():
    out = TrustGraph.from_lines(chain(1, 2, 3, 9) + chain(1, 4)).out
    plan = plan_payment(
        out, payer=1, payee=9, amount=50, max_hops=LOOSE_HOPS, commons=4, tax_ppm=20_000, hop_fee_ppm=10_000
    )
    assert plan.tax == 1 and plan.fees == 1  # 2% of 50, and 1% of 50 for each of the two intermediaries
    assert plan.levy_paths == [([1, 4], 2)]


def test_decompose_cancels_cycles():
    # Net flow 1->2->3->4 of 5, plus a circulation 2->3->5->2 of 3 that moves nothing.
    delta: dict[tuple[int, int], int] = {}
    push(delta, [1, 2, 3, 4], 5)
    push(delta, [2, 3, 5, 2], 3)
    assert decompose(delta, 1, 4) == [([1, 2, 3, 4], 5)]


def test_decompose_cancels_a_cycle_through_the_source():
    delta: dict[tuple[int, int], int] = {}
    push(delta, [1, 2, 3, 1], 4)
    push(delta, [1, 2, 4], 2)
    assert decompose(delta, 1, 4) == [([1, 2, 4], 2)]


def test_decompose_splits_a_flow_that_fans_out():
    delta: dict[tuple[int, int], int] = {}
    push(delta, [1, 2, 4], 3)
    push(delta, [1, 3, 4], 2)
    assert sorted(decompose(delta, 1, 4)) == [([1, 2, 4], 3), ([1, 3, 4], 2)]


def cancelling_graph() -> dict[int, dict[int, int]]:
    """The fewest-hop path 1-2-3-9 takes the one line (2, 3) both other routes need, in opposite directions.

    The maximum flow of 2 is 1-2-5-6-9 and 1-7-8-3-9; after the first augmentation it is only reached
    by the 7-hop path 1-7-8-3-2-5-6-9, which pays 3 -> 2 back over the line and so cancels 2 -> 3.
    """
    lines = chain(1, 2, 3, 9, cap=1) + chain(2, 5, 6, 9, cap=1) + chain(1, 7, 8, 3, cap=1)
    return TrustGraph.from_lines(lines).out


@pytest.mark.parametrize("switch", SWITCHES)
def test_max_flow_cancels_flow_over_a_reverse_hop(switch):
    out = cancelling_graph()
    assert out[3][2] == 0  # nothing can go 3 -> 2 but what a flow 2 -> 3 gives back
    delta: dict[tuple[int, int], int] = {}
    with dinic_after(switch):
        assert max_flow(out, 1, 9, amount=5, max_hops=LOOSE_HOPS, delta=delta) == 2
    assert delta.get((2, 3), 0) == 0
    assert sorted(decompose(delta, 1, 9)) == [([1, 2, 5, 6, 9], 1), ([1, 7, 8, 3, 9], 1)]


@pytest.mark.parametrize("switch", SWITCHES)
def test_max_flow_augments_within_the_hop_limit(switch):
    with dinic_after(switch):
        delta: dict[tuple[int, int], int] = {}
        assert max_flow(cancelling_graph(), 1, 9, amount=5, max_hops=6, delta=delta) == 1  # the 7-hop path is out
        assert decompose(delta, 1, 9) == [([1, 2, 3, 9], 1)]


@pytest.mark.parametrize("switch", SWITCHES)
def test_max_flow_never_relays_through_no_relay_accounts(switch):
    # 1 -> 4 -> 9 carries 100 but 4 is the commons; only 1 -> 2 -> 9 is left.
    out = TrustGraph.from_lines(chain(1, 4, 9, cap=100) + chain(1, 2, 9, cap=3)).out
    with dinic_after(switch):
        assert max_flow(out, 1, 9, amount=50, max_hops=LOOSE_HOPS, delta={}, no_relay=frozenset({4})) == 3
        # As an end, though, it pays and is paid.
        assert max_flow(out, 1, 4, amount=50, max_hops=LOOSE_HOPS, delta={}, no_relay=frozenset({4})) == 50
        assert max_flow(out, 4, 9, amount=50, max_hops=LOOSE_HOPS, delta={}, no_relay=frozenset({4})) == 50


def test_dinic_gives_up_at_the_deadline():
    out = cancelling_graph()
    with dinic_after(0), pytest.raises(SearchTimeout):
        max_flow(out, 1, 9, amount=5, max_hops=LOOSE_HOPS, delta={}, deadline=time.monotonic() - 1)
