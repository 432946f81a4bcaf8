from django.core.management.base import BaseCommand, CommandError

from bank import selectors as bank_selectors
from core.errors import ApplicationError
from core.money import format_amount, parse_amount
from trust import selectors
from trust.counterparts import counterpart_find
from trust.services import accounts


class Command(BaseCommand):
    help = (
        "Open (if need be) a member's trustline with a member of the community or of another instance "
        "(handle@host), and set the credit the member extends on it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--community", required=True, dest="slug", help="slug of the community")
        parser.add_argument("member", help="handle of the member extending the credit")
        parser.add_argument("other", help="handle here, or handle@host on another instance")
        parser.add_argument("limit", help='the credit extended, as a decimal string, e.g. "100"')

    def handle(self, *args, slug: str, member: str, other: str, limit: str, **options) -> None:
        community = bank_selectors.community_get_by_slug(slug=slug)
        if community is None:
            raise CommandError(f"community_not_found: There is no community {slug!r}.")
        owner = bank_selectors.member_get(community=community, handle=member)
        if owner is None:
            raise CommandError(f"member_not_found: There is no member {member!r} in {slug}.")
        try:
            micro = parse_amount(limit, allow_zero=True)
            counterpart = counterpart_find(member=owner, username=other, missing=ApplicationError, create=True)
            mine = selectors.account_of(member=owner)
            if selectors.trustline_between(first=mine, second=counterpart) is None:
                accounts.trustline_add(owner=mine, other=counterpart)
            accounts.trustline_set_limit(owner=mine, other=counterpart, limit=micro)
        except ValueError as exc:
            raise CommandError(f"invalid_input: {exc}") from None
        except ApplicationError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        self.stdout.write(f"{member} extends {counterpart.name} {format_amount(micro)} {community.currency_code}")
