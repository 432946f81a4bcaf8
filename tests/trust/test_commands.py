"""The operator commands: import_trust_graph (a credit-links file in bulk) and route (a dry run)."""

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from bank.models import Community, Member
from core.money import MAX_AMOUNT
from tests.factories import CommunityFactory
from trust.models import Account, Payment, Trustline
from trust.routing.graph import graph_for
from trust.services.accounts import commons_of

User = get_user_model()
pytestmark = pytest.mark.django_db
UNIT = 1_000_000


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def links_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "links.txt"
    path.write_text(text)
    return str(path)


def import_links(tmp_path: Path, text: str, slug: str = "web", *extra: str) -> tuple[str, str]:
    return run("import_trust_graph", links_file(tmp_path, text), "--community", slug, *extra)


def account(community: Community, handle: str) -> Account:
    return Account.objects.get(community=community, member__handle=handle)


def line_between(one: Account, other: Account) -> Trustline:
    low, high = sorted((one.pk, other.pk))
    return Trustline.objects.get(low_id=low, high_id=high)


def can_pay(payer: Account, payee: Account) -> int:
    return line_between(payer, payee).capacity_from(payer.pk)


def nothing_imported() -> bool:
    return not (Member.objects.exists() or Account.objects.filter(kind="member").exists() or Trustline.objects.exists())


# --- import_trust_graph ------------------------------------------------------------------------


def test_import_creates_members_accounts_commons_lines_and_trustlines_with_the_files_capacities(tmp_path):
    community = CommunityFactory(slug="web", commons_limit=50 * UNIT)
    out, _ = import_links(
        tmp_path,
        "alice bob -10 0 5\n"  # alice can pay bob 10, bob can pay alice 5
        "\n"
        "bob 7 -3.5 -1.0 0.25\n"  # node 7 is no valid handle: its member is u7
        "7 carol 0 1.0000004 1.0000015\n",  # floats in the file are rounded to micro-units
    )

    handles = set(Member.objects.filter(community=community).values_list("handle", flat=True))
    assert handles == {"alice", "bob", "u7", "carol"}
    alice, bob, u7, carol = (account(community, h) for h in ("alice", "bob", "u7", "carol"))
    assert can_pay(alice, bob) == 10 * UNIT and can_pay(bob, alice) == 5 * UNIT
    assert can_pay(bob, u7) == 2_500_000 and can_pay(u7, bob) == 1_250_000
    assert can_pay(u7, carol) == 1_000_000 and can_pay(carol, u7) == 1  # 1.0000004 -> 1.000000; 0.0000011 -> 0.000001
    for line in Trustline.objects.exclude(high__kind="commons").exclude(low__kind="commons"):
        assert line.balance == 0 and line.closed_at is None

    # Joining's share for every member: a login that cannot sign in, an account, the commons line.
    commons = commons_of(community)
    for member in Member.objects.filter(community=community).select_related("user"):
        assert member.user.username == f"{member.handle}@web" and not member.user.has_usable_password()
        line = line_between(member.account, commons)
        assert (line.limit_from_low, line.limit_from_high, line.balance) == (50 * UNIT, 50 * UNIT, 0)
    assert Trustline.objects.filter(community=community).count() == 3 + 4

    # Routing sees the same capacities as the rows.
    assert graph_for(community.pk).out[alice.pk][bob.pk] == 10 * UNIT
    assert "3 link line(s) read, 0 duplicate pair(s) merged" in out
    assert "4 member(s) with accounts and 4 commons trustline(s)" in out and "3 trustline(s)" in out


def test_bad_lines_are_reported_with_their_numbers_and_nothing_is_imported(tmp_path):
    CommunityFactory(slug="web")
    with pytest.raises(CommandError, match="credit_links_invalid: 7 bad line"):
        import_links(
            tmp_path,
            "alice bob -10 0 5\n"
            "alice bob -10 0\n"
            "alice carol -10 zero 5\n"
            "alice dave 0 -1 5\n"
            "erin erin -1 0 1\n"
            "alice frank -10000000000000 0 0\n"
            "alice gina nan 0 1\n"
            "Alice! gina -1 0 1\n",
        )
    assert nothing_imported()


def test_each_bad_line_is_named(tmp_path):
    CommunityFactory(slug="web")
    path = links_file(
        tmp_path,
        "alice bob -10 0 5\nalice bob -10 0\nalice carol -10 zero 5\nalice dave 0 -1 5\nerin erin -1 0 1\n"
        "alice frank -10000000000000 0 0\n",
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_trust_graph", path, "--community", "web", stderr=err)
    reported = err.getvalue().splitlines()
    assert reported == [
        f"{path}:2: expected 5 fields (u v lower current upper), found 4",
        f"{path}:3: 'zero' is not a number",
        f"{path}:4: what alice can pay dave (current - lower) is negative (-1)",
        f"{path}:5: links node erin to itself",
        f"{path}:6: what alice can pay frank (current - lower) is beyond 64-bit micro-units",
    ]
    assert nothing_imported()


def test_duplicate_pairs_are_merged_by_adding_their_capacities_either_way_round(tmp_path):
    community = CommunityFactory(slug="web")
    out, _ = import_links(tmp_path, "a1 b1 -1 0 2\nb1 a1 -3 0 4\na1 b1 0 0 0.5\n")
    a1, b1 = account(community, "a1"), account(community, "b1")
    assert can_pay(a1, b1) == (1 + 4) * UNIT
    assert can_pay(b1, a1) == (2 + 3) * UNIT + UNIT // 2
    assert Trustline.objects.filter(community=community).count() == 1 + 2
    assert "3 link line(s) read, 2 duplicate pair(s) merged" in out


def test_capacities_beyond_64_bits_are_lowered_only_when_asked(tmp_path):
    community = CommunityFactory(slug="web")
    out, _ = import_links(tmp_path, "a1 b1 -7.2323E18 0 1\n", "web", "--max-capacity", "max")
    a1, b1 = account(community, "a1"), account(community, "b1")
    assert (can_pay(a1, b1), can_pay(b1, a1)) == (MAX_AMOUNT, UNIT)
    assert "1 capacity(ies) lowered to 9223372036854.775807" in out


def test_the_community_must_exist_unless_create_is_given(tmp_path):
    with pytest.raises(CommandError, match="community_not_found"):
        import_links(tmp_path, "a1 b1 -1 0 1\n", "fresh")
    assert not Community.objects.exists() and nothing_imported()

    out, _ = import_links(tmp_path, "a1 b1 -1 0 1\n", "fresh", "--create")
    community = Community.objects.get(slug="fresh")
    assert "Community fresh (created)" in out
    assert commons_of(community).pk and Member.objects.filter(community=community).count() == 2


def test_a_failure_while_writing_leaves_nothing_behind(tmp_path):
    User.objects.create_user(username="b1@fresh")  # takes the login that member b1 of "fresh" would get
    with pytest.raises(CommandError, match=r"username_taken: .*b1"):
        import_links(tmp_path, "a1 b1 -1 0 1\n", "fresh", "--create")
    assert not Community.objects.filter(slug="fresh").exists()
    assert nothing_imported()


def test_handles_already_in_the_community_are_refused(tmp_path):
    community = CommunityFactory(slug="web")
    import_links(tmp_path, "a1 b1 -1 0 1\n")
    with pytest.raises(CommandError, match=r"username_taken: .*a1"):
        import_links(tmp_path, "a1 c1 -1 0 1\n")
    assert not Member.objects.filter(community=community, handle="c1").exists()


# --- route -------------------------------------------------------------------------------------


@pytest.fixture
def chain(tmp_path) -> Community:
    """alice -> bob -> carol and alice -> dave -> carol, 10 each way; erin is on her own."""
    community = CommunityFactory(slug="web", minimum_trust_index=Decimal("0.01"))
    import_links(
        tmp_path, "alice bob -10 0 0\nbob carol -10 0 0\nalice dave -10 0 0\ndave carol -10 0 0\nerin zed -1 0 0\n"
    )
    return community


def route(*args: str) -> str:
    return run("route", "--community", "web", *args)[0]


def test_route_prints_the_path_hops_amount_and_tax_and_moves_nothing(chain):
    out = route("alice", "carol", "5")

    assert "5.000000 TRUST from alice to carol:" in out
    assert any(
        path in out
        for path in ("alice -> bob -> carol  (2 hops, 5.000000)", "alice -> dave -> carol  (2 hops, 5.000000)")
    )
    assert "tax:  0.050000 TRUST" in out and "fees: 0.000000 TRUST" in out
    assert "alice -> commons  (1 hop, 0.050000)" in out
    assert "routing took" in out
    assert not Payment.objects.exists()
    assert not Trustline.objects.exclude(balance=0).exists()


def test_route_splits_over_several_paths_when_one_cannot_carry_the_amount(chain):
    out = route("alice", "carol", "15")
    assert "path 1: alice -> " in out and "path 2: alice -> " in out
    amounts = sorted(line.rsplit(", ", 1)[1].rstrip(")") for line in out.splitlines() if " -> carol  (" in line)
    assert sum(Decimal(amount) for amount in amounts) == 15


@pytest.mark.parametrize(
    ("payer", "payee", "amount", "code"),
    [
        ("alice", "erin", "1", "no_trust_path"),
        ("alice", "carol", "25", "insufficient_capacity"),
        ("alice", "nobody", "1", "payee_not_found"),
        ("alice", "carol", "1.2345678", "invalid_input"),
    ],
)
def test_route_errors_exit_non_zero_with_their_code(chain, payer, payee, amount, code):
    with pytest.raises(CommandError) as raised:
        route(payer, payee, amount)
    assert str(raised.value).startswith(f"{code}: ")
    assert raised.value.returncode != 0
    assert not Payment.objects.exists()
