from django.db.models import Prefetch, Q, QuerySet, Sum

from bank.models import Community, Member
from trust import federated
from trust.models import COMMONS_NAME, Account, Payment, PaymentLeg, Trustline


def account_rows(*, account: Account) -> list[dict]:
    """One row per counterpart, seen from ``account``: balance > 0 means they owe it; ``sync`` is ``pending``
    while another instance has not acknowledged the last change of a line with one of its accounts."""
    rows = []
    for line in trustlines_of(account=account):
        other = line.high if line.low_id == account.pk else line.low
        username, server, sync = other.name, account.community.address_domain, "ok"
        remote = other.kind == Account.Kind.REMOTE
        if remote:
            username, _, server = other.address.rpartition("@")
            hub = federated.counterparts()
            sync = hub.sync_state(member_account=account, remote=other) if hub else "pending"
        rows.append(
            {
                "address": other.name,  # what the pages name it by: handle, or handle@host on another instance
                "remote": remote,
                "username": username,
                "server": server,
                "balance": line.owed_to(account.pk),
                "limit_out": line.limit_extended_by(account.pk),
                "limit_in": line.limit_extended_by(other.pk),
                "sync": sync,
            }
        )
    return rows


def account_of(*, member: Member) -> Account:
    return Account.objects.select_related("community", "member").get(member=member)


def account_find(*, community: Community, handle: str) -> Account | None:
    """The account of a member (or the commons) by name within the community."""
    handle = handle.strip().lower()
    accounts = Account.objects.select_related("community", "member").filter(community=community)
    if handle == COMMONS_NAME:
        return accounts.filter(kind=Account.Kind.COMMONS).first()
    return accounts.filter(member__handle=handle, member__is_active=True).first()


def trustlines_of(*, account: Account) -> QuerySet[Trustline]:
    return (
        Trustline.objects.filter(Q(low=account) | Q(high=account), closed_at=None)
        .select_related("low__member", "high__member")
        .order_by("pk")
    )


def trustline_between(*, first: Account, second: Account) -> Trustline | None:
    """The open trustline of two accounts, if they have one."""
    low, high = sorted((first.pk, second.pk))
    return Trustline.objects.filter(low_id=low, high_id=high, closed_at=None).first()


def net_balance(*, account: Account) -> int:
    """What the account is owed in all, minus what it owes."""
    owed = Trustline.objects.filter(low=account).aggregate(total=Sum("balance"))["total"] or 0
    owing = Trustline.objects.filter(high=account).aggregate(total=Sum("balance"))["total"] or 0
    return owed - owing


def net_balances(*, community: Community) -> dict[int, int]:
    """Every account's net balance in the community; they always sum to zero."""
    balances: dict[int, int] = {}
    lines = Trustline.objects.filter(community=community)
    for low, total in lines.values_list("low_id").annotate(total=Sum("balance")).order_by():
        balances[low] = balances.get(low, 0) + total
    for high, total in lines.values_list("high_id").annotate(total=Sum("balance")).order_by():
        balances[high] = balances.get(high, 0) - total
    return balances


def payments_of(*, account: Account) -> QuerySet[Payment]:
    """The account's payments as payer or payee, newest first, with their legs."""
    legs = PaymentLeg.objects.select_related("sender__member", "receiver__member")
    return (
        Payment.objects.filter(Q(payer=account) | Q(payee=account))
        .select_related("payer__member", "payee__member")
        .prefetch_related(Prefetch("legs", queryset=legs))
        .order_by("-pk")
    )


def payment_of(*, account: Account, payment_id: int) -> Payment | None:
    return payments_of(account=account).filter(pk=payment_id).first()


def settled_payments_of(*, account: Account) -> QuerySet[Payment]:
    """Settled payments in or out of the account, newest first."""
    return payments_of(account=account).filter(state=Payment.State.FINALIZED)


def settled_payment_seen_from(*, payment: Payment, account: Account) -> dict:
    """A settled payment seen from ``account``: what it paid out (tax and fees included) or received."""
    sent = payment.payer_id == account.pk
    return {
        "direction": "sent" if sent else "received",
        "counterpart": (payment.payee if sent else payment.payer).name,
        "amount": -(payment.amount + payment.tax + payment.fees) if sent else payment.amount,
    }


def legs_of(*, account: Account) -> QuerySet[PaymentLeg]:
    """Every movement of value in or out of the account, newest first: what it paid and received."""
    return (
        PaymentLeg.objects.filter(Q(sender=account) | Q(receiver=account))
        .select_related("payment", "sender__member", "receiver__member")
        .order_by("-payment__settled_at", "-pk")
    )


def paths_as_names(*, paths: list[tuple[list[int], int]]) -> list[list[str]]:
    ids = {node for nodes, _ in paths for node in nodes}
    names = {account.pk: account.name for account in Account.objects.filter(pk__in=ids).select_related("member")}
    return [[names[node] for node in nodes] for nodes, _ in paths]
