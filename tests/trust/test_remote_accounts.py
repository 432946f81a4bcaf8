"""Accounts on other instances: named by their address, holding trustlines with members here, and never
relaying a payment between two accounts of this instance (that would move another instance's lines)."""

import pytest
from django.db import IntegrityError, transaction

from core.money import MICRO
from ledger.names import account_names
from tests.factories import CommunityFactory, MemberFactory
from tests.trust.helpers import account, mutual_credit
from trust.errors import NoTrustPath
from trust.models import Account
from trust.services import accounts, payments
from trust.signals import remote_line_changed

BOB = "bob@lake.there.example"


def trusted_both_ways(member_account: Account, remote: Account, limit: int) -> None:
    accounts.trustline_add(owner=member_account, other=remote)
    accounts.trustline_set_limit(owner=member_account, other=remote, limit=limit)
    accounts.trustline_set_limit(owner=remote, other=member_account, limit=limit)  # as bob's instance says


@pytest.fixture
def unheard(monkeypatch):
    """trust alone: nobody hears of lines with remote accounts (federation would tell their instance)."""
    monkeypatch.setattr(remote_line_changed, "receivers", [])
    monkeypatch.setattr(remote_line_changed, "sender_receivers_cache", {})


@pytest.fixture
def river(db, unheard):
    community = CommunityFactory(slug="river")
    alice, carol = (MemberFactory(community=community, handle=handle) for handle in ("alice", "carol"))
    bob = accounts.remote_account_open(community=community, address=BOB)
    for member in (alice, carol):
        trusted_both_ways(account(member), bob, 100 * MICRO)
    return community, alice, carol, bob


def test_a_remote_account_is_named_by_its_address_here_and_in_the_books(river):
    community, _, _, bob = river

    assert (bob.kind, bob.member, bob.name) == (Account.Kind.REMOTE, None, BOB)
    assert accounts.remote_account_open(community=community, address=BOB.upper()) == bob
    assert account_names({bob.pk}) == {bob.pk: BOB}


def test_a_remote_account_never_relays_between_members_here(river):
    _, alice, carol, _ = river

    with pytest.raises(NoTrustPath):  # the only path, alice -> bob -> carol, would move bob's instance's lines
        payments.payment_send(payer=account(alice), payee=account(carol), amount=MICRO)
    mutual_credit(alice, carol, "5")
    paid = payments.payment_send(payer=account(alice), payee=account(carol), amount=MICRO)
    assert paid.state == paid.State.FINALIZED


def test_a_remote_account_has_an_address_and_no_member(river):
    community, alice, _, _ = river

    for broken in ({"address": ""}, {"address": "x@y.example", "member": alice}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Account.objects.create(community=community, kind=Account.Kind.REMOTE, **broken)
