"""Remotes: added only with a verified document, pinned, ranked by verified scores, updated as Zold's are."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.utils import timezone

from federation.errors import AddressInvalid, DocumentRefused, PeerUnreachable, RemoteNotFound
from federation.models import Remote
from federation.peers import parse_address
from federation.services import remotes
from tests.federation.peers import FakeNetwork, FakePeer


@pytest.mark.parametrize(
    ("address", "parsed"),
    [
        ("peer.example.org", ("peer.example.org", None)),
        ("Peer.Example.org:8443", ("peer.example.org", 8443)),
        ("127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("[::1]:2013", ("::1", 2013)),
    ],
)
def test_addresses_parse(address, parsed):
    assert parse_address(address) == parsed


@pytest.mark.parametrize(
    "address", ["", "peer..example", "-peer.org", "peer.org:0", "peer.org:65536", "peer.org:x", "[::1", "a b", "::1"]
)
def test_malformed_addresses_are_refused(address):
    with pytest.raises(AddressInvalid):
        parse_address(address)


def test_a_remote_is_added_with_its_pinned_keys_and_verified_score(db, monkeypatch):
    peer = FakePeer("one.example", score_value=3)
    FakeNetwork(monkeypatch, peer)

    remote = remotes.remote_add(address=peer.address)

    assert (remote.sign_key, remote.score, remote.failures) == (peer.document()["keys"]["sign"], 3, 0)
    assert remote.last_seen is not None and remote.ws_endpoint == peer.ws


def test_a_score_made_for_another_instance_counts_nothing(db, monkeypatch):
    peer, other = FakePeer("one.example"), FakePeer("two.example", score_value=5)
    FakeNetwork(monkeypatch, peer)
    borrowed, original = other.score(timezone.now()).to_dict(), peer.document
    monkeypatch.setattr(peer, "document", lambda **changes: original(**{"score": borrowed, **changes}))

    assert remotes.remote_add(address=peer.address).score == 0


def test_a_peer_whose_keys_changed_is_not_updated(db, monkeypatch):
    peer = FakePeer("one.example")
    FakeNetwork(monkeypatch, peer)
    remote = remotes.remote_add(address=peer.address)
    peer.sign = Ed25519PrivateKey.generate()  # a new key, no rotation signed by the pinned one

    with pytest.raises(DocumentRefused):
        remotes.remote_add(address=peer.address)
    assert Remote.objects.get(pk=remote.pk).sign_key == remote.sign_key


def test_update_counts_failures_drops_the_dead_and_adds_the_seen_below_the_minimum(db, monkeypatch, settings):
    settings.REMOTE_MAX_FAILURES, settings.REMOTES_MIN_SCORE_SUM = 2, 5
    one, two, three, four = (FakePeer(f"{name}.example", score_value=2) for name in ("one", "two", "three", "four"))
    one.seen, two.seen = [three.address, four.address], []
    FakeNetwork(monkeypatch, one, two, three, four)
    remotes.remote_add(address=one.address)
    remotes.remote_add(address=two.address)
    two.up = False

    first = remotes.remote_update()
    assert (first.refreshed, first.failed) == ([one.address], [two.address])
    assert first.added == [four.address]  # 2 + 2 + 2 >= 5 after the first seen one: no more than needed
    second = remotes.remote_update()
    assert second.dropped == [two.address] and not Remote.objects.filter(host="two.example").exists()


def test_an_unreachable_peer_is_not_added(db, monkeypatch):
    FakeNetwork(monkeypatch)

    with pytest.raises(PeerUnreachable):
        remotes.remote_add(address="nowhere.example:8000")
    assert not Remote.objects.exists()


def test_the_remote_command_adds_shows_and_removes(db, monkeypatch, capsys):
    peer = FakePeer("one.example", score_value=2)
    FakeNetwork(monkeypatch, peer)

    call_command("remote", "add", peer.address)
    call_command("remote", "show")
    shown = capsys.readouterr().out
    assert "added one.example:8000" in shown and "one.example:8000  2" in shown
    call_command("remote", "remove", peer.address)
    assert not Remote.objects.exists()
    for arguments in (("remove", peer.address), ("add", "bad..host"), ("add", "nowhere.example")):
        with pytest.raises(CommandError):
            call_command("remote", *arguments)


def test_removing_an_unknown_remote_says_so(db):
    with pytest.raises(RemoteNotFound):
        remotes.remote_remove(address="one.example")


def test_the_remotes_resource_lists_scores(client, db, monkeypatch):
    peer = FakePeer("one.example", score_value=2)
    FakeNetwork(monkeypatch, peer)
    remotes.remote_add(address=peer.address)

    listed = client.get("/remotes").json()["remotes"]
    assert [(r["host"], r["port"], r["score"]) for r in listed] == [("one.example", 8000, 2)]
