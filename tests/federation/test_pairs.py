"""Pairing a member with a remote account: only on a known remote, only with names the datagrams can carry."""

import pytest

from core.errors import ApplicationError
from federation.errors import AddressInvalid, RemoteNotFound
from federation.models import Pair
from federation.services import pairs, remotes
from tests.factories import MemberFactory
from tests.federation.peers import FakeNetwork, FakePeer


@pytest.fixture
def remote(db, monkeypatch):
    peer = FakePeer("lake.example", communities=[{"slug": "lake", "host": "lake.lake.example", "name": "Lake"}])
    FakeNetwork(monkeypatch, peer)
    return remotes.remote_add(address=peer.address)


def test_a_member_pairs_with_an_account_of_a_known_remote_once(remote):
    member = MemberFactory(handle="alice")

    pair = pairs.pair_open(member=member, address="bob@Lake.Lake.example")
    assert (pair.remote, pair.handle, pair.host) == (remote, "bob", "lake.lake.example")
    assert pairs.pair_open(member=member, address="bob@lake.lake.example") == pair
    assert Pair.objects.count() == 1


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("bob", "address_invalid"),
        ("@lake.lake.example", "address_invalid"),
        ("b" * 33 + "@lake.lake.example", "address_too_long"),
        ("bob@" + "l" * 33, "address_too_long"),
        ("bob@unknown.example", "server_not_found"),
    ],
)
def test_addresses_that_cannot_be_paired_are_refused_with_their_code(remote, address, code):
    with pytest.raises((AddressInvalid, RemoteNotFound)) as refused:
        pairs.pair_open(member=MemberFactory(), address=address)

    assert refused.value.code == code and refused.value.message
    assert not Pair.objects.exists()


def test_a_32_byte_handle_of_multibyte_characters_fits(remote):
    handle = "é" * 16  # 32 bytes in UTF-8

    assert pairs.pair_open(member=MemberFactory(), address=f"{handle}@lake.lake.example").handle == handle


def test_a_remote_with_paired_accounts_is_not_removed(remote):
    pairs.pair_open(member=MemberFactory(), address="bob@lake.lake.example")

    with pytest.raises(ApplicationError) as refused:
        remotes.remote_remove(address=remote.address)
    assert refused.value.code == "remote_in_use" and remote.__class__.objects.filter(pk=remote.pk).exists()
