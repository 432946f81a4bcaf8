"""Path and flow search over a capacity map ``out[u][v]`` (what ``u`` can pay ``v`` directly).

Pure functions over dicts, no database: the hot loop of routing. ``delta`` overlays capacity
changes of a tentative flow: pushing ``x`` from ``u`` to ``v`` over a trustline lowers what ``u``
can pay ``v`` by ``x`` and raises what ``v`` can pay ``u`` by ``x``, so the residual graph of a
flow is just the trust graph after the flow, and max-flow needs no separate reverse edges.
"""

import time
from collections.abc import Mapping

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
    # Only the hops of accounts that already send in ``delta`` need its overlay looked up.
    senders = {u for u, _ in delta} if delta else ()
    forward, backward = [source], [target]
    # A side's next level costs one step per trustline of its frontier, and a backward step about
    # twice a forward one (it looks up the neighbour's own map): expanding the cheaper side first
    # keeps a search from walking through a hub's thousands of lines when it need not. The forward
    # cost is summed only when the frontier's size alone does not already decide.
    backward_cost = len(out[target])
    depth = 0
    while forward and backward and depth < max_hops:
        _check_deadline(deadline)
        depth += 1
        limit = 2 * backward_cost
        if len(forward) <= limit and sum(len(out[u]) for u in forward) <= limit:
            following = []
            for u in forward:
                hops = out[u].items()
                if u in senders:
                    hops = [(v, cap + delta.get((u, v), 0)) for v, cap in hops]
                for v, cap in hops:
                    if cap < minimum or v in parent:
                        continue
                    parent[v] = u
                    if v in child:
                        return _join(parent, child, v)
                    following.append(v)
            forward = following
        else:
            preceding, backward_cost = [], 0
            for v in backward:
                for u in out[v]:  # trustlines join both ways, so v's neighbours are its possible payers
                    if u in child:
                        continue
                    row = out[u]
                    cap = row[v] + delta.get((u, v), 0) if u in senders else row[v]
                    if cap < minimum:
                        continue
                    child[u] = v
                    if u in parent:
                        return _join(parent, child, u)
                    preceding.append(u)
                    backward_cost += len(row)
            backward = preceding
    return None


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
    for u, v in zip(path, path[1:]):
        delta[(u, v)] = delta.get((u, v), 0) - amount
        delta[(v, u)] = delta.get((v, u), 0) + amount


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

    Edmonds-Karp with capacity scaling: augmenting paths are shortest paths that carry at least a
    threshold, which shrinks by a factor of 8 down to one micro-unit. Pushing back over a hop
    cancels earlier flow, so the result is a maximum flow (within the hop limit per augmentation).
    """
    pushed = 0
    threshold = amount
    while pushed < amount:
        path = shortest_path(
            out, source, target, minimum=min(threshold, amount - pushed), max_hops=max_hops, delta=delta,
            deadline=deadline, no_relay=no_relay,
        )
        if path is None:
            if threshold == 1:
                break
            # Whatever 8 divides the amount down to, the last round is at one micro-unit, or small paths are missed.
            threshold = max(1, threshold // 8)
            continue
        bottleneck = min(residual(out, delta, u, v) for u, v in zip(path, path[1:]))
        step = min(bottleneck, amount - pushed)
        push(delta, path, step)
        pushed += step
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
                cycle = path[position[v]:] + [v]
                _subtract(flow, cycle, min(flow[a][b] for a, b in zip(cycle, cycle[1:])))
                for node in path[position[v] + 1:]:
                    del position[node]
                path = path[: position[v] + 1]
                continue
            position[v] = len(path)
            path.append(v)
        amount = min(flow[a][b] for a, b in zip(path, path[1:]))
        _subtract(flow, path, amount)
        paths.append((path, amount))
    return paths


def _subtract(flow: dict[int, dict[int, int]], path: list[int], amount: int) -> None:
    for a, b in zip(path, path[1:]):
        flow[a][b] -= amount
        if not flow[a][b]:
            del flow[a][b]
            if not flow[a]:
                del flow[a]
