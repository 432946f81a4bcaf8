from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from bank import selectors
from bank.errors import Forbidden
from bank.models import AuthToken, Member


def request_member(request: Request) -> Member | None:
    """The active membership acting in the request's community, or None.

    A token speaks only for the membership it was issued to; a session speaks for the login's
    membership in whichever community the request addresses.
    """
    community = getattr(request, "community", None)
    if community is None or not request.user.is_authenticated:
        return None
    if isinstance(request.auth, AuthToken):
        member = request.auth.member
        return member if member.community_id == community.pk else None
    return selectors.membership_for_user(user=request.user, community=community)


class IsCommunityMember(BasePermission):
    """Lets in active members of the request's community and sets ``request.member``."""

    def has_permission(self, request: Request, view) -> bool:
        if not request.user.is_authenticated:
            return False  # DRF answers 401 not_authenticated
        request.member = request_member(request)
        if request.member is None:
            raise Forbidden("You are not a member of this community.", code="not_a_member")
        return True


class IsCommunityAdmin(IsCommunityMember):
    def has_permission(self, request: Request, view) -> bool:
        if not super().has_permission(request, view):
            return False  # not signed in: 401, as for members' endpoints
        if not request.member.is_admin:
            raise Forbidden("Only community admins may do this.", code="admin_required")
        return True
