"""Accounts, trustlines and trust indexes."""

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from bank.models import Community, Member
from core.errors import Conflict, InvalidInput
from core.money import parse_rate
from trust.errors import TrustlineNotFound
from trust.models import Account, Payment, Trustline
from trust.routing.graph import lines_changed
from trust.signals import remote_line_changed


def commons_of(community: Community) -> Account:
    account, _ = Account.objects.get_or_create(community=community, kind=Account.Kind.COMMONS)
    return account


@transaction.atomic
def account_open(*, member: Member) -> Account:
    """A new member's account, with its trustline to the commons at the community's limits."""
    account = Account.objects.create(community=member.community, member=member)
    commons = commons_of(member.community)
    limit = member.community.commons_limit
    low, high = sorted((account, commons), key=lambda a: a.pk)
    Trustline.objects.create(
        community=member.community, low=low, high=high, limit_from_low=limit, limit_from_high=limit
    )
    return account


def remote_account_open(*, community: Community, address: str) -> Account:
    """The account that stands here for ``address`` (``handle@host`` on another instance), made the first time."""
    account, _ = Account.objects.get_or_create(community=community, kind=Account.Kind.REMOTE, address=address.lower())
    return account


def _pair(owner: Account, other: Account) -> Q:
    low, high = sorted((owner.pk, other.pk))
    return Q(low_id=low, high_id=high)


def _touch(line: Trustline, owner: Account | None = None, other: Account | None = None) -> None:
    line.updated_at = timezone.now()
    line.save()
    transaction.on_commit(lambda: lines_changed(line.community_id, [line]))
    if owner is not None and Account.Kind.REMOTE in (owner.kind, other.kind):
        remote_line_changed.send(sender=Trustline, line=line, owner=owner, other=other)


@transaction.atomic
def trustline_add(*, owner: Account, other: Account) -> Trustline:
    """Open (or reopen) a trustline between two accounts, extending no credit yet."""
    if owner.pk == other.pk:
        raise InvalidInput("username", ["You cannot open a trustline with yourself."])
    exists = Conflict(f"You already have a trustline with {other.name}.", code="trustline_exists")
    line = Trustline.objects.select_for_update().filter(_pair(owner, other)).first()
    if line is not None and line.closed_at is None:
        raise exists
    if line is None:
        low, high = sorted((owner, other), key=lambda a: a.pk)
        line = Trustline(community_id=owner.community_id, low=low, high=high)
    line.closed_at = None
    try:
        with transaction.atomic():
            _touch(line, owner, other)
    except IntegrityError:  # the other side opened it at the same moment
        raise exists from None
    return line


def _open_line(owner: Account, other: Account) -> Trustline:
    line = Trustline.objects.select_for_update().filter(_pair(owner, other), closed_at=None).first()
    if line is None:
        raise TrustlineNotFound(f"You have no trustline with {other.name}; add the account first.")
    return line


@transaction.atomic
def trustline_set_limit(*, owner: Account, other: Account, limit: int) -> Trustline:
    """Set the credit ``owner`` extends to ``other``. Lowering it below what they owe only stops new credit."""
    if Account.Kind.COMMONS in (owner.kind, other.kind):
        raise Conflict("The commons trustline's limits are set by the community's admins.", code="commons_trustline")
    line = _open_line(owner, other)
    if owner.pk == line.low_id:
        line.limit_from_low = limit
    else:
        line.limit_from_high = limit
    _touch(line, owner, other)
    return line


@transaction.atomic
def trustline_remove(*, owner: Account, other: Account) -> Trustline:
    """Close a trustline whose balance is settled; its history stays."""
    if Account.Kind.COMMONS in (owner.kind, other.kind):
        raise Conflict("The trustline with the commons belongs to your membership.", code="commons_trustline")
    if Account.Kind.REMOTE in (owner.kind, other.kind):
        raise Conflict(
            "A trustline with another instance's account cannot be closed yet; set its limit to 0 instead.",
            code="federated_trustline",
        )
    line = _open_line(owner, other)
    if line.balance:
        raise Conflict("The balance on this trustline is not zero; settle it first.", code="balance_not_zero")
    pending = Payment.objects.filter(state=Payment.State.PENDING).filter(
        Q(payer=owner, payee=other) | Q(payer=other, payee=owner)
    )
    if pending.exists():
        raise Conflict("A payment between you is still pending.", code="payment_pending")
    line.limit_from_low = line.limit_from_high = 0
    line.closed_at = timezone.now()
    _touch(line)
    return line


@transaction.atomic
def trustline_limits_set(*, line: Trustline, limit_from_low: int, limit_from_high: int) -> Trustline:
    """An admin sets both limits of a trustline (members set only their own side, and never the commons')."""
    line = Trustline.objects.select_for_update().get(pk=line.pk)
    line.limit_from_low, line.limit_from_high = limit_from_low, limit_from_high
    _touch(line)
    return line


def commons_limit_apply(*, line: Trustline) -> bool:
    """Set a member's commons trustline, both ways, to the community's commons limit; False if not a commons line."""
    if Account.Kind.COMMONS not in (line.low.kind, line.high.kind):
        return False
    limit = line.community.commons_limit
    trustline_limits_set(line=line, limit_from_low=limit, limit_from_high=limit)
    return True


@transaction.atomic
def trust_index_set(*, account: Account, value: str) -> int:
    """Set the account's own tax rate, between the community minimum and 1; returns it in millionths."""
    try:
        ppm = parse_rate(value)
    except ValueError as exc:
        raise InvalidInput("value", [str(exc)]) from None
    minimum = minimum_trust_index_ppm(account.community)
    if ppm < minimum:
        raise InvalidInput(
            "value", [f"The trust index is at least the community's minimum, {minimum / 1_000_000:.6f}."]
        )
    account.trust_index_ppm = ppm
    account.save(update_fields=["trust_index_ppm"])
    return ppm


def minimum_trust_index_ppm(community: Community) -> int:
    return int(community.minimum_trust_index * 1_000_000)


def trust_index_ppm(account: Account) -> int:
    """The rate in force: the member's own, never below the community minimum."""
    return max(account.trust_index_ppm or 0, minimum_trust_index_ppm(account.community))
