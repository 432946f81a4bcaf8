from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.validators import slug_re
from django.db.models import Q, QuerySet

from bank.models import Community, Member


def community_get_by_slug(*, slug: str) -> Community | None:
    """None, without asking the database, for a slug that cannot be one (a URL's ``%00``, say)."""
    if not slug_re.match(slug):
        return None
    return Community.objects.filter(slug=slug).first()


def community_get_by_domain(*, domain: str) -> Community | None:
    if not domain:
        return None
    return Community.objects.filter(domain=domain.lower()).first()


def community_get_by_address_domain(*, host: str) -> Community | None:
    """The community whose members' addresses end in ``@host``: its own domain, or ``slug.INSTANCE_DOMAIN``."""
    host = host.strip().lower()
    found = community_get_by_domain(domain=host)
    suffix = f".{settings.INSTANCE_DOMAIN.lower()}"
    if found is None and host.endswith(suffix):
        without_domain = Q(domain__isnull=True) | Q(domain="")
        found = Community.objects.filter(without_domain, slug=host.removesuffix(suffix)).first()
    return found


def member_get(*, community: Community, handle: str) -> Member | None:
    return Member.objects.select_related("user", "community").filter(community=community, handle=handle.lower()).first()


def member_list(*, community: Community) -> QuerySet[Member]:
    return Member.objects.filter(community=community).order_by("handle")


def membership_for_user(*, user: AbstractBaseUser, community: Community) -> Member | None:
    """The user's active membership in the community, or None."""
    if not user.is_authenticated:
        return None
    return Member.objects.active().select_related("community").filter(user=user, community=community).first()


def memberships_for_user(*, user: AbstractBaseUser) -> QuerySet[Member]:
    return Member.objects.filter(user=user).select_related("community").order_by("community__name")


def user_may_use_admin(*, user: AbstractBaseUser) -> bool:
    return user.is_active and (user.is_superuser or communities_administered_by(user=user).exists())


def communities_administered_by(*, user: AbstractBaseUser) -> QuerySet[Community]:
    if not user.is_authenticated:
        return Community.objects.none()
    if user.is_superuser:
        return Community.objects.all()
    return Community.objects.filter(members__in=Member.objects.active().admins().filter(user=user))
