"""``python manage.py verify_identity_chain``: check this instance's identity chain from genesis."""

from django.core.management.base import BaseCommand, CommandError

from identity.chain import chain_verify
from identity.models import Block


class Command(BaseCommand):
    help = "Verify the identity chain: hash links, block hashes and the server's signatures, from genesis."

    def handle(self, *args, **options) -> None:
        problems = chain_verify()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"The identity chain has {len(problems)} problem(s).")
        self.stdout.write(f"OK: {Block.objects.count()} blocks verify.")
