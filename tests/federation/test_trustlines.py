"""Trustlines between instances: alice here adds bob@lake.there.test through the API with no key exchanged by
hand; both instances hold the line, and each side's limit reaches the other's copy once acknowledged."""

from decimal import Decimal

import pytest

from bench.workload.instances import wait_for
from federation.models import Outbound
from tests.bank.helpers import ApiUser, assert_error
from tests.factories import CommunityFactory, MemberFactory
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
    alice = MemberFactory(community=CommunityFactory(slug="river", minimum_trust_index=Decimal("0.01")), handle="alice")
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


def owed_by_the_remote(instance) -> list[int]:
    """What the remote account owes the member here, on each line with a remote account of ``instance``."""
    return [
        row[0]
        for row in instance.sql(
            """SELECT CASE WHEN line.low_id = remote.id THEN -line.balance ELSE line.balance END
               FROM trust_trustline line
               JOIN trust_account remote ON remote.id IN (line.low_id, line.high_id) AND remote.kind = 'remote'"""
        )
    ]


def bob_extends(there, limit: int) -> None:
    there.shell(
        "from bank.models import Member; from trust.models import Account; from trust.services import accounts; "
        "bob = Member.objects.get(handle='bob').account; "
        "remote = Account.objects.get(kind='remote', address='alice@river.localhost'); "
        f"accounts.trustline_set_limit(owner=bob, other=remote, limit={limit})"
    )


def test_a_direct_payment_to_another_instance_arrives_once_and_a_refused_one_is_undone(here, linked, settings):
    there, alice = linked
    assert alice.post("user/add_account", BOB).status_code == 201
    bob_extends(there, 40_000_000)
    wait_for(lambda: alice.accounts()["bob"]["limit_in"] == "40.000000", "bob's credit reaching here", seconds=15)

    paid = alice.post("user/local_payment", {**BOB, "amount": "5"})
    assert paid.status_code == 201, paid.content
    assert paid.json()["state"] == "finalized"
    assert alice.accounts()["bob"]["balance"] == "-5.000000"
    assert owed_by_the_remote(there) == [5_000_000] and owed_by_the_remote(here) == [-5_000_000]
    assert_error(
        alice.post("user/local_payment", {**BOB, "amount": "36"}),
        409,
        "insufficient_capacity",
        max_sendable="35.000000",
    )
    assert alice.accounts()["commons"]["balance"] == "-0.050000"  # her 1% tax went to her own commons

    # bob withdraws his credit while alice's listener is down: alice's copy still shows it, so she can send...
    here.peer.kill()
    bob_extends(there, 0)
    settings.FEDERATED_PAYMENT_WAIT_SECONDS = 0.2
    sent = alice.post("user/local_payment", {**BOB, "amount": "1"})
    assert sent.status_code == 202 and sent.json()["state"] == "committed"
    assert alice.accounts()["bob"]["balance"] == "-6.000000"  # in flight, held here
    here.start_peer()
    # ... and bob's instance refuses it: it is undone here, its tax given back; the copies agree again.
    wait_for(lambda: alice.get(f"user/payments/{sent.json()['id']}").json()["state"] == "cancelled", "the refusal")
    acknowledged()
    # bob's withdrawal reaches here too, sent again with backoff while this listener was down
    wait_for(lambda: alice.accounts()["bob"]["limit_in"] == "0.000000", "bob's withdrawal reaching here", seconds=40)
    rows = alice.accounts()
    assert (rows["bob"]["balance"], rows["bob"]["limit_in"], rows["commons"]["balance"]) == (
        "-5.000000",
        "0.000000",
        "-0.050000",
    )
    assert owed_by_the_remote(there) == [5_000_000] and owed_by_the_remote(here) == [-5_000_000]
    assert there.sql("SELECT status FROM federation_inbound WHERE command = 14 ORDER BY counter") == [(0,), (11,)]
