"""Errors of the money core, each with its stable code."""

from core.errors import ApplicationError, Conflict, NotFound
from core.money import format_amount


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

    def __init__(self, message: str, *, max_sendable: int) -> None:
        super().__init__(
            f"{message} At most {format_amount(max_sendable)} can be sent.", max_sendable=format_amount(max_sendable)
        )
        self.max_sendable = max_sendable


class TrustlineNotFound(NotFound):
    code = "trustline_not_found"


class PaymentNotFound(NotFound):
    code = "payment_not_found"


class StatusChangeNotAllowed(Conflict):
    code = "status_change_not_allowed"
