"""Trustlines between instances: alice here adds bob@lake.there.test through the API with no key exchanged by
hand; both instances hold the line, and each side's limit reaches the other's copy once acknowledged."""

import pytest

from federation.models import Outbound
from tests.bank.helpers import ApiUser, assert_error
from tests.factories import CommunityFactory, MemberFactory
from tests.federation.instances import wait_for
from tests.federation.test_listener import befriend

pytestmark = [pytest.mark.postgres]

BOB = {"username": "bob", "server": "lake.there.test"}


def there_line(there) -> list[tuple]:
    """There's copy of the line of bob with alice: (remote address, limit from alice, limit from bob, balance)."""
    return there.sql(
        """SELECT remote.address,
                  CASE WHEN line.low_id = remote.id THEN line.limit_from_low ELSE line.limit_from_high END,
                  CASE WHEN line.low_id = remote.id THEN line.limit_from_high ELSE line.limit_from_low END,
                  line.balance
           FROM trust_trustline line
           JOIN trust_account remote ON remote.id IN (line.low_id, line.high_id) AND remote.kind = 'remote'"""
    )


@pytest.fixture
def linked(here, instances):
    there = instances("there", "there.test")
    here.start_peer()
    alice = MemberFactory(community=CommunityFactory(slug="river"), handle="alice")
    made = there.manage("create_community", "lake", "--name", "Lake", "--admin", "bob", "--password", "pw-123456-x")
    assert made.returncode == 0, made.stderr
    befriend(here, there)
    return there, ApiUser(alice)


def acknowledged() -> None:
    wait_for(lambda: not Outbound.objects.filter(acked_at__isnull=True).exists(), "every datagram acknowledged")


def test_a_member_opens_a_trustline_with_a_member_of_another_instance(linked):
    there, alice = linked

    opened = alice.post("user/add_account", BOB)
    assert opened.status_code == 201, opened.content
    assert {key: opened.json()[key] for key in ("username", "server", "limit_out", "limit_in")} == {
        **BOB,
        "limit_out": "0.000000",
        "limit_in": "0.000000",
    }
    acknowledged()
    assert alice.get("user/accounts").json()["accounts"][-1]["sync"] == "ok"
    assert there_line(there) == [("alice@river.localhost", 0, 0, 0)]

    limited = alice.post("user/set_trustline", {**BOB, "amount": "25"})
    assert limited.status_code == 200 and limited.json()["limit_out"] == "25.000000"
    acknowledged()
    assert there_line(there) == [("alice@river.localhost", 25_000_000, 0, 0)]

    there.shell(  # bob extends credit to alice on his own instance: it reaches alice's copy
        "from bank.models import Member; from trust.models import Account; from trust.services import accounts; "
        "bob = Member.objects.get(handle='bob').account; "
        "remote = Account.objects.get(kind='remote', address='alice@river.localhost'); "
        "accounts.trustline_set_limit(owner=bob, other=remote, limit=40_000_000)"
    )
    wait_for(
        lambda: alice.accounts()["bob"]["limit_in"] == "40.000000", "bob's limit reaching alice's copy", seconds=15
    )
    assert there_line(there) == [("alice@river.localhost", 25_000_000, 40_000_000, 0)]


def test_unknown_servers_and_accounts_are_refused_and_open_nothing(linked):
    there, alice = linked

    for body, status, code in (
        ({"username": "nobody", "server": "lake.there.test"}, 404, "account_not_found"),
        ({"username": "bob", "server": "nowhere.test"}, 404, "server_not_found"),
        ({"username": "é" * 20, "server": "lake.there.test"}, 400, "address_too_long"),  # 40 bytes of UTF-8
        ({"username": "bob", "server": "a" * 30 + ".test"}, 400, "address_too_long"),
    ):
        assert_error(alice.post("user/add_account", body), status, code)
    assert_error(alice.post("user/set_trustline", {**BOB, "amount": "5"}), 404, "trustline_not_found")
    assert there_line(there) == [] and not Outbound.objects.exists()
