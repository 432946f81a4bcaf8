"""Identity keys: sealed under the passphrase, rotated with the previous key's signature, and the key in
force at a time verifies what was signed then."""

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.test import override_settings
from django.utils import timezone

from config import settings as production_settings
from core.crypto import p256
from core.crypto.sealing import unseal
from core.errors import Forbidden
from identity import keys
from identity.errors import identity_revoked
from identity.models import Identity, IdentityKey
from identity.selectors import key_in_force
from identity.services.custody import key_rotate, key_sign, rotation_text
from identity.services.registration import identity_open
from tests.bank.helpers import api, assert_error
from tests.conftest import token_client
from tests.factories import PASSWORD, MemberFactory
from tests.identity.test_registration import register, withheld_body

pytestmark = pytest.mark.django_db


def test_a_sealed_key_opens_only_with_its_passphrase():
    private = p256.new_key()
    pubkey = p256.compressed_hex(private.public_key())
    sealed, salt = keys.seal_with_passphrase(private, "open sesame")
    opened = keys.unseal_with_passphrase(sealed, salt, "open sesame", pubkey)
    assert p256.signature_valid(pubkey, p256.sign(opened, b"data"), b"data")
    with pytest.raises(Forbidden) as refused:
        keys.unseal_with_passphrase(sealed, salt, "open sesamE", pubkey)
    assert refused.value.code == "passphrase_invalid"
    with pytest.raises(Exception) as swapped:  # the public key is bound in: a sealed key cannot change owner
        keys.unseal_with_passphrase(sealed, salt, "open sesame", p256.compressed_hex(p256.new_key().public_key()))
    assert swapped.value.code == "passphrase_invalid"


def test_production_seals_keys_under_scrypt_n_2_14_and_they_open(settings):
    """The suite seals at a cheap cost (tests/settings.py); this is the one test at production's, which
    config/settings.py sets: N = 2**14, r = 8, p = 1. A key sealed at it opens under a scrypt of exactly that cost."""
    assert production_settings.PASSPHRASE_SCRYPT_LOG2_N == 14
    settings.PASSPHRASE_SCRYPT_LOG2_N = production_settings.PASSPHRASE_SCRYPT_LOG2_N
    private = p256.new_key()
    pubkey = p256.compressed_hex(private.public_key())

    sealed, salt = keys.seal_with_passphrase(private, "open sesame")

    production_cipher = AESGCM(Scrypt(salt=salt, length=32, n=2**14, r=8, p=1).derive(b"open sesame"))
    scalar = unseal(production_cipher, sealed, pubkey.encode())
    assert scalar == private.private_numbers().private_value.to_bytes(keys.SCALAR_BYTES, "big")
    opened = keys.unseal_with_passphrase(sealed, salt, "open sesame", pubkey)
    assert p256.signature_valid(pubkey, p256.sign(opened, b"data"), b"data")
    with pytest.raises(Forbidden) as refused:
        keys.unseal_with_passphrase(sealed, salt, "open sesamE", pubkey)
    assert refused.value.code == "passphrase_invalid"


@pytest.fixture
def member():
    member = MemberFactory()
    identity_open(member=member, passphrase=PASSWORD)
    return member


def test_after_a_rotation_old_signatures_verify_with_the_key_in_force_then(member):
    identity = Identity.objects.get(member=member)
    old_key, old_signature = key_sign(member=member, passphrase=PASSWORD, data=b"receipt 1")
    signed_at = timezone.now()
    new_key = key_rotate(member=member, passphrase=PASSWORD)

    assert key_in_force(identity=identity, at=signed_at) == old_key
    assert p256.signature_valid(key_in_force(identity=identity, at=signed_at).public_key, old_signature, b"receipt 1")
    assert key_in_force(identity=identity, at=timezone.now()) == new_key
    assert p256.signature_valid(
        old_key.public_key,
        bytes(new_key.rotation_signature),
        rotation_text(public_key=new_key.public_key, effective_from=new_key.effective_from),
    )

    used, signature = key_sign(member=member, passphrase=PASSWORD, data=b"receipt 2")
    assert used == new_key
    assert p256.signature_valid(new_key.public_key, signature, b"receipt 2")
    assert not p256.signature_valid(old_key.public_key, signature, b"receipt 2")
    assert identity.keys.count() == 2  # the old key stays


def test_a_rotation_needs_the_passphrase_that_unlocks_the_current_key(member):
    with pytest.raises(Exception) as unsigned:
        key_rotate(member=member)
    assert unsigned.value.code == "rotation_unsigned"
    with pytest.raises(Exception) as wrong:
        key_rotate(member=member, passphrase="not the passphrase")
    assert wrong.value.code == "passphrase_invalid"
    assert IdentityKey.objects.filter(identity__member=member).count() == 1


def test_a_revoked_identity_neither_signs_nor_rotates(member):
    Identity.objects.filter(member=member).update(revoked=True, revoked_reason="ignored challenges")
    for attempt in (
        lambda: key_sign(member=member, passphrase=PASSWORD, data=b"x"),
        lambda: key_rotate(member=member, passphrase=PASSWORD),
    ):
        with pytest.raises(Exception) as refused:
            attempt()
        assert refused.value.code == identity_revoked("").code


class WithheldApp:
    """A member whose app withholds its key and signs rotations itself, through the API."""

    def __init__(self) -> None:
        self.member = MemberFactory()
        self.client = token_client(self.member)
        self.private = p256.new_key()
        with override_settings(REGISTRATION_POW_BITS=8):
            assert register(self.client, self.member, withheld_body(self.private)).status_code == 201

    def rotate(self, new_private, *, signer=None, at=None, **changes):
        at = at or timezone.now()
        pubkey = p256.compressed_hex(new_private.public_key())
        signature = p256.sign(signer or self.private, rotation_text(public_key=pubkey, effective_from=at))
        body = {
            "new_pubkey": pubkey,
            "effective_from": at.isoformat(),
            "rotation_signature": signature.hex(),
            **changes,
        }
        body = {key: value for key, value in body.items() if value is not None}  # None: left out
        return self.client.post(api(self.member.community, "identity/keys/rotate"), body, format="json")


def test_a_withheld_key_rotates_with_the_apps_signature_by_the_old_key():
    app = WithheldApp()
    old_pubkey = p256.compressed_hex(app.private.public_key())
    new_private = p256.new_key()
    before = timezone.now()
    response = app.rotate(new_private)
    assert response.status_code == 201, response.content
    new_pubkey = p256.compressed_hex(new_private.public_key())
    assert response.json()["pubkey"] == new_pubkey
    identity = Identity.objects.get(member=app.member)
    assert key_in_force(identity=identity, at=before - timedelta(microseconds=1)).public_key == old_pubkey
    mine = app.client.get(api(app.member.community, "identity/my-identity")).json()
    assert mine["pubkey"] == new_pubkey and mine["custody"] == 1


@pytest.mark.parametrize("how", ["unsigned", "signed by another key", "signed over another time", "not hex"])
def test_a_withheld_rotation_without_the_previous_keys_signature_is_refused(how):
    app = WithheldApp()
    new_private = p256.new_key()
    before = IdentityKey.objects.filter(identity__member=app.member).count()
    if how == "unsigned":
        response = app.rotate(new_private, rotation_signature=None)
    elif how == "signed by another key":
        response = app.rotate(new_private, signer=new_private)
    elif how == "signed over another time":
        response = app.rotate(new_private, effective_from=(timezone.now() + timedelta(seconds=1)).isoformat())
    else:
        response = app.rotate(new_private, rotation_signature="zz")
    assert_error(response, 403, "rotation_unsigned")
    assert IdentityKey.objects.filter(identity__member=app.member).count() == before


def test_a_withheld_rotation_time_must_be_near_the_servers_clock():
    app = WithheldApp()
    response = app.rotate(p256.new_key(), at=timezone.now() - timedelta(hours=1))
    assert_error(response, 400, "invalid_input", field="effective_from")


def test_a_password_change_reseals_the_key_under_the_new_password(member):
    client = token_client(member)
    new_password = "a-new-and-longer-passphrase-42"
    body = {"old_password": PASSWORD, "new_password": new_password}
    assert client.post(api(member.community, "auth/change_password"), body, format="json").status_code == 204
    key, signature = key_sign(member=member, passphrase=new_password, data=b"after")
    assert p256.signature_valid(key.public_key, signature, b"after")
    with pytest.raises(Forbidden) as refused:  # the old password no longer opens the key
        key_sign(member=member, passphrase=PASSWORD, data=b"after")
    assert refused.value.code == "passphrase_invalid"
