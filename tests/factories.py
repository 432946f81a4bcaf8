import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from bank.models import Community, Invite, Member
from bank.signals import member_joined
from core.crypto.secrets import digest

PASSWORD = "correct-horse-battery-staple"


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    slug = factory.Sequence(lambda n: f"community-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user-{n}")
    password = factory.django.Password(PASSWORD)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member
        skip_postgeneration_save = True

    community = factory.SubFactory(CommunityFactory)
    handle = factory.Sequence(lambda n: f"member-{n}")
    user = factory.SubFactory(
        UserFactory,
        username=factory.LazyAttribute(lambda o: f"{o.factory_parent.handle}@{o.factory_parent.community.slug}"),
    )
    role = Member.Role.MEMBER

    @factory.post_generation
    def joined(member: Member, create: bool, extracted, **kwargs) -> None:
        """Announce the membership as the services do, so other apps open what a member has."""
        if create:
            member_joined.send(sender=Member, member=member)


class InviteFactory(factory.django.DjangoModelFactory):
    """Pass ``code=...`` to know the invite's code; only its digest is stored."""

    class Meta:
        model = Invite
        exclude = ["code"]

    community = factory.SubFactory(CommunityFactory)
    code = factory.Sequence(lambda n: f"invite-code-{n}")
    code_digest = factory.LazyAttribute(lambda o: digest(o.code))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=7))
