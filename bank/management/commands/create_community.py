from getpass import getpass

from django.core.management.base import BaseCommand, CommandError

from bank import services
from core.errors import ApplicationError


class Command(BaseCommand):
    help = "Create a community with its first admin."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="short name used in the community's address, /c/<slug>/")
        parser.add_argument("--name", required=True, help="the community's display name")
        parser.add_argument("--admin", required=True, dest="admin_handle", help="username of the first admin")
        parser.add_argument("--password", help="the admin's password (prompted when omitted)")
        parser.add_argument("--domain", help="the community's own domain, if it has one")

    def handle(
        self, *args, slug: str, name: str, admin_handle: str, password: str | None, domain: str | None, **options
    ):
        if password is None:
            password = getpass(f"Password for {admin_handle}: ")
            if password != getpass("Password again: "):
                raise CommandError("The two passwords differ; nothing was created.")
        try:
            admin = services.community_create(
                slug=slug, name=name, domain=domain, admin_handle=admin_handle, admin_password=password
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} Nothing was created.") from None
        self.stdout.write(
            self.style.SUCCESS(f"Created community {admin.community.name!r} at /c/{slug}/ with admin {admin.address}")
        )
