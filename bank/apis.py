"""The community API's auth/, admin/ and invite/ endpoints (Resilience seed names), and user/app_tokens."""

from django.contrib.auth import logout, update_session_auth_hash
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from bank import app_tokens, auth, selectors, services
from bank.api_views import ApiView
from bank.models import AppToken, AuthToken, Member
from bank.permissions import IsCommunityAdmin
from core.api import InputSerializer, PasswordField, TextField, client_address
from core.errors import NotFound

HANDLE_FIELD = {"max_length": 32}


class MemberOutput(serializers.Serializer):
    username = serializers.CharField(source="handle")
    community = serializers.CharField(source="community.slug")
    role = serializers.CharField()
    address = serializers.CharField()


class UserOutput(serializers.Serializer):
    user_id = serializers.CharField(source="handle")
    role = serializers.CharField()
    active = serializers.BooleanField(source="is_active")


def _member_or_404(request: Request, handle: str) -> Member:
    member = selectors.member_get(community=request.community, handle=handle)
    if member is None:
        raise NotFound(f"There is no user {handle!r} in this community.", code="user_not_found")
    return member


class LoginApi(ApiView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class Input(InputSerializer):
        username = TextField(**HANDLE_FIELD)
        password = PasswordField()

    class Output(serializers.Serializer):
        username = serializers.CharField()
        community = serializers.CharField()
        role = serializers.CharField()
        token = serializers.CharField()

    @extend_schema(request=Input, responses=Output, summary="Sign in; returns an API token")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        member = auth.member_authenticate(
            community=request.community,
            handle=data.validated_data["username"],
            password=data.validated_data["password"],
            client_address=client_address(request),
        )
        token = auth.token_create(member=member)
        output = {"username": member.handle, "community": member.community.slug, "role": member.role, "token": token}
        return Response(self.Output(output).data)


class LogoutApi(ApiView):
    @extend_schema(request=None, responses={204: None}, summary="Sign out: revoke this token or end this session")
    def post(self, request: Request) -> Response:
        InputSerializer(data=request.data).is_valid(raise_exception=True)
        if isinstance(request.auth, AuthToken):
            auth.token_revoke(token=request.auth)
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WhoAmIApi(ApiView):
    @extend_schema(responses=MemberOutput, summary="The signed-in member")
    def get(self, request: Request) -> Response:
        return Response(MemberOutput(request.member).data)


class ChangePasswordApi(ApiView):
    class Input(InputSerializer):
        old_password = PasswordField()
        new_password = PasswordField()

    @extend_schema(request=Input, responses={204: None}, summary="Change my password; signs out my other tokens")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        keep = request.auth if isinstance(request.auth, AuthToken) else None
        auth.password_change(
            member=request.member, keep=keep, client_address=client_address(request), **data.validated_data
        )
        if keep is None:
            # Signed in by session: the new password would otherwise end this very session too.
            update_session_auth_hash(request._request, request.member.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CreateUserApi(ApiView):
    permission_classes = [IsCommunityAdmin]

    class Input(InputSerializer):
        user_id = TextField(**HANDLE_FIELD)
        password = PasswordField()

    @extend_schema(request=Input, responses={201: UserOutput}, summary="Create a member (admins)")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_create(
            community=request.community,
            handle=data.validated_data["user_id"],
            password=data.validated_data["password"],
            handle_field="user_id",
        )
        return Response(UserOutput(member).data, status=status.HTTP_201_CREATED)


class DeleteUserApi(ApiView):
    permission_classes = [IsCommunityAdmin]

    class Input(InputSerializer):
        user_id = TextField(**HANDLE_FIELD)

    @extend_schema(request=Input, responses=UserOutput, summary="Deactivate a member; nothing is deleted (admins)")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        member = _member_or_404(request, data.validated_data["user_id"])
        services.member_deactivate(member=member, by=request.member)
        return Response(UserOutput(member).data)


class ResetPasswordApi(ApiView):
    permission_classes = [IsCommunityAdmin]

    class Input(InputSerializer):
        user_id = TextField(**HANDLE_FIELD)
        new_password = PasswordField()

    @extend_schema(request=Input, responses=UserOutput, summary="Set a member's password (admins)")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        member = _member_or_404(request, data.validated_data["user_id"])
        services.member_reset_password(member=member, new_password=data.validated_data["new_password"])
        return Response(UserOutput(member).data)


class ListUsersApi(ApiView):
    permission_classes = [IsCommunityAdmin]

    class Output(serializers.Serializer):
        users = UserOutput(many=True)

    @extend_schema(responses=Output, summary="All members of the community (admins)")
    def get(self, request: Request) -> Response:
        return Response(self.Output({"users": selectors.member_list(community=request.community)}).data)


class CreateInviteApi(ApiView):
    permission_classes = [IsCommunityAdmin]

    class Output(serializers.Serializer):
        invite = serializers.CharField()
        expires = serializers.DateTimeField()

    @extend_schema(request=None, responses={201: Output}, summary="Create a single-use invite code (admins)")
    def post(self, request: Request) -> Response:
        InputSerializer(data=request.data).is_valid(raise_exception=True)
        invite, code = services.invite_create(community=request.community, created_by=request.member)
        return Response(self.Output({"invite": code, "expires": invite.expires_at}).data, status=201)


class RegisterApi(ApiView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class Input(InputSerializer):
        invite = TextField(max_length=100)
        username = TextField(**HANDLE_FIELD)
        password = PasswordField()

    @extend_schema(request=Input, responses={201: MemberOutput}, summary="Join the community with an invite")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.invite_redeem(
            community=request.community,
            code=data.validated_data["invite"],
            handle=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        return Response(MemberOutput(member).data, status=status.HTTP_201_CREATED)


class AppTokenOutput(serializers.Serializer):
    token = serializers.CharField()
    name = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class AppTokensApi(ApiView):
    """My app tokens. App tokens themselves are refused here (``bank.permissions.APP_TOKENS_NEVER``)."""

    class Input(InputSerializer):
        name = TextField(max_length=64)
        scopes = serializers.ListField(
            child=serializers.ChoiceField(choices=AppToken.Scope.choices),
            allow_empty=False,
            max_length=len(AppToken.Scope),
        )

    class Output(serializers.Serializer):
        app_tokens = AppTokenOutput(many=True)

    class CreatedOutput(serializers.Serializer):
        token = serializers.CharField()
        secret = serializers.CharField()
        name = serializers.CharField()
        scopes = serializers.ListField(child=serializers.CharField())
        created_at = serializers.DateTimeField()

    @extend_schema(responses=Output, summary="My app tokens (never their secrets)")
    def get(self, request: Request) -> Response:
        return Response(self.Output({"app_tokens": app_tokens.app_tokens_of(member=request.member)}).data)

    @extend_schema(
        request=Input, responses={201: CreatedOutput}, summary="Issue an app token; its secret is shown only now"
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        app_token, secret = app_tokens.app_token_create(member=request.member, **data.validated_data)
        output = {
            "token": app_token.token,
            "secret": secret,
            "name": app_token.name,
            "scopes": app_token.scopes,
            "created_at": app_token.created_at,
        }
        return Response(self.CreatedOutput(output).data, status=status.HTTP_201_CREATED)


class AppTokenRevokeApi(ApiView):
    @extend_schema(
        request=None,
        responses=AppTokenOutput,
        parameters=[OpenApiParameter("token", str, OpenApiParameter.PATH)],
        summary="Revoke one of my app tokens, at once",
    )
    def post(self, request: Request, token: str) -> Response:
        InputSerializer(data=request.data).is_valid(raise_exception=True)
        app_token = app_tokens.app_token_get(member=request.member, token=token)
        if app_token is None:
            raise NotFound("You have no app token with this id.", code="app_token_not_found")
        return Response(AppTokenOutput(app_tokens.app_token_revoke(app_token=app_token)).data)
