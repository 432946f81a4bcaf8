from django.core.management.base import BaseCommand, CommandError

from bank import selectors
from bank.models import Community
from core.money import format_amount
from trust.services.income import basic_income_distribute


class Command(BaseCommand):
    help = "Distribute the commons' balance as basic income now (the beat schedule does it periodically)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--community", help="slug of one community (default: every community)")

    def handle(self, *args, community: str | None, **options) -> None:
        if community:
            found = selectors.community_get_by_slug(slug=community)
            if found is None:
                raise CommandError(f"There is no community {community!r}.")
            communities = [found]
        else:
            communities = list(Community.objects.all())
        for each in communities:
            paid = basic_income_distribute(community=each)
            total = sum(payment.amount for payment in paid)
            self.stdout.write(f"{each.slug}: {len(paid)} share(s), {format_amount(total)} {each.currency_code} in all")
