from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string

from bank import selectors, services
from bank.models import Member

DEMO_SLUG = "demo"
DEMO_PASSWORD = "trust-demo-2026"
DEMO_ADMIN = "admin"
DEMO_MEMBERS = ["alice", "bob", "carol", "dave"]


class Command(BaseCommand):
    help = "Create the demo community with an admin and a few members (safe to run again)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        community = selectors.community_get_by_slug(slug=DEMO_SLUG)
        if community is None:
            community = services.community_create(
                slug=DEMO_SLUG,
                name="Demo Community",
                admin_handle=DEMO_ADMIN,
                admin_password=DEMO_PASSWORD,
                currency_code="HOUR",
                currency_name="Hours",
            ).community
        for handle in DEMO_MEMBERS:
            if not Member.objects.filter(community=community, handle=handle).exists():
                services.member_create(community=community, handle=handle, password=DEMO_PASSWORD)

        self.stdout.write(f"Demo community {community.name!r}: sign in at /c/{community.slug}/login/")
        for handle in [DEMO_ADMIN, *DEMO_MEMBERS]:
            member = selectors.member_get(community=community, handle=handle)
            role = " (admin; Django admin login: " + member.user.get_username() + ")" if member.is_admin else ""
            self.stdout.write(f"  username {handle:<6} password {DEMO_PASSWORD}{role}")
        # Apps above bank add their part of the demo (trustlines, ...) without bank importing them.
        for seeder in settings.DEMO_SEEDERS:
            import_string(seeder)(community=community, stdout=self.stdout)
