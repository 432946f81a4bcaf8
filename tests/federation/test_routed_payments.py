"""Payments routed across three instances, each its own processes and database: alice on river (here) pays
carol on sea through bob on lake, over the lines alice~bob and bob~carol that each pair of instances holds in
two copies. After every payment the copies agree, bob's net is zero, nothing is left held, and every ledger
audits clean."""

from decimal import Decimal

import pytest
from django.urls import reverse

from bench.workload.instances import wait_for
from federation.models import Transit
from ledger.verification import audit
from tests.bank.helpers import ApiUser, assert_error, session_client
from tests.factories import CommunityFactory, MemberFactory
from tests.federation.proxy import LossyProxy
from tests.federation.test_listener import befriend
from trust.models import Account, Trustline

pytestmark = [pytest.mark.postgres]

BOB = {"username": "bob", "server": "lake.there.test"}
CAROL = {"username": "carol", "server": "sea.third.test"}
MICRO = 1_000_000

OPEN_LINE = """
from bank.models import Member
from core.errors import ApplicationError
from trust import selectors
from trust.counterparts import counterpart_find
from trust.services import accounts
member = Member.objects.get(handle={handle!r})
other = counterpart_find(member=member, username={address!r}, missing=ApplicationError, create=True)
if selectors.trustline_between(first=member.account, second=other) is None:
    accounts.trustline_add(owner=member.account, other=other)
accounts.trustline_set_limit(owner=member.account, other=other, limit={limit})
"""

# Per remote account: what it owes the member on the line (the instance's own copy), and what is held on it.
LINES = """SELECT remote.address,
       CASE WHEN line.low_id = remote.id THEN -line.balance ELSE line.balance END,
       line.held_from_low + line.held_from_high
FROM trust_trustline line
JOIN trust_account remote ON remote.id IN (line.low_id, line.high_id) AND remote.kind = 'remote'
ORDER BY remote.address"""
AUDIT = "from ledger.verification import audit; from bank.models import Community; " + (
    "print(sum(len(audit(c.pk)) for c in Community.objects.all()))"
)
OPEN_TRANSITS = "SELECT count(*) FROM federation_transit WHERE closed_at IS NULL"


def open_line(instance, handle: str, address: str, limit: int) -> None:
    instance.shell(OPEN_LINE.format(handle=handle, address=address, limit=limit))


def here_lines() -> list[tuple]:
    rows = []
    for remote in Account.objects.filter(kind=Account.Kind.REMOTE).order_by("address"):
        for line in Trustline.objects.filter(low=remote) | Trustline.objects.filter(high=remote):
            owed = -line.balance if line.low_id == remote.pk else line.balance
            rows.append((remote.address, owed, line.held_from_low + line.held_from_high))
    return rows


def build_chain(here, instances, settings, *, proxied: bool = False, **timing: str):
    """river (here: alice) ~ lake (bob) ~ sea (carol); bob extends alice 40 and carol extends bob 30.

    ``proxied``: each instance is reached through a ``LossyProxy`` of its own (returned by name); ``timing``:
    FEDERATED_* settings for every instance."""
    proxies = {name: LossyProxy(target=("127.0.0.1", 0)) for name in ("river", "lake", "sea")} if proxied else {}
    advertised = {name: {"PEER_PUBLIC_UDP": proxy.address} for name, proxy in proxies.items()}
    for name, value in timing.items():
        setattr(settings, name, type(getattr(settings, name))(value))
    here.settings.update(timing)
    if proxied:
        settings.PEER_PUBLIC_UDP = proxies["river"].address
        proxies["river"].target = ("127.0.0.1", here.udp_port)
    lake = instances("lake", "there.test", **timing, **advertised.get("lake", {}))
    sea = instances("sea", "third.test", **timing, **advertised.get("sea", {}))
    for name, instance in (("lake", lake), ("sea", sea)):
        if proxied:
            proxies[name].target = ("127.0.0.1", instance.udp_port)
    here.start_peer()
    alice = MemberFactory(community=CommunityFactory(slug="river", minimum_trust_index=Decimal("0.01")), handle="alice")
    for instance, slug, handle in ((lake, "lake", "bob"), (sea, "sea", "carol")):
        made = instance.manage("create_community", slug, "--name", slug, "--admin", handle, "--password", "pw-123456-x")
        assert made.returncode == 0, made.stderr
    befriend(here, lake)
    befriend(here, sea)
    for one, other in ((lake, sea), (sea, lake)):
        assert one.manage("remote", "add", other.address).returncode == 0
    alice_api = ApiUser(alice)
    assert alice_api.post("user/add_account", BOB).status_code == 201
    open_line(lake, "bob", "alice@river.localhost", 40 * MICRO)
    open_line(lake, "bob", "carol@sea.third.test", 0)
    open_line(sea, "carol", "bob@lake.there.test", 30 * MICRO)
    wait_for(lambda: alice_api.accounts()["bob"]["limit_in"] == "40.000000", "bob's credit reaching river")
    wait_for(lambda: (0, 30 * MICRO) in [row[1:] for row in lake.sql(LIMITS)], "carol's credit reaching lake")
    return alice_api, lake, sea, proxies


@pytest.fixture
def chain(here, instances, settings):
    alice, lake, sea, _ = build_chain(here, instances, settings)
    return alice, lake, sea


LIMITS = """SELECT remote.address,
       CASE WHEN line.low_id = remote.id THEN line.limit_from_high ELSE line.limit_from_low END,
       CASE WHEN line.low_id = remote.id THEN line.limit_from_low ELSE line.limit_from_high END
FROM trust_trustline line
JOIN trust_account remote ON remote.id IN (line.low_id, line.high_id) AND remote.kind = 'remote'"""


def settled_everywhere(lake, sea) -> None:
    """Nothing in flight on any instance, nothing held, every audit clean."""
    for instance in (lake, sea):
        wait_for(lambda instance=instance: instance.sql(OPEN_TRANSITS) == [(0,)], f"{instance.name} done")
        assert all(held == 0 for *_, held in instance.sql(LINES))
        assert instance.shell(AUDIT).split()[-1] == "0"
    wait_for(lambda: not Transit.objects.filter(closed_at__isnull=True).exists(), "river done")
    assert all(held == 0 for *_, held in here_lines())
    communities = Account.objects.filter(kind="commons").values_list("community_id", flat=True)
    assert [finding for community_id in communities for finding in audit(community_id)] == []


def test_a_payment_crosses_three_instances_and_each_keeps_its_own_books(chain):
    alice, lake, sea = chain

    paid = alice.post("user/payment", {**CAROL, "amount": "5", "memo": "for the boat"})

    assert paid.status_code == 201, paid.content
    payment = paid.json()
    assert (payment["state"], payment["payee"], payment["amount"], payment["tax"]) == (
        "finalized",
        "carol@sea.third.test",
        "5.000000",
        "0.050000",
    )
    assert payment["preimage"] and payment["hashlock"]  # the payee's instance's proof of payment
    settled_everywhere(lake, sea)
    # Both copies of each line agree: alice owes bob 5 on river and on lake; bob owes carol 5 on lake and on sea.
    assert here_lines() == [("bob@lake.there.test", -5 * MICRO, 0)]
    assert lake.sql(LINES) == [("alice@river.localhost", 5 * MICRO, 0), ("carol@sea.third.test", -5 * MICRO, 0)]
    assert sea.sql(LINES) == [("bob@lake.there.test", 5 * MICRO, 0)]
    assert alice.accounts()["commons"]["balance"] == "-0.050000"  # river's 1% tax, taken on river only
    assert alice.get(f"user/payments/{payment['id']}").json()["state"] == "finalized"
    # river's admin sees the payment between instances, ended, with its step.
    admin = session_client(MemberFactory(community=alice.member.community, handle="root", role="admin"))
    transits = reverse("admin:federation_transit_changelist")
    listed = admin.get(transits, {"in_flight": "no"})
    assert [(row.role, row.payment.state) for row in listed.context["cl"].queryset] == [("payer", "finalized")]
    assert "finalized" in listed.content.decode()  # the step column
    assert admin.get(transits, {"in_flight": "yes"}).context["cl"].result_count == 0

    # The same through the pay page: it names carol by her address and lands on the settled payment.
    browser = session_client(alice.member)
    page = browser.post("/c/river/pay/", {"username": "carol@sea.third.test", "amount": "2"})
    assert page.status_code == 302, page.content
    shown = browser.get(page["Location"]).content.decode()
    assert "carol@sea.third.test" in shown and "You paid 2.00" in shown and 'http-equiv="refresh"' not in shown
    settled_everywhere(lake, sea)
    assert sea.sql(LINES) == [("bob@lake.there.test", 7 * MICRO, 0)]


def test_payments_that_cannot_go_through_are_refused_and_leave_nothing_held(chain):
    alice, lake, sea = chain

    # alice's own line cannot carry 45 and its tax: refused on river at once, with what it can carry.
    too_much = alice.post("user/payment", {**CAROL, "amount": "45"})
    assert_error(too_much, 409, "insufficient_capacity", max_sendable="40.000000")
    # bob's line with carol carries 30 at most: lake refuses the hold and every hop releases its own.
    refused = alice.post("user/payment", {**CAROL, "amount": "35"})
    assert_error(refused, 409, "insufficient_capacity")
    settled_everywhere(lake, sea)
    assert here_lines() == [("bob@lake.there.test", 0, 0)]
    assert lake.sql(LINES) == [("alice@river.localhost", 0, 0), ("carol@sea.third.test", 0, 0)]
    assert alice.accounts()["commons"]["balance"] == "0.000000"
    # The preview shows river's part of the way: to bob, with the tax.
    preview = alice.post("user/payment/preview", {**CAROL, "amount": "5"})
    assert preview.status_code == 200, preview.content
    assert preview.json()["paths"] == [{"accounts": ["alice", "bob@lake.there.test"], "hops": 1, "amount": "5.000000"}]
    assert preview.json()["tax"] == "0.050000"


REQUEST_FROM_ALICE = """
from bank.models import Member
from core.errors import ApplicationError
from trust.counterparts import counterpart_find
from trust.services.payments import payment_request
carol = Member.objects.get(handle="carol")
alice = counterpart_find(member=carol, username="alice@river.localhost", missing=ApplicationError, paying=True)
print(payment_request(payee=carol.account, payer=alice, amount=3_000_000, memo="the ferry").pk)
"""


def requests_to(alice) -> list[dict]:
    return [row for row in alice.get("user/payments").json()["payments"] if row["kind"] == "request"]


def test_a_member_of_another_instance_asks_and_the_payer_pays_through_the_graph(chain):
    alice, lake, sea = chain

    sea.shell(REQUEST_FROM_ALICE)  # carol asks alice, on sea
    wait_for(lambda: requests_to(alice), "carol's request reaching river")
    [request] = requests_to(alice)
    assert (request["state"], request["payee"], request["amount"]) == ("pending", "carol@sea.third.test", "3.000000")

    accepted = alice.post(f"user/payments/{request['id']}/accept")
    assert accepted.status_code == 200, accepted.content
    wait_for(lambda: requests_to(alice)[0]["state"] == "finalized", "the request paid")
    settled_everywhere(lake, sea)
    assert sea.sql("SELECT kind, state, payer_status, memo FROM trust_payment WHERE kind = 'request'") == [
        ("request", "finalized", 1, "the ferry")
    ]
    assert here_lines() == [("bob@lake.there.test", -3 * MICRO, 0)]
    assert sea.sql(LINES) == [("bob@lake.there.test", 3 * MICRO, 0)]
    # Asked again and declined by alice: carol's request ends too, and nothing moves.
    sea.shell(REQUEST_FROM_ALICE)
    wait_for(lambda: len(requests_to(alice)) == 2, "the second request reaching river")
    declined = alice.post(f"user/payments/{requests_to(alice)[0]['id']}/cancel")
    assert declined.status_code == 200, declined.content
    wait_for(
        lambda: (
            sea.sql("SELECT state FROM trust_payment WHERE kind = 'request' ORDER BY id")
            == [
                ("finalized",),
                ("cancelled",),
            ]
        ),
        "carol's second request cancelled on sea",
    )
    settled_everywhere(lake, sea)
    assert here_lines() == [("bob@lake.there.test", -3 * MICRO, 0)]
