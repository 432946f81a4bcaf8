"""Propositions and votes under /c/<slug>/api/identity/, and the member's credit score (user/reputation)."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from bank.api_views import ApiView
from bank.permissions import IsCommunityAdmin, IsCommunityMember
from core.api import InputSerializer, PasswordField, TextField
from core.money import format_amount
from identity import selectors as identity_selectors
from identity.errors import SignatureInvalid
from identity.models import Proposition, Vote
from identity.services import votes


class PropositionOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    created_by = serializers.CharField(source="created_by.address")
    created_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    open = serializers.SerializerMethodField()
    yes = serializers.IntegerField()
    no = serializers.IntegerField()

    def get_open(self, proposition: Proposition) -> bool:
        return proposition.closes_at > timezone.now()


class VoteOutput(serializers.Serializer):
    """A vote with what it takes to check it: ``signature`` over ``text`` by ``public_key`` (ECDSA P-256)."""

    member = serializers.CharField(source="member.address")
    value = serializers.IntegerField()
    cast_at = serializers.DateTimeField()
    public_key = serializers.CharField(source="key.public_key")
    signature = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField()

    def get_signature(self, vote: Vote) -> str:
        return bytes(vote.signature).hex()

    def get_text(self, vote: Vote) -> str:
        return votes.signed_text(vote).decode()


class PropositionDetailOutput(PropositionOutput):
    votes = serializers.SerializerMethodField()

    @extend_schema(responses=VoteOutput(many=True))
    def get_votes(self, proposition: Proposition) -> list[dict]:
        return VoteOutput(identity_selectors.votes_on(proposition=proposition), many=True).data


class PropositionsApi(ApiView):
    class Input(InputSerializer):
        title = TextField(max_length=255)
        closes_at = serializers.DateTimeField()

    class Output(serializers.Serializer):
        propositions = PropositionOutput(many=True)

    def get_permissions(self) -> list:
        return [IsCommunityAdmin()] if self.request.method == "POST" else [IsCommunityMember()]

    @extend_schema(
        responses=Output,
        summary="The community's propositions, newest first, with their counts",
    )
    def get(self, request: Request) -> Response:
        return Response(
            self.Output({"propositions": identity_selectors.propositions_of(community=request.member.community)}).data
        )

    @extend_schema(request=Input, responses={201: PropositionOutput}, summary="Open a proposition (admins)")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        proposition = votes.proposition_create(by=request.member, **data.validated_data)
        return Response(PropositionOutput(proposition).data, status=status.HTTP_201_CREATED)


class PropositionDetailApi(ApiView):
    @extend_schema(responses=PropositionDetailOutput, summary="A proposition with its results and signed votes")
    def get(self, request: Request, proposition_id: int) -> Response:
        proposition = identity_selectors.proposition_get(
            community=request.member.community, proposition_id=proposition_id
        )
        return Response(PropositionDetailOutput(proposition).data)


def _signature(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise SignatureInvalid("The signature is not hex.") from None


class VoteApi(ApiView):
    class Input(InputSerializer):
        value = serializers.JSONField(allow_null=True, help_text="0 (no) or 1 (yes); anything else: value_invalid")
        passphrase = PasswordField(required=False, help_text="Custody 0: unlocks your key for this signature")
        signature = TextField(required=False, max_length=200, help_text="Custody 1: hex DER ECDSA over the vote text")
        cast_at = serializers.DateTimeField(required=False, help_text="Custody 1: the time in the signed text")

    @extend_schema(request=Input, responses={201: VoteOutput, 200: VoteOutput}, summary="Vote, or change my vote")
    def post(self, request: Request, proposition_id: int) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        existed = request.member.votes.filter(proposition_id=proposition_id).exists()
        vote = votes.vote_cast(
            member=request.member,
            proposition_id=proposition_id,
            value=values["value"],
            passphrase=values.get("passphrase"),
            signature=_signature(values.get("signature")),
            cast_at=values.get("cast_at"),
        )
        return Response(VoteOutput(vote).data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)


class CreditScoreApi(ApiView):
    class Output(serializers.Serializer):
        score = serializers.CharField(help_text='0.0 to 100.0, one place: "72.5"')
        rating = serializers.CharField(help_text="Good, Overspent or Bad")
        can_vote = serializers.BooleanField(help_text="CAN-VOTE: payments with someone in each of the last 12 months")
        credits = serializers.CharField(help_text="Received, depreciated")
        debits = serializers.CharField(help_text="Paid, depreciated")

    @extend_schema(responses=Output, summary="My credit score (Civil Money's recent reputation)")
    def get(self, request: Request) -> Response:
        score = identity_selectors.credit_score_of(member=request.member)
        return Response(
            self.Output(
                {
                    "score": str(score.score),
                    "rating": score.rating,
                    "can_vote": score.can_vote,
                    "credits": format_amount(score.credits),
                    "debits": format_amount(score.debits),
                }
            ).data
        )
