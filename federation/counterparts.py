"""What ``trust`` asks of federation (``trust.federated``): remote accounts and the sync of their lines."""

from collections.abc import Callable

from bank.models import Member
from core.errors import ApplicationError
from federation import selectors
from federation.models import Pair
from federation.protocols.datagrams import PeerCommand
from federation.services import discovery, lines, outbox, pairs, transits
from trust.models import Account, Payment, Trustline
from trust.routing.planner import Plan
from trust.services import remote_payments


class RemoteCounterparts:
    def remote_account(
        self, *, member: Member, handle: str, server: str, create: bool, missing: Callable[[str], ApplicationError]
    ) -> Account:
        address = f"{handle}@{server}"
        handle, host = pairs.address_parts(member=member, address=address)
        pair = Pair.objects.filter(member=member, handle=handle, host=host).first()
        if pair is None:
            if not create:
                raise missing(f"You have no trustline with {handle}@{host}; add the account first.")
            remote = discovery.instance_for_host(host)
            discovery.account_confirmed(remote=remote, address=f"{handle}@{host}")
            pair = pairs.pair_open(member=member, address=address)
        return lines.remote_account_of(pair)

    def sync_state(self, *, member_account: Account, remote: Account) -> str:
        pair_ids = list(_pairs_of(member_account.member_id, remote).values_list("pk", flat=True))
        return "pending" if selectors.sync_pending(pair_ids=pair_ids) else "ok"

    def remote_party(self, *, member: Member, handle: str, server: str) -> Account:
        handle, host = pairs.address_parts(member=member, address=f"{handle}@{server}")
        address = f"{handle}@{host}"
        known = Account.objects.filter(community=member.community, kind=Account.Kind.REMOTE, address=address).first()
        if known is not None and selectors.remote_serving(host) is not None:
            return known
        remote = discovery.instance_for_host(host)
        discovery.account_confirmed(remote=remote, address=address)
        return Account(community=member.community, kind=Account.Kind.REMOTE, address=address)  # saved when paid

    def routed_payment_send(
        self, *, member: Member, payee: Account, amount: int, memo: str, tag: str, wait: float
    ) -> Payment:
        payment = transits.payment_start(member=member, payee=payee, amount=amount, memo=memo, tag=tag)
        payment = remote_payments.answer_awaited(payment=payment, seconds=wait, waiting=transits.IN_FLIGHT)
        if payment.state == Payment.State.CANCELLED:
            raise transits.refusal_of(payment)
        return payment

    def routed_payment_preview(self, *, member: Member, payee: Account, amount: int) -> Plan:
        return transits.payment_preview(member=member, amount=amount)

    def routed_request_send(self, *, member: Member, payer: Account, amount: int, memo: str, tag: str) -> Payment:
        return transits.request_start(member=member, payer=payer, amount=amount, memo=memo, tag=tag)

    def routed_request_accept(self, *, payment: Payment) -> Payment:
        return transits.request_accept(payment=payment)


def _pairs_of(member_id: int, remote: Account):
    """The pair (a queryset of at most one) of a member here and the account a remote account stands for."""
    handle, _, host = remote.address.rpartition("@")
    return Pair.objects.filter(member_id=member_id, handle=handle, host=host)


def tell_remote_instance(sender, *, line: Trustline, owner: Account, other: Account, **kwargs) -> None:
    """A member here opened or changed their side of a line with a remote account: SYNC_TRUSTLINE, in the
    same transaction (a change that came from the other instance is not sent back)."""
    if owner.kind == Account.Kind.REMOTE:
        return
    outbox.datagram_queue(
        pair=_pairs_of(owner.member_id, other).get(),
        command=PeerCommand.SYNC_TRUSTLINE,
        arguments={"limit": line.limit_extended_by(owner.pk)},
    )


def tell_payment(sender, *, payment: Payment, **kwargs) -> None:
    """A payment to a remote account settled here: DIRECT_PAYMENT in the same transaction; its counter
    argument is the payment's id here, which the acknowledgement gives back."""
    outbox.datagram_queue(
        pair=_pairs_of(payment.payer.member_id, payment.payee).get(),
        command=PeerCommand.DIRECT_PAYMENT,
        arguments={"amount": payment.amount, "tax": payment.tax, "counter": payment.pk},
    )
