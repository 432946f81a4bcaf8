"""The well-known document: what it states, that it verifies, and what a peer refuses."""

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from core.crypto import server as server_keys
from federation import documents
from federation.errors import DocumentRefused
from tests.factories import CommunityFactory

FIELDS = {"name", "url", "version", "protocols", "endpoints", "keys", "dht_id", "communities", "score", "signed_at"}


def resigned(document: dict, key: Ed25519PrivateKey | None = None) -> dict:
    """``document`` signed again (by ``key``, else the server's) after a change."""
    document = {**document}
    document["signature"] = (key or server_keys.server_signing_key()).sign(documents.canonical(document)).hex()
    return document


def pinned_from(document: dict, *, signed_at=None) -> documents.Pinned:
    return documents.Pinned(document["keys"]["sign"], document["keys"]["agree"], signed_at)


@pytest.fixture
def document(db):
    CommunityFactory(slug="river", name="River", domain="")
    CommunityFactory(slug="own", name="Own", domain="bank.example.org")
    return documents.own_document(score=None)


def test_the_document_states_the_instance_and_verifies(document, settings):
    assert set(document) == FIELDS | {"signature"}
    assert document["keys"] == {
        "sign": server_keys.server_public_key_hex(),
        "agree": server_keys.public_hex(server_keys.server_agreement_key()),
    }
    assert document["dht_id"] == documents.dht_id(document["endpoints"]["ws"]) and len(document["dht_id"]) == 16
    assert {(c["slug"], c["host"]) for c in document["communities"]} == {
        ("river", f"river.{settings.INSTANCE_DOMAIN}"),
        ("own", "bank.example.org"),
    }
    assert documents.verified(json.loads(json.dumps(document)), pinned=None) == document


def test_the_agreement_key_is_derived_from_the_server_key_and_is_not_it(document):
    assert document["keys"]["agree"] != document["keys"]["sign"]
    assert server_keys.server_agreement_key().private_bytes_raw() == server_keys.derived_key("peer-agreement")


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_a_changed_field_breaks_the_signature(document, field):
    changed = {**document, field: "something else"}

    with pytest.raises(DocumentRefused):
        documents.verified(changed, pinned=None)


def test_a_document_signed_by_another_key_is_refused_against_the_pinned_one(document):
    stranger = Ed25519PrivateKey.generate()
    taken_over = resigned(
        {**document, "keys": {**document["keys"], "sign": server_keys.public_hex(stranger)}}, stranger
    )
    documents.verified(taken_over, pinned=None)  # well-formed and self-consistent

    with pytest.raises(DocumentRefused) as refused:
        documents.verified(taken_over, pinned=pinned_from(document))
    assert refused.value.code == "peer_keys_changed"


def test_an_older_document_than_the_one_held_is_refused(document):
    held = pinned_from(document, signed_at=timezone.now() + timedelta(minutes=1))

    with pytest.raises(DocumentRefused) as refused:
        documents.verified(document, pinned=held)
    assert refused.value.code == "peer_document_old"


def test_a_rotation_signed_by_the_pinned_key_hands_the_instance_over(db, settings):
    before = documents.own_document(score=None)
    settings.PREVIOUS_SERVER_KEY, settings.SERVER_KEY = settings.SERVER_KEY, bytes(range(32))
    after = documents.own_document(score=None)

    assert after["keys"] != before["keys"] and after["rotation"]["from"] == before["keys"]["sign"]
    assert documents.verified(after, pinned=pinned_from(before)) == after
    forged = resigned({**after, "rotation": {**after["rotation"], "signature": "00" * 64}})
    with pytest.raises(DocumentRefused):
        documents.verified(forged, pinned=pinned_from(before))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=6),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(noise=st.dictionaries(st.sampled_from(sorted(FIELDS | {"signature", "rotation"})), JSON, max_size=8))
def test_any_json_is_a_document_or_refused(noise):
    """Whatever a peer serves, ``verified`` refuses it cleanly (nothing else can verify without the key)."""
    with pytest.raises(DocumentRefused):
        documents.verified(noise, pinned=None)


def test_the_well_known_url_serves_the_document(client, document):
    answer = client.get("/.well-known/trustbank.json")

    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    assert documents.verified(answer.json(), pinned=pinned_from(document))["communities"] == document["communities"]
