from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from bank import selectors
from bank.models import AppToken, AuthToken, Member
from bank.signals import access_requested
from core.errors import Forbidden

# What an app token may do, by URL name. "read": any safe method on members' endpoints except these;
# "pay": a POST to these. Nothing else, whatever its scopes: managing app tokens, password, trustlines,
# signing out, admin/* (``IsCommunityAdmin`` refuses every app token).
APP_TOKENS_NEVER = frozenset({"bank:api:app-tokens", "bank:api:app-token-revoke"})
APP_TOKEN_PAY_ROUTES = frozenset(
    {
        "trust:api:payment",
        "trust:api:local-payment",
        "trust:api:payment-preview",
        "trust:api:receive-payment",
        "trust:api:payment-accept",
    }
)


def request_member(request: Request) -> Member | None:
    """The active membership acting in the request's community, or None.

    A token (an API or an app token) speaks only for the membership it was issued to; a session
    speaks for the login's membership in whichever community the request addresses.
    """
    community = getattr(request, "community", None)
    if community is None or not request.user.is_authenticated:
        return None
    if isinstance(request.auth, (AuthToken, AppToken)):
        member = request.auth.member
        return member if member.community_id == community.pk else None
    return selectors.membership_for_user(user=request.user, community=community)


def app_token_allows(app_token: AppToken, request: Request) -> bool:
    route = request.resolver_match.view_name if request.resolver_match else ""
    if route in APP_TOKENS_NEVER:
        return False
    if request.method in SAFE_METHODS:
        return app_token.allows(AppToken.Scope.READ)
    return request.method == "POST" and route in APP_TOKEN_PAY_ROUTES and app_token.allows(AppToken.Scope.PAY)


def _app_token_denied() -> Forbidden:
    return Forbidden("This app token's scopes do not allow this.", code="app_scope_denied")


class IsCommunityMember(BasePermission):
    """Lets in active members of the request's community and sets ``request.member``.

    Apps may refuse a member through ``bank.signals.access_requested`` (identity: a revoked identity).

    A request made with an app token also has to be within the token's scopes.
    """

    def has_permission(self, request: Request, view) -> bool:
        if not request.user.is_authenticated:
            return False  # DRF answers 401 not_authenticated
        request.member = request_member(request)
        if request.member is None:
            raise Forbidden("You are not a member of this community.", code="not_a_member")
        access_requested.send(sender=Member, member=request.member)
        if isinstance(request.auth, AppToken) and not app_token_allows(request.auth, request):
            raise _app_token_denied()
        return True


class IsCommunityAdmin(IsCommunityMember):
    def has_permission(self, request: Request, view) -> bool:
        if not super().has_permission(request, view):
            return False  # not signed in: 401, as for members' endpoints
        if isinstance(request.auth, AppToken):
            raise _app_token_denied()
        if not request.member.is_admin:
            raise Forbidden("Only community admins may do this.", code="admin_required")
        return True
