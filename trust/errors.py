"""Errors of the money core, each with its stable code."""

from core.errors import ApplicationError, Conflict, NotFound
from core.money import format_amount
from core.templatetags.money import amount as shown


def written(micro: int, currency: str) -> str:
    """An amount as a sentence for a person writes it: digits grouped, the currency after (``100,000.00 DEMO``)."""
    whole, fraction = shown(abs(micro)).split(".")
    return f"{'-' if micro < 0 else ''}{int(whole):,}.{fraction} {currency}"


class PayeeNotFound(NotFound):
    code = "payee_not_found"


class RoutingError(ApplicationError):
    """A payment that cannot be routed; nothing was moved."""

    status = 409


class NoTrustPath(RoutingError):
    code = "no_trust_path"


class TooManyHops(RoutingError):
    code = "too_many_hops"


class RoutingTimeout(RoutingError):
    status = 503
    code = "routing_timeout"


class InsufficientCapacity(RoutingError):
    code = "insufficient_capacity"

    def __init__(self, message: str, *, max_sendable: int, currency: str) -> None:
        super().__init__(
            f"{message}; at most {written(max_sendable, currency)} can be sent.",
            max_sendable=format_amount(max_sendable),
        )
        self.max_sendable = max_sendable


class TrustlineNotFound(NotFound):
    code = "trustline_not_found"


class PaymentNotFound(NotFound):
    code = "payment_not_found"


class StatusChangeNotAllowed(Conflict):
    code = "status_change_not_allowed"
