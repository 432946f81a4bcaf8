"""The trustlines page with a line to another instance's account: named by its full address, its limit set
on that line (never on a namesake's here), opened from the add form by ``name@host``; a payment no trustline
leads to is refused saying why; a request is sent to the other instance."""

import pytest
from django.db.models import Q
from django.urls import reverse

from federation.models import Outbound
from federation.protocols.datagrams import PeerCommand
from federation.services import remotes
from tests.bank.helpers import session_client
from tests.factories import CommunityFactory, MemberFactory
from tests.federation.peers import FakeNetwork, FakePeer
from tests.trust.helpers import account
from trust import selectors
from trust.models import Trustline

LAKE = "lake.lake.example"


@pytest.fixture
def alice(db, monkeypatch):
    peer = FakePeer("lake.example", communities=[{"slug": "lake", "host": LAKE, "name": "Lake"}])
    FakeNetwork(monkeypatch, peer)
    monkeypatch.setattr("federation.peers.account_exists", lambda ws_url, address: address == f"bob@{LAKE}")
    remotes.remote_add(address=peer.address)
    community = CommunityFactory(slug="river")
    MemberFactory(community=community, handle="bob")  # a namesake here
    return MemberFactory(community=community, handle="alice")


def lines(member) -> dict[str, tuple]:
    return {row["address"]: (row["limit_out"], row["sync"]) for row in selectors.account_rows(account=account(member))}


def test_a_line_to_another_instance_is_opened_named_and_limited_from_the_page(alice):
    client = session_client(alice)

    added = client.post("/c/river/trustlines/add/", {"username": f"bob@{LAKE}"})
    assert added.status_code == 302
    page = client.get("/c/river/trustlines/").content.decode()
    assert f'value="bob@{LAKE}"' in page and f"On another instance ({LAKE})" in page
    limited = client.post("/c/river/trustlines/limit/", {"username": f"bob@{LAKE}", "amount": "7"})
    assert limited.status_code == 302

    assert lines(alice) == {"commons": (100_000_000, "ok"), f"bob@{LAKE}": (7_000_000, "pending")}
    synced = Outbound.objects.filter(command=PeerCommand.SYNC_TRUSTLINE).order_by("counter")
    assert [row.counter for row in synced] == [1, 2]  # opened at 0, then 7


def test_unknown_accounts_there_and_payments_to_other_instances_are_refused_on_the_pages(alice):
    client = session_client(alice)

    unknown = client.post("/c/river/trustlines/add/", {"username": f"nobody@{LAKE}"})
    assert unknown.status_code == 400 and f"There is no account nobody@{LAKE}" in unknown.content.decode()
    paying = client.post("/c/river/pay/", {"username": f"bob@{LAKE}", "amount": "1"})
    assert paying.status_code == 400 and "no chain of trustlines to another instance" in paying.content.decode()
    assert set(lines(alice)) == {"commons"} and not Outbound.objects.exists()


def test_a_request_to_a_member_of_another_instance_is_sent_there_from_the_page(alice):
    client = session_client(alice)

    asking = client.post("/c/river/payments/request/", {"username": f"bob@{LAKE}", "amount": "1", "memo": "tea"})

    assert asking.status_code == 302
    request = selectors.payments_of(account=account(alice)).get()
    expected = ("request", "pending", f"bob@{LAKE}", 1_000_000)
    assert (request.kind, request.state, request.payer.name, request.amount) == expected
    [sent] = Outbound.objects.all()
    assert sent.command == PeerCommand.FIND_PATH  # "in": bob's instance shows it to bob to accept or not
    assert set(lines(alice)) == {"commons"}  # no trustline needed


def test_django_admin_lists_lines_with_other_instances_and_keeps_their_limits_to_the_members(alice):
    admin = MemberFactory(community=alice.community, handle="root", role="admin")
    session_client(alice).post("/c/river/trustlines/add/", {"username": f"bob@{LAKE}"})
    client = session_client(admin)
    line = Trustline.objects.get(Q(low__kind="remote") | Q(high__kind="remote"))

    listed = client.get(reverse("admin:trust_trustline_changelist"), {"remote": "yes"})
    assert list(listed.context["cl"].queryset) == [line]
    assert client.get(reverse("admin:trust_account_changelist"), {"q": f"bob@{LAKE}"}).context["cl"].result_count == 1
    changed = client.post(
        reverse("admin:trust_trustline_change", args=[line.pk]), {"limit_from_low": "5", "limit_from_high": "5"}
    )
    assert changed.status_code == 302
    line.refresh_from_db()
    assert (line.limit_from_low, line.limit_from_high) == (0, 0)  # a copy of a line changes only by its members
