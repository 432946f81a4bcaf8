"""Path and flow search over a capacity map ``out[u][v]`` (what ``u`` can pay ``v`` directly).

Pure functions over dicts, no database: the hot loop of routing. ``delta`` overlays capacity
changes of a tentative flow: pushing ``x`` from ``u`` to ``v`` over a trustline lowers what ``u``
can pay ``v`` by ``x`` and raises what ``v`` can pay ``u`` by ``x``, so the residual graph of a
flow is just the trust graph after the flow, and max-flow needs no separate reverse edges.
"""

import time
from collections.abc import Mapping
from itertools import pairwise

Capacities = Mapping[int, Mapping[int, int]]
Delta = dict[tuple[int, int], int]


class SearchTimeout(Exception):
    pass


def _check_deadline(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise SearchTimeout


def shortest_path(
    out: Capacities,
    source: int,
    target: int,
    *,
    minimum: int,
    max_hops: int,
    delta: Delta | None = None,
    deadline: float | None = None,
    no_relay: frozenset[int] = frozenset(),
) -> list[int] | None:
    """Fewest-hop path whose every hop can carry ``minimum``, at most ``max_hops`` hops; bidirectional BFS.

    Accounts in ``no_relay`` (the commons) may be the source or target but never a hop in between.
    """
    if source == target or source not in out or target not in out:
        return None
    # Marking endpoints as already seen by the other side keeps no_relay accounts off the path.
    blocked = {node: node for node in no_relay if node not in (source, target)}
    parent = {source: source, **blocked}
    child = {target: target, **blocked}
    senders = {u for u, _ in delta} if delta else ()
    forward, backward = [source], [target]
    backward_cost = len(out[target])
    depth = 0
    while forward and backward and depth < max_hops:
        _check_deadline(deadline)
        depth += 1
        search = dict(minimum=minimum, senders=senders, delta=delta, mark=None, first_only=True)
        if _forward_is_cheaper(out, forward, backward_cost):
            forward, meeting = _step_forward(out, forward, parent, child, **search)
        else:
            backward, meeting, backward_cost = _step_backward(out, backward, child, parent, **search)
        if meeting:
            return _join(parent, child, meeting[0])
    return None


def _forward_is_cheaper(out: Capacities, forward: list[int], backward_cost: int) -> bool:
    """A side's next level costs one step per trustline of its frontier, and a backward step about
    twice a forward one (it looks up the neighbour's own map): expanding the cheaper side first
    keeps a search from walking through a hub's thousands of lines when it need not. The forward
    cost is summed only when the frontier's size alone does not already decide."""
    limit = 2 * backward_cost
    return len(forward) <= limit and sum(len(out[u]) for u in forward) <= limit


def _step_forward(
    out: Capacities, forward: list[int], seen: dict, other: dict, *, minimum, senders, delta, mark, first_only
) -> tuple[list[int], list[int]]:
    """One level onward from ``forward`` over hops carrying ``minimum``: the new frontier and where it met
    the other side's ``other``. Each account reached is marked in ``seen`` with ``mark`` (None: the account
    it was reached from); ``first_only`` stops at the first meeting."""
    following, meeting = [], []
    for u in forward:
        hops = out[u].items()
        if u in senders:  # only the hops of accounts that already send in ``delta`` need its overlay
            hops = [(v, cap + delta.get((u, v), 0)) for v, cap in hops]
        value = u if mark is None else mark
        for v, cap in hops:
            if cap < minimum or v in seen:
                continue
            seen[v] = value
            following.append(v)
            if v in other:
                meeting.append(v)
                if first_only:
                    return following, meeting
    return following, meeting


def _step_backward(
    out: Capacities, backward: list[int], seen: dict, other: dict, *, minimum, senders, delta, mark, first_only
) -> tuple[list[int], list[int], int]:
    """``_step_forward`` towards the target: accounts that can pay into ``backward``; also the next step's cost."""
    preceding, meeting, cost = [], [], 0
    for v in backward:
        value = v if mark is None else mark
        for u in out[v]:  # trustlines join both ways, so v's neighbours are its possible payers
            if u in seen:
                continue
            row = out[u]
            cap = row[v] + delta.get((u, v), 0) if u in senders else row[v]
            if cap < minimum:
                continue
            seen[u] = value
            preceding.append(u)
            cost += len(row)
            if u in other:
                meeting.append(u)
                if first_only:
                    return preceding, meeting, cost
    return preceding, meeting, cost


def _join(parent: dict[int, int], child: dict[int, int], meeting: int) -> list[int]:
    path = [meeting]
    while parent[path[-1]] != path[-1]:
        path.append(parent[path[-1]])
    path.reverse()
    while child[path[-1]] != path[-1]:
        path.append(child[path[-1]])
    return path


def residual(out: Capacities, delta: Delta, u: int, v: int) -> int:
    return out[u][v] + delta.get((u, v), 0)


def push(delta: Delta, path: list[int], amount: int) -> None:
    for u, v in pairwise(path):
        delta[(u, v)] = delta.get((u, v), 0) - amount
        delta[(v, u)] = delta.get((v, u), 0) + amount


# max_flow first augments along single fewest-hop paths that carry a threshold (one bidirectional
# search each: cheap, and the few wide paths it finds make plans of few legs), then hands the rest to
# Dinic's algorithm, which blocks every fewest-hop augmenting path of one length per phase, so at most
# max_hops phases whatever the capacities (the tail of thousands of tiny augmentations was what ran
# into the routing timeout on large graphs). The switch comes when the threshold falls below
# 1/SCALING_SHARE of what is left to find, where an augmentation might move less than that share,
# or after SCALED_AUGMENTATIONS augmentations: splits over the benchmarks' graphs need at most 7, and
# the cap bounds the searches before Dinic at it plus one failed search per threshold (at most 21).
# Setting it to 0 leaves the whole flow to Dinic.
SCALING_SHARE = 64
SCALED_AUGMENTATIONS = 32


def max_flow(
    out: Capacities,
    source: int,
    target: int,
    *,
    amount: int,
    max_hops: int,
    delta: Delta,
    deadline: float | None = None,
    no_relay: frozenset[int] = frozenset(),
) -> int:
    """Push up to ``amount`` from source to target into ``delta``; returns how much was pushed.

    First Edmonds-Karp with capacity scaling: augmenting paths are shortest paths that carry at
    least a threshold, which shrinks by a factor of 8. Then, once the threshold is small beside what
    is left (see ``SCALING_SHARE``), Dinic's algorithm on the residual graph. Pushing back over a hop
    cancels earlier flow, so the result is a maximum flow (within the hop limit per augmentation).
    """
    search = {"max_hops": max_hops, "delta": delta, "deadline": deadline, "no_relay": no_relay}
    # No flow exceeds what the source's lines can send or the target's receive: an amount beyond
    # that is measured against it, so asking far too much scales as asking for all there is.
    reachable = min(amount, _cut_around(out, source, target, delta=delta, no_relay=no_relay))
    pushed, augmentations = 0, 0
    threshold = reachable
    while pushed < reachable:
        if threshold * SCALING_SHARE < reachable - pushed or augmentations >= SCALED_AUGMENTATIONS:
            return pushed + _dinic(out, source, target, amount=reachable - pushed, **search)
        path = shortest_path(out, source, target, minimum=min(threshold, reachable - pushed), **search)
        if path is None:
            if threshold == 1:
                break
            # Whatever 8 divides the amount down to, the last round is at one micro-unit, or small paths are missed.
            threshold = max(1, threshold // 8)
            continue
        bottleneck = min(residual(out, delta, u, v) for u, v in pairwise(path))
        step = min(bottleneck, reachable - pushed)
        push(delta, path, step)
        pushed += step
        augmentations += 1
    return pushed


def _cut_around(out: Capacities, source: int, target: int, *, delta: Delta, no_relay: frozenset[int]) -> int:
    """The smaller of what the source can send and what the target can receive (no_relay hops aside)."""
    if source == target or source not in out or target not in out:
        return 0
    ends = {source, target}  # a no_relay account may still be the other end
    sending = (residual(out, delta, source, v) for v in out[source] if v in ends or v not in no_relay)
    receiving = (residual(out, delta, u, target) for u in out[target] if u in ends or u not in no_relay)
    fewer, more = (sending, receiving) if len(out[source]) <= len(out[target]) else (receiving, sending)
    bound, total = sum(fewer), 0
    for capacity in more:
        total += capacity
        if total >= bound:  # a hub's (or the commons') many lines need not all be summed
            return bound
    return total


def _dinic(
    out: Capacities,
    source: int,
    target: int,
    *,
    amount: int,
    max_hops: int,
    delta: Delta,
    deadline: float | None,
    no_relay: frozenset[int],
) -> int:
    """Dinic's algorithm on the residual graph of ``delta``: push up to ``amount``, return how much was pushed.

    Each phase blocks every augmenting path of the current fewest hops, so the next phase's paths
    are longer: at most ``max_hops`` phases.
    """
    pushed = 0
    while pushed < amount:
        ahead = _level_graph(out, source, target, max_hops=max_hops, delta=delta, deadline=deadline, no_relay=no_relay)
        if ahead is None:
            break
        pushed += _blocking_flow(out, source, target, ahead, amount=amount - pushed, delta=delta, deadline=deadline)
    return pushed


def _level_graph(
    out: Capacities,
    source: int,
    target: int,
    *,
    max_hops: int,
    delta: Delta,
    deadline: float | None,
    no_relay: frozenset[int],
) -> dict[int, list[int]] | None:
    """The fewest-hop augmenting paths, as each account's hops onward on one; None if they exceed ``max_hops``.

    Levels come from a bidirectional BFS (hops from the source on one side, to the target on the
    other, the cheaper side expanded first as in ``shortest_path``), so a phase costs two balls of
    half the radius instead of one of the whole, and ends as soon as either side is cut off.
    """
    if source == target or source not in out or target not in out:
        return None
    # no_relay accounts are seen by both sides at level -1, which no hop ever leads to.
    blocked = {node: -1 for node in no_relay if node not in (source, target)}
    before, after = {source: 0, **blocked}, {target: 0, **blocked}  # hops from the source / to the target
    senders = {u for u, _ in delta}
    forward, backward, meeting = [source], [target], []
    backward_cost = len(out[target])
    hops_before = hops_after = 0
    while forward and backward and not meeting and hops_before + hops_after < max_hops:
        _check_deadline(deadline)
        search = dict(minimum=1, senders=senders, delta=delta, first_only=False)
        if _forward_is_cheaper(out, forward, backward_cost):
            hops_before += 1
            forward, meeting = _step_forward(out, forward, before, after, mark=hops_before, **search)
        else:
            hops_after += 1
            backward, meeting, backward_cost = _step_backward(out, backward, after, before, mark=hops_after, **search)
    if not meeting:
        return None
    # The first level where the sides meet is complete, so every meeting account lies
    # hops_before + hops_after from the ends: walk from them to the target and back to the source.
    ahead: dict[int, list[int]] = {}
    layer = meeting
    for level in range(hops_after - 1, -1, -1):
        onward: dict[int, None] = {}  # the next layer, each account once
        for u in layer:
            ahead[u] = [v for v in out[u] if after.get(v) == level and residual(out, delta, u, v) > 0]
            onward.update(dict.fromkeys(ahead[u]))
        layer = list(onward)
    layer = meeting
    for level in range(hops_before - 1, -1, -1):
        earlier = []
        for v in layer:
            for u in out[v]:
                if before.get(u) == level and residual(out, delta, u, v) > 0:
                    if u not in ahead:
                        ahead[u] = []
                        earlier.append(u)
                    ahead[u].append(v)
        layer = earlier
    return ahead


def _blocking_flow(
    out: Capacities,
    source: int,
    target: int,
    ahead: dict[int, list[int]],
    *,
    amount: int,
    delta: Delta,
    deadline: float | None,
) -> int:
    """Push along the level graph ``ahead`` until no path through it is left or ``amount`` is pushed.

    A depth-first walk with a current-hop pointer per account: a hop found full, or leading to an
    account with no way on, is never tried again in this phase.
    """
    current = dict.fromkeys(ahead, 0)  # per account, the index of its first hop not known to be useless
    pushed, path = 0, [source]
    while path:
        u = path[-1]
        if u == target:
            _check_deadline(deadline)
            edges = list(pairwise(path))
            step = min(amount - pushed, *(residual(out, delta, a, b) for a, b in edges))
            push(delta, path, step)
            pushed += step
            if pushed == amount:
                break
            # Walk back to the first hop the push filled; its pointer moves on at the next visit.
            del path[next(i for i, (a, b) in enumerate(edges) if residual(out, delta, a, b) == 0) + 1 :]
            continue
        hops, row, index = ahead[u], out[u], current[u]
        while index < len(hops) and row[hops[index]] + delta.get((u, hops[index]), 0) <= 0:
            index += 1
        current[u] = index
        if index < len(hops):
            path.append(hops[index])
        else:  # a dead end: the hop into it is useless too
            _check_deadline(deadline)
            path.pop()
            if path:
                current[path[-1]] += 1
    return pushed


def decompose(delta: Delta, source: int, target: int) -> list[tuple[list[int], int]]:
    """Split the net flow in ``delta`` into simple paths from source to target, with their amounts.

    Flow around cycles (which augmenting can leave behind) is cancelled, as it moves nothing.
    """
    flow: dict[int, dict[int, int]] = {}
    for (u, v), change in delta.items():
        if change < 0:
            flow.setdefault(u, {})[v] = -change
    paths = []
    while flow.get(source):
        path, position = [source], {source: 0}
        while path[-1] != target:
            u = path[-1]
            v = next(iter(flow[u]))
            if v in position:  # a cycle: cancel it and walk on from where it began
                cycle = [*path[position[v] :], v]
                _subtract(flow, cycle, min(flow[a][b] for a, b in pairwise(cycle)))
                for node in path[position[v] + 1 :]:
                    del position[node]
                path = path[: position[v] + 1]
                continue
            position[v] = len(path)
            path.append(v)
        amount = min(flow[a][b] for a, b in pairwise(path))
        _subtract(flow, path, amount)
        paths.append((path, amount))
    return paths


def _subtract(flow: dict[int, dict[int, int]], path: list[int], amount: int) -> None:
    for a, b in pairwise(path):
        flow[a][b] -= amount
        if not flow[a][b]:
            del flow[a][b]
            if not flow[a]:
                del flow[a]
