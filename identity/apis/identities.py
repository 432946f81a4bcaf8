"""The identity API under ``identity/``: instance status, this community's identities, my identity,
registration with a proof of work (``identity.pow``; format in docs/api.md), authentication by key, key
rotation and the receipt key."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from bank.api_views import ApiView
from core.api import InputSerializer, PasswordField, TextField
from core.crypto.signatures import receipt_key_text
from core.errors import InvalidInput
from identity import selectors
from identity.models import Identity
from identity.pow import NONCE_LIMIT
from identity.services import custody, registration

PUBKEY = {"max_length": 66}
SIGNATURE = {"max_length": 200}  # a DER P-256 signature is at most 72 bytes


class IdentityRowOutput(serializers.Serializer):
    pubkey = serializers.CharField()
    registered = serializers.BooleanField()
    balance = serializers.IntegerField()
    revoked = serializers.BooleanField()


class MyIdentityOutput(IdentityRowOutput):
    custody = serializers.IntegerField()


def _my_identity(identity: Identity) -> dict:
    key = selectors.key_in_force(identity=identity, at=timezone.now())
    return {
        "pubkey": key.public_key,
        "registered": identity.registered_at is not None,
        "balance": identity.balance,
        "revoked": identity.revoked,
        "custody": identity.custody,
    }


class StatusApi(ApiView):
    class Output(serializers.Serializer):
        identities = serializers.IntegerField()
        registered = serializers.IntegerField()
        revoked = serializers.IntegerField()
        difficulty_bits = serializers.IntegerField()
        chain_height = serializers.IntegerField()

    @extend_schema(responses=Output, summary="This instance's identities, registration difficulty, chain height")
    def get(self, request: Request) -> Response:
        return Response(self.Output(selectors.instance_status()).data)


class IdentitiesApi(ApiView):
    class Output(serializers.Serializer):
        identities = IdentityRowOutput(many=True)

    @extend_schema(responses=Output, summary="This community's identities, by the key in force now")
    def get(self, request: Request) -> Response:
        rows = selectors.identity_rows(community=request.community)
        return Response(self.Output({"identities": rows}).data)


class MyIdentityApi(ApiView):
    @extend_schema(responses=MyIdentityOutput, summary="My identity: key in force, registration, reputation")
    def get(self, request: Request) -> Response:
        identity = selectors.identity_required(member=request.member)
        return Response(MyIdentityOutput(_my_identity(identity)).data)


class IdentityRegisterApi(ApiView):
    class Input(InputSerializer):
        seed = TextField(
            max_length=100, trim_whitespace=False, help_text="16 bytes of the client's choosing, as 32 hex characters"
        )
        nonce = serializers.IntegerField(min_value=0, max_value=NONCE_LIMIT - 1)
        pubkey = TextField(required=False, help_text="A withheld key (custody 1), compressed P-256 hex", **PUBKEY)
        signature = TextField(
            required=False, help_text="With pubkey: its signature over the 16 seed bytes", **SIGNATURE
        )

        def validate(self, data: dict) -> dict:
            if ("pubkey" in data) != ("signature" in data):
                missing = "signature" if "pubkey" in data else "pubkey"
                raise InvalidInput(missing, ["A withheld key is registered with both pubkey and signature."])
            return data

    @extend_schema(
        request=Input,
        responses={201: MyIdentityOutput},
        summary="Register my identity with a proof of work over my key (or over a withheld key I sign with)",
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "pubkey" in values:
            identity = registration.identity_register_withheld(
                member=request.member,
                pubkey_hex=values["pubkey"],
                seed_hex=values["seed"],
                nonce=values["nonce"],
                signature_hex=values["signature"],
            )
        else:
            identity = registration.identity_register(
                member=request.member, seed_hex=values["seed"], nonce=values["nonce"]
            )
        return Response(MyIdentityOutput(_my_identity(identity)).data, status=status.HTTP_201_CREATED)


class AuthenticateApi(ApiView):
    class Input(InputSerializer):
        pubkey = TextField(**PUBKEY)

    class Output(serializers.Serializer):
        authenticated = serializers.BooleanField()
        balance = serializers.IntegerField()

    @extend_schema(
        request=Input,
        responses=Output,
        summary="Whether the key's identity may act: registered, not revoked, reputation at least 1",
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        pubkey = data.validated_data["pubkey"].lower()
        identity = selectors.identity_by_pubkey(community=request.community, pubkey=pubkey)
        if identity is None:
            return Response(self.Output({"authenticated": False, "balance": 0}).data)
        authenticated = identity.registered_at is not None and identity.standing.authenticated
        return Response(self.Output({"authenticated": authenticated, "balance": identity.balance}).data)


class KeyRotateApi(ApiView):
    class Input(InputSerializer):
        passphrase = PasswordField(required=False, help_text="Custody 0: unlocks my current key to sign")
        new_pubkey = TextField(required=False, help_text="Custody 1: my app's new key", **PUBKEY)
        effective_from = TextField(required=False, max_length=40, help_text="Custody 1: UTC, ISO 8601")
        rotation_signature = TextField(
            required=False,
            help_text="Custody 1: my current key's signature over new_pubkey|effective_from",
            **SIGNATURE,
        )

    class Output(serializers.Serializer):
        pubkey = serializers.CharField(source="public_key")
        effective_from = serializers.DateTimeField()
        rotation_signature = serializers.SerializerMethodField()

        def get_rotation_signature(self, key) -> str:
            return bytes(key.rotation_signature).hex()

    @extend_schema(request=Input, responses={201: Output}, summary="Rotate my key; the new one is signed by the old")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        key = custody.key_rotate(
            member=request.member,
            new_pubkey_hex=values.get("new_pubkey"),
            passphrase=values.get("passphrase"),
            rotation_signature_hex=values.get("rotation_signature"),
            effective_from=values.get("effective_from"),
        )
        return Response(self.Output(key).data, status=status.HTTP_201_CREATED)


class ReceiptKeyApi(ApiView):
    """The receipt key of my key in force: the server signs my receipts with it once my key certified it."""

    class Input(InputSerializer):
        signature = TextField(help_text="Custody 1: my key's signature over certificate_text, hex", **SIGNATURE)

    class Output(serializers.Serializer):
        pubkey = serializers.CharField(source="public_key")
        receipt_pubkey = serializers.CharField(source="receipt_public_key")
        certificate_text = serializers.SerializerMethodField()
        certificate = serializers.SerializerMethodField()

        def get_certificate_text(self, key) -> str:
            return receipt_key_text(key.public_key, key.receipt_public_key).decode()

        def get_certificate(self, key) -> str:
            return bytes(key.receipt_certificate).hex()

    def _key(self, request: Request):
        identity = selectors.identity_required(member=request.member)
        return selectors.key_in_force(identity=identity, at=timezone.now())

    @extend_schema(responses=Output, summary="My receipt key, the text my key certifies it with, and its certificate")
    def get(self, request: Request) -> Response:
        return Response(self.Output(self._key(request)).data)

    @extend_schema(request=Input, responses=Output, summary="Custody 1: certify my receipt key with my app's key")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        key = custody.receipt_key_certify(member=request.member, signature_hex=data.validated_data["signature"])
        return Response(self.Output(key).data)
