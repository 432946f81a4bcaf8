"""The community API's identity/ challenge endpoints: a member's challenges, solving them, the heartbeat
that keeps a client live, and an admin's challenge on demand."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from bank.api_views import ApiView
from bank.permissions import IsCommunityAdmin
from core.api import InputSerializer, TextField
from identity import pow
from identity.services import challenges


class ChallengeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    challenge_data_hex = serializers.CharField(source="data")
    difficulty_bits = serializers.IntegerField()
    expires_at = serializers.DateTimeField()


class IncomingChallengeOutput(ChallengeOutput):
    state = serializers.CharField()
    issued_at = serializers.DateTimeField()
    solved_at = serializers.DateTimeField(allow_null=True)


class IssuedChallengeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    target = serializers.CharField(source="target.member.handle")
    difficulty_bits = serializers.IntegerField()
    state = serializers.CharField()
    issued_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    solved_at = serializers.DateTimeField(allow_null=True)


class ChallengeApi(ApiView):
    permission_classes = [IsCommunityAdmin]

    class Input(InputSerializer):
        target_pubkey = TextField(min_length=66, max_length=66)

    @extend_schema(request=Input, responses={201: IssuedChallengeOutput}, summary="Challenge an identity now (admins)")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        challenge = challenges.challenge_issue_by_admin(admin=request.member, **data.validated_data)
        return Response(IssuedChallengeOutput(challenge).data, status=status.HTTP_201_CREATED)


class ChallengesApi(ApiView):
    @extend_schema(responses=ChallengeOutput(many=True), summary="My pending challenges")
    def get(self, request: Request) -> Response:
        pending = challenges.challenges_of(member=request.member, pending_only=True)
        return Response(ChallengeOutput(pending, many=True).data)


class IncomingChallengesApi(ApiView):
    @extend_schema(responses=IncomingChallengeOutput(many=True), summary="All challenges I was given, any state")
    def get(self, request: Request) -> Response:
        incoming = challenges.challenges_of(member=request.member, pending_only=False)
        return Response(IncomingChallengeOutput(incoming, many=True).data)


class IssuedChallengesApi(ApiView):
    @extend_schema(responses=IssuedChallengeOutput(many=True), summary="Challenges my identity issued")
    def get(self, request: Request) -> Response:
        issued = challenges.challenges_issued_by(member=request.member)
        return Response(IssuedChallengeOutput(issued, many=True).data)


class SolveApi(ApiView):
    class Input(InputSerializer):
        nonce = serializers.IntegerField(min_value=0, max_value=pow.NONCE_LIMIT - 1)

    @extend_schema(request=Input, responses=IncomingChallengeOutput, summary="Answer a challenge with a nonce")
    def post(self, request: Request, challenge_id: int) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        challenge = challenges.challenge_solve(member=request.member, challenge_id=challenge_id, **data.validated_data)
        return Response(IncomingChallengeOutput(challenge).data)


class HeartbeatApi(ApiView):
    @extend_schema(request=None, responses={204: None}, summary="My client is live (may be challenged)")
    def post(self, request: Request) -> Response:
        InputSerializer(data=request.data).is_valid(raise_exception=True)  # takes no body: refuses one
        challenges.heartbeat(member=request.member)
        return Response(status=status.HTTP_204_NO_CONTENT)
