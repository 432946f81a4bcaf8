"""The way to accounts on other instances. ``federation`` registers itself here when it is installed, so
``trust`` reaches remote accounts without importing the app above it."""

from collections.abc import Callable
from typing import Protocol

from bank.models import Member
from core.errors import ApplicationError
from trust.models import Account, Payment
from trust.routing.planner import Plan


class Counterparts(Protocol):
    def remote_account(
        self, *, member: Member, handle: str, server: str, create: bool, missing: Callable[[str], ApplicationError]
    ) -> Account:
        """The account standing here for ``handle@server`` that ``member`` holds a line with, else ``missing``;
        ``create``: found on its instance and opened now (``server_not_found``, ``account_not_found``,
        ``address_too_long`` when it cannot be)."""

    def sync_state(self, *, member_account: Account, remote: Account) -> str:
        """``ok``, or ``pending`` while the other instance has not acknowledged the last change of their line."""

    def remote_party(self, *, member: Member, handle: str, server: str) -> Account:
        """The account standing here for ``handle@server``, a member of another instance that ``member`` may pay
        through the trust graph (no trustline needed; unsaved until a payment to it is made):
        ``server_not_found``, ``account_not_found``."""

    def routed_payment_send(
        self, *, member: Member, payee: Account, amount: int, memo: str, tag: str, wait: float
    ) -> Payment:
        """Pay the remote account ``payee`` through the trust graph across instances; the payment as it stands
        once it ended or after ``wait`` seconds. Raises the routing error of a payment refused or cancelled."""

    def routed_payment_preview(self, *, member: Member, payee: Account, amount: int) -> Plan:
        """The plan of this instance's part of such a payment: to the first account on another instance."""

    def routed_request_send(self, *, member: Member, payer: Account, amount: int, memo: str, tag: str) -> Payment:
        """Ask ``payer``, a member of another instance, to pay ``member``: a pending request here, and one there
        that the payer accepts (and so pays through the trust graph) or not."""

    def routed_request_accept(self, *, payment: Payment) -> Payment:
        """The member here accepts ``payment``, a request from a member of another instance: paid through the
        trust graph across instances; the request as it stands (in flight)."""


_registered: list[Counterparts] = []


def register(counterparts: Counterparts) -> None:
    _registered[:] = [counterparts]


def counterparts() -> Counterparts | None:
    return _registered[0] if _registered else None
