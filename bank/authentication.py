from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from bank.models import AuthToken


class MemberTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <key>`` with a key issued by ``auth/login``.

    A token belongs to one membership: ``bank.permissions`` grants it access only in that
    membership's community. It stops working at logout or when the membership or login is deactivated.
    """

    keyword = "Token"

    def authenticate(self, request: Request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("The Authorization header must be 'Token <key>'.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("The token has characters a token never has.") from None
        token = AuthToken.objects.for_key(key).select_related("member__user", "member__community").first()
        member = token.member if token else None
        if member is None or not (member.is_active and member.user.is_active):
            raise AuthenticationFailed("The token is not valid; sign in again.")
        return member.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
