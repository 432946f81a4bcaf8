"""Import a credit-links file (``u v lower current upper`` per line) as members and trustlines, in bulk.

``u`` can pay ``v`` up to ``current - lower`` and ``v`` can pay ``u`` up to ``upper - current``:
with a zero balance, what ``u`` can pay ``v`` is the credit ``v`` extends to ``u``, so each link
becomes a trustline whose two limits are those capacities. Everything is checked before anything
is written, and the writes happen in one transaction, so a file is imported whole or not at all.
"""

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bank.models import HANDLE_PATTERN, RESERVED_HANDLES, Community, Member
from core.errors import ApplicationError, Conflict, InvalidInput, NotFound
from core.money import MAX_AMOUNT, MICRO
from trust.models import Account, Trustline
from trust.services.accounts import commons_of

User = get_user_model()
BATCH_SIZE = 5_000
MAX_PROBLEMS = 1_000  # a file that is wrong everywhere is not listed line by line
_HANDLE = re.compile(HANDLE_PATTERN)
# Enough digits that subtracting two of the file's amounts is exact before rounding to micro-units.
_EXACT = Context(prec=80)
_BEYOND = MAX_AMOUNT + 1


class CreditLinksInvalid(ApplicationError):
    """The file has bad lines; ``problems`` lists ``(line number, what is wrong)``."""

    code = "credit_links_invalid"

    def __init__(self, problems: list[tuple[int, str]], *, more: int = 0) -> None:
        super().__init__(f"{len(problems) + more} bad line(s); nothing was imported.")
        self.problems = problems
        self.more = more


@dataclass
class CreditLinks:
    """A parsed file: node ids with the handles their members get, and one entry per linked pair."""

    handles: dict[str, str] = field(default_factory=dict)  # node id -> handle, in order of appearance
    # (u, v) as first seen -> [what u can pay v, what v can pay u], micro-units
    links: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    lines: int = 0  # link lines read
    duplicates: int = 0  # lines merged into a pair seen before
    capped: int = 0  # capacities lowered to the maximum the import was given


@dataclass(frozen=True)
class ImportReport:
    community: Community
    community_created: bool
    members: int
    trustlines: int
    commons_lines: int
    lines: int
    duplicates: int
    capped: int


def handle_for(node: str) -> str | None:
    """The member handle of a node: its id when that is a valid handle, else ``u<id>``; None if neither is."""
    for handle in (node, f"u{node}"):
        if _HANDLE.match(handle) and handle not in RESERVED_HANDLES:
            return handle
    return None


def _capacity(high: Decimal, low: Decimal) -> int:
    """``high - low`` in micro-units, rounded half to even (possibly beyond 64 bits); ValueError when negative."""
    with localcontext(_EXACT):
        try:
            exact = high - low
            micro = int((exact * MICRO).to_integral_value(rounding=ROUND_HALF_EVEN))
        except ArithmeticError:  # beyond even Decimal's exponent range
            return _BEYOND
    if exact < 0:
        raise ValueError(f"is negative ({exact.normalize():f})")
    return micro


def _number(text: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{text!r} is not a number")
    return number


def _parse_line(fields: list[str]) -> tuple[str, str, int, int]:
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (u v lower current upper), found {len(fields)}")
    u, v = fields[0], fields[1]
    if u == v:
        raise ValueError(f"links node {u} to itself")
    lower, current, upper = (_number(text) for text in fields[2:])
    try:
        forward = _capacity(current, lower)
    except ValueError as exc:
        raise ValueError(f"what {u} can pay {v} (current - lower) {exc}") from None
    try:
        backward = _capacity(upper, current)
    except ValueError as exc:
        raise ValueError(f"what {v} can pay {u} (upper - current) {exc}") from None
    return u, v, forward, backward


def credit_links_parse(lines: Iterable[str], *, max_capacity: int | None = None) -> CreditLinks:
    """Read and check a whole file; raises ``CreditLinksInvalid`` listing every bad line.

    Blank lines and ``#`` comments are skipped. A pair given twice (either way round) is merged by
    adding its capacities. A capacity beyond 64-bit micro-units makes its line bad, unless
    ``max_capacity`` is given: then every capacity above it is lowered to it and counted.
    """
    parsed = CreditLinks()
    handles, links = parsed.handles, parsed.links
    owners: dict[str, str] = {}  # handle -> node id, to catch two ids that would share a handle
    problems: list[tuple[int, str]] = []
    more = 0
    ceiling = MAX_AMOUNT if max_capacity is None else min(max_capacity, MAX_AMOUNT)

    def problem(number: int, message: str) -> None:
        nonlocal more
        if len(problems) < MAX_PROBLEMS:
            problems.append((number, message))
        else:
            more += 1

    def fit(number: int, amounts: tuple[int, int], what: str) -> list[int] | None:
        if max(amounts) <= ceiling:
            return list(amounts)
        if max_capacity is None:
            problem(number, f"{what} is beyond 64-bit micro-units")
            return None
        parsed.capped += sum(amount > ceiling for amount in amounts)
        return [min(amount, ceiling) for amount in amounts]

    for number, text in enumerate(lines, start=1):
        fields = text.split()
        if not fields or fields[0].startswith("#"):
            continue
        try:
            u, v, forward, backward = _parse_line(fields)
        except ValueError as exc:
            problem(number, str(exc))
            continue
        bad_node = False
        for node in (u, v):
            if node in handles:
                continue
            handle = handle_for(node)
            if handle is None:
                problem(number, f"node id {node!r} cannot be a member handle, nor can 'u' + it")
                bad_node = True
            elif handle in owners:
                problem(number, f"node ids {owners[handle]!r} and {node!r} would both be member {handle!r}")
                bad_node = True
            else:
                handles[node] = handle
                owners[handle] = node
        if bad_node:
            continue
        what = (
            f"what {u} can pay {v} (current - lower)"
            if forward > backward
            else f"what {v} can pay {u} (upper - current)"
        )
        amounts = fit(number, (forward, backward), what)
        if amounts is None:
            continue
        parsed.lines += 1
        if (u, v) in links:
            key = (u, v)
        elif (v, u) in links:
            key, amounts = (v, u), amounts[::-1]
        else:
            links[(u, v)] = amounts
            continue
        parsed.duplicates += 1
        merged = fit(
            number,
            (links[key][0] + amounts[0], links[key][1] + amounts[1]),
            f"merged with the earlier link of {u} and {v}, a capacity",
        )
        if merged is not None:
            links[key] = merged
    if problems:
        raise CreditLinksInvalid(problems, more=more)
    return parsed


def _unusable_password() -> str:
    # What make_password(None) gives, without drawing 40 characters one by one for every member.
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def _check_handles_free(community: Community, handles: Iterable[str]) -> None:
    taken = set(Member.objects.filter(community=community).values_list("handle", flat=True))
    suffix = community.login_name("")  # every login made for this community's members ends so
    taken |= {
        name.removesuffix(suffix)
        for name in User.objects.filter(username__endswith=suffix).values_list("username", flat=True)
    }
    clashes = sorted(taken.intersection(handles))
    if clashes:
        shown = ", ".join(clashes[:10]) + (f" and {len(clashes) - 10} more" if len(clashes) > 10 else "")
        raise Conflict(f"These handles are already taken in {community.slug}: {shown}.", code="username_taken")


@transaction.atomic
def members_join_bulk(*, community: Community, handles: list[str], batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Members with unusable passwords, and what joining gives each (an account and its commons
    trustline, as ``account_open`` makes one by one); returns handle -> account id.

    The caller checks that the handles are valid and free.
    """
    users = User.objects.bulk_create(
        (User(username=community.login_name(handle), password=_unusable_password()) for handle in handles),
        batch_size=batch_size,
    )
    members = Member.objects.bulk_create(
        (Member(community=community, handle=handle, user=user) for handle, user in zip(handles, users, strict=True)),
        batch_size=batch_size,
    )
    accounts = Account.objects.bulk_create(
        (Account(community=community, member=member) for member in members), batch_size=batch_size
    )
    commons = commons_of(community).pk
    limit = community.commons_limit
    now = timezone.now()
    Trustline.objects.bulk_create(
        (
            Trustline(
                community=community,
                low_id=min(account.pk, commons),
                high_id=max(account.pk, commons),
                limit_from_low=limit,
                limit_from_high=limit,
                updated_at=now,
            )
            for account in accounts
        ),
        batch_size=batch_size,
    )
    return {handle: account.pk for handle, account in zip(handles, accounts, strict=True)}


def line_limits(u: int, v: int, u_pays_v: int, v_pays_u: int) -> tuple[int, int, int, int]:
    """``(low, high, limit_from_low, limit_from_high)`` of a trustline on which u can pay v ``u_pays_v``
    and v can pay u ``v_pays_u`` at a zero balance: what u can pay v is the credit v extends to u."""
    if u < v:
        return u, v, v_pays_u, u_pays_v
    return v, u, u_pays_v, v_pays_u


def _trustline(community: Community, u: int, v: int, u_pays_v: int, v_pays_u: int, now) -> Trustline:
    low, high, limit_from_low, limit_from_high = line_limits(u, v, u_pays_v, v_pays_u)
    return Trustline(
        community=community,
        low_id=low,
        high_id=high,
        limit_from_low=limit_from_low,
        limit_from_high=limit_from_high,
        updated_at=now,
    )


def _community(slug: str, *, create: bool) -> tuple[Community, bool]:
    community = Community.objects.filter(slug=slug).first()
    if community is not None:
        return community, False
    if not create:
        raise NotFound(
            f"There is no community {slug!r}; create it first (create_community) or pass --create.",
            code="community_not_found",
        )
    community = Community(slug=slug, name=slug.replace("-", " ").replace("_", " ").title())
    try:
        community.full_clean()
    except ValidationError as exc:
        raise InvalidInput.from_model_validation(exc) from None
    community.save()
    return community, True


@transaction.atomic
def trust_graph_import(
    *, slug: str, links: CreditLinks, create: bool = False, batch_size: int = BATCH_SIZE
) -> ImportReport:
    """Import parsed credit links into a community (created when ``create`` and missing), all or nothing."""
    started = timezone.now()
    community, created = _community(slug, create=create)
    handles = list(links.handles.values())
    _check_handles_free(community, handles)
    accounts = members_join_bulk(community=community, handles=handles, batch_size=batch_size)
    account_of = {node: accounts[handle] for node, handle in links.handles.items()}
    now = timezone.now()
    lines = Trustline.objects.bulk_create(
        (
            _trustline(community, account_of[u], account_of[v], u_pays_v, v_pays_u, now)
            for (u, v), (u_pays_v, v_pays_u) in links.links.items()
        ),
        batch_size=batch_size,
    )
    # Routing graphs of running processes sync on updated_at with a few seconds' overlap; rows
    # stamped when a long import began could be missed, so stamp them all again just before commit.
    Trustline.objects.filter(community=community, created_at__gte=started).update(updated_at=timezone.now())
    return ImportReport(
        community=community,
        community_created=created,
        members=len(accounts),
        trustlines=len(lines),
        commons_lines=len(accounts),
        lines=links.lines,
        duplicates=links.duplicates,
        capped=links.capped,
    )
