"""The workload's community: made with the project's own command and services, then signed in over HTTP.

``manage.py create_community`` makes it with its admin; ``bank.services.member_create`` adds the
members (each gets its account and commons line through ``member_joined``); a random trust graph is
opened with ``trust.services.accounts`` (a ring, so every member reaches every other, plus random
chords), each side extending its own random limit. Every member then signs in with ``auth/login``,
which opens its identity (so receipts are signed by certified receipt keys) and returns its token.
"""

import io
import json
import random
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

UNIT = 1_000_000
SLUG = "workload"
LIMITS = (100, 1000)  # units of credit each side of a member's trustline extends, drawn at random
CHORDS = 3  # random trustlines each member opens beside its ring neighbours
COMMONS_LIMIT = 100_000 * UNIT  # far more than the tax of any run: payments never fail on the commons line
TRUST_INDEX = Decimal("0.01")  # 1% tax on every payment
HOP_FEE_PPM = 1000  # 0.1% per intermediary


@dataclass(frozen=True)
class Community:
    slug: str
    handles: list[str]
    tokens: dict[str, str]
    trustlines: int


def create(*, members: int, seed: int) -> tuple[list[str], str, int]:
    """The community, its members and their trust graph; returns (handles, their password, trustlines)."""
    from django.core.management import call_command

    from bank.models import Community as CommunityRow
    from bank.services import member_create

    password = f"workload-{secrets.token_hex(8)}"
    call_command(
        "create_community", SLUG, name="Workload Bank", admin_handle="admin", password=password, stdout=io.StringIO()
    )
    community = CommunityRow.objects.get(slug=SLUG)
    CommunityRow.objects.filter(pk=community.pk).update(
        commons_limit=COMMONS_LIMIT, minimum_trust_index=TRUST_INDEX, hop_fee_ppm=HOP_FEE_PPM
    )
    community.refresh_from_db()
    handles = [f"m{number:02d}" for number in range(members)]
    for handle in handles:
        member_create(community=community, handle=handle, password=password)
    return handles, password, _trust_graph(handles, random.Random(seed))


def _trust_graph(handles: list[str], rng: random.Random) -> int:
    from trust.models import Account
    from trust.services.accounts import trustline_add, trustline_set_limit

    accounts = {a.member.handle: a for a in Account.objects.select_related("member").filter(member__handle__in=handles)}
    pairs = {frozenset((handles[i], handles[(i + 1) % len(handles)])) for i in range(len(handles))}
    for handle in handles:
        others = [other for other in handles if other != handle]
        pairs.update(frozenset((handle, other)) for other in rng.sample(others, min(CHORDS, len(others))))
    for pair in sorted(sorted(p) for p in pairs):
        first, second = (accounts[handle] for handle in pair)
        trustline_add(owner=first, other=second)
        for owner, other in ((first, second), (second, first)):
            trustline_set_limit(owner=owner, other=other, limit=rng.randint(*LIMITS) * UNIT)
    return len(pairs)


def sign_in(*, port: int, handles: list[str], password: str) -> dict[str, str]:
    """Every member's API token from ``auth/login`` (four at a time, as apps would)."""
    from workload.client import post_json

    def login(handle: str) -> str:
        status, body = post_json(port, f"/c/{SLUG}/api/auth/login", {"username": handle, "password": password})
        if status != 200:
            raise RuntimeError(f"auth/login of {handle} answered {status}: {json.dumps(body)[:300]}")
        return body["token"]

    with ThreadPoolExecutor(4) as pool:
        return dict(zip(handles, pool.map(login, handles), strict=True))
