"""Trust graphs to benchmark routing on: a seeded small world and the real Ripple network.

Lines are ``(low, high, limit_from_low, limit_from_high, balance)`` tuples, as
``TrustGraph.from_lines`` takes them; node ids are ints from 1.
"""

import random
from collections.abc import Iterator
from pathlib import Path

UNIT = 1_000_000

Line = tuple[int, int, int, int, int]


def small_world(nodes: int, edges: int, *, seed: int, rewire: float = 0.1, max_limit: int = 100) -> list[Line]:
    """Watts-Strogatz-like: a ring lattice of ``edges`` trustlines, each rewired to a random node with
    probability ``rewire``. Each side extends a random credit of 1..``max_limit`` units, or none
    (one time in five), so some lines carry value only one way."""
    per_node, extra = divmod(edges, nodes)
    if per_node >= nodes // 2:
        raise ValueError("too many edges for a ring lattice of that many nodes")
    rng = random.Random(seed)
    seen: set[tuple[int, int]] = set()
    lines: list[Line] = []

    def limit() -> int:
        return 0 if rng.random() < 0.2 else rng.randint(1, max_limit) * UNIT

    for u in range(nodes):
        # ``extra`` nodes reach one neighbour further, so the total is exactly ``edges``.
        for step in range(1, per_node + 1 + (u < extra)):
            v = (u + step) % nodes
            if rng.random() < rewire:
                v = rng.randrange(nodes)
            low, high = min(u, v) + 1, max(u, v) + 1
            while low == high or (low, high) in seen:  # a self-link or a pair taken: draw again
                v = rng.randrange(nodes)
                low, high = min(u, v) + 1, max(u, v) + 1
            seen.add((low, high))
            lines.append((low, high, limit(), limit(), 0))
    return lines


def ripple(path: Path, *, minimum: int = UNIT) -> tuple[list[Line], dict[int, str]]:
    """The Ripple credit-links file as lines, each direction kept only when it carries ``minimum``;
    also node id -> the file's node name. Read with the importer's parser, so the capacities are
    the ones ``import_trust_graph`` stores (beyond-64-bit ones lowered to the largest amount)."""
    from core.money import MAX_AMOUNT
    from trust.importing import credit_links_parse, line_limits

    with path.open(encoding="utf-8") as text:
        parsed = credit_links_parse(text, max_capacity=MAX_AMOUNT)
    ids = {node: number for number, node in enumerate(parsed.handles, start=1)}
    lines = []
    for (u, v), (u_pays_v, v_pays_u) in parsed.links.items():
        keep = [amount if amount >= minimum else 0 for amount in (u_pays_v, v_pays_u)]
        lines.append((*line_limits(ids[u], ids[v], *keep), 0))
    return lines, {number: node for node, number in ids.items()}


def directed_edges(lines: list[Line], *, minimum: int) -> Iterator[tuple[int, int]]:
    """``(u, v)`` for every direction of every line that can carry ``minimum`` at a zero balance."""
    for low, high, limit_from_low, limit_from_high, _ in lines:
        if limit_from_high >= minimum:  # the credit high extends to low is what low can pay high
            yield low, high
        if limit_from_low >= minimum:
            yield high, low


def random_pairs(nodes: list[int], count: int, *, seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    pairs = []
    while len(pairs) < count:
        payer, payee = rng.choice(nodes), rng.choice(nodes)
        if payer != payee:
            pairs.append((payer, payee))
    return pairs
