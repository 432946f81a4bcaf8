"""Plan a payment over the in-memory graph: the paths it takes and the tax's way to the commons."""

import time
from dataclasses import dataclass, field, replace
from itertools import pairwise

from core.money import apply_rate
from trust.errors import InsufficientCapacity, NoTrustPath, RoutingTimeout, TooManyHops, written
from trust.routing.search import Capacities, Delta, SearchTimeout, decompose, max_flow, push, residual, shortest_path

Path = tuple[list[int], int]  # account ids from payer to payee, and the amount moved along them


@dataclass(frozen=True)
class Wording:
    """How refusals name the payee and write amounts, for the person paying."""

    payee: str = "the payee"
    currency: str = ""

    def amount(self, micro: int) -> str:
        return written(micro, self.currency)


UNNAMED = Wording()


@dataclass
class Plan:
    amount: int
    paths: list[Path]
    tax: int = 0
    fees: int = 0
    levy_paths: list[Path] = field(default_factory=list)  # tax and fees, from the payer to the commons

    @property
    def levy(self) -> int:
        return self.tax + self.fees

    def legs(self) -> list[tuple[str, int, int, int, int, int]]:
        """``(purpose, path, hop, sender, receiver, amount)`` for every hop of every path."""
        return [
            (purpose, path_index, hop, u, v, amount)
            for purpose, paths in (("payment", self.paths), ("tax", self.levy_paths))
            for path_index, (nodes, amount) in enumerate(paths)
            for hop, (u, v) in enumerate(pairwise(nodes))
        ]


def route(
    out: Capacities,
    source: int,
    target: int,
    *,
    amount: int,
    max_hops: int,
    delta: Delta,
    deadline: float,
    no_relay: frozenset[int] = frozenset(),
    wording: Wording = UNNAMED,
) -> list[Path]:
    """Paths carrying ``amount`` from source to target on top of ``delta`` (which they are added to).

    One path when one can carry it all (fewest hops), else a split over several (max-flow).
    """
    search = {"max_hops": max_hops, "deadline": deadline, "no_relay": no_relay}
    path = shortest_path(out, source, target, minimum=amount, delta=delta, **search)
    if path is not None:
        push(delta, path, amount)
        return [(path, amount)]
    flow: Delta = dict(delta)
    max_flow(out, source, target, amount=amount, delta=flow, **search)
    own = {edge: change - delta.get(edge, 0) for edge, change in flow.items() if change != delta.get(edge, 0)}
    paths = [(nodes, share) for nodes, share in decompose(own, source, target) if len(nodes) - 1 <= max_hops]
    routed = sum(share for _, share in paths)
    if routed < amount:
        _refuse(out, source, target, routed=routed, amount=amount, wording=wording, **search)
    for nodes, share in paths:
        push(delta, nodes, share)
    return paths


def _refuse(
    out: Capacities, source: int, target: int, *, routed: int, amount: int, max_hops: int, wording: Wording, **search
) -> None:
    """Raise the error that says best why ``amount`` cannot go from source to target."""
    if routed == 0:
        within_reach = shortest_path(out, source, target, minimum=0, max_hops=max_hops, **search)
        if within_reach is None:
            if shortest_path(out, source, target, minimum=0, max_hops=len(out), **search) is not None:
                raise TooManyHops(f"Every trust path to {wording.payee} is longer than {max_hops} hops.")
            raise NoTrustPath(f"There is no chain of trustlines between you and {wording.payee}.")
    raise InsufficientCapacity(
        f"The trust paths to {wording.payee} cannot carry {wording.amount(amount)}",
        max_sendable=routed,
        currency=wording.currency,
    )


def plan_payment(
    out: Capacities,
    *,
    payer: int,
    payee: int,
    amount: int,
    max_hops: int,
    commons: int | None = None,
    relays_not: frozenset[int] = frozenset(),
    tax_ppm: int = 0,
    hop_fee_ppm: int = 0,
    timeout: float = 10.0,
    direct_only: bool = False,
    wording: Wording = UNNAMED,
) -> Plan:
    """Plan ``amount`` from payer to payee and the tax and hop fees from payer to commons.

    ``direct_only`` keeps the payment on the payer's own trustline with the payee; ``wording`` names
    the payee and the currency in refusals. The commons and the accounts in ``relays_not`` may pay and
    be paid, never relay.
    """
    deadline = time.monotonic() + timeout
    delta: Delta = {}
    no_relay = relays_not | (frozenset() if commons is None else frozenset({commons}))
    try:
        if direct_only:
            paths = _direct(out, payer, payee, amount=amount, delta=delta, wording=wording)
        else:
            paths = route(
                out,
                payer,
                payee,
                amount=amount,
                max_hops=max_hops,
                delta=delta,
                deadline=deadline,
                no_relay=no_relay,
                wording=wording,
            )
        plan = Plan(amount=amount, paths=paths, tax=apply_rate(amount, tax_ppm))
        plan.fees = sum(apply_rate(share * (len(nodes) - 2), hop_fee_ppm) for nodes, share in paths)
        if plan.levy and commons is not None and payer != commons:
            try:
                plan.levy_paths = route(
                    out,
                    payer,
                    commons,
                    amount=plan.levy,
                    max_hops=max_hops,
                    delta=delta,
                    deadline=deadline,
                    no_relay=no_relay,
                    wording=replace(wording, payee="the commons"),
                )
            except InsufficientCapacity as exc:
                affordable = amount * exc.max_sendable // plan.levy
                raise InsufficientCapacity(
                    f"Your trustlines cannot also carry the tax and fees of {wording.amount(plan.levy)} to the commons",
                    max_sendable=affordable,
                    currency=wording.currency,
                ) from None
    except SearchTimeout:
        raise RoutingTimeout("Finding a route took too long; try a smaller amount or again later.") from None
    return plan


def _direct(out: Capacities, payer: int, payee: int, *, amount: int, delta: Delta, wording: Wording) -> list[Path]:
    if payee not in out.get(payer, {}):
        raise NoTrustPath(f"You have no trustline with {wording.payee}.")
    available = residual(out, delta, payer, payee)
    if available < amount:
        raise InsufficientCapacity(
            f"Your trustline with {wording.payee} cannot carry {wording.amount(amount)}",
            max_sendable=available,
            currency=wording.currency,
        )
    push(delta, [payer, payee], amount)
    return [([payer, payee], amount)]
