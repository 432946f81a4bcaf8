import time

from django.core.management.base import BaseCommand, CommandError

from bank import selectors as bank_selectors
from core.errors import ApplicationError
from core.money import format_amount, parse_amount
from trust import selectors
from trust.models import Account
from trust.routing.graph import graph_for
from trust.routing.planner import Path
from trust.services.payments import payment_preview


class Command(BaseCommand):
    help = "Show the route(s), tax and fees a payment would take, and how long routing took; moves nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--community", required=True, dest="slug", help="slug of the community")
        parser.add_argument("payer", help="handle of the paying member (or 'commons')")
        parser.add_argument("payee", help="handle of the member to pay (or 'commons')")
        parser.add_argument("amount", help='amount as a decimal string, e.g. "12.5"')

    def handle(self, *args, slug: str, payer: str, payee: str, amount: str, **options) -> None:
        community = bank_selectors.community_get_by_slug(slug=slug)
        if community is None:
            raise CommandError(f"community_not_found: There is no community {slug!r}.")
        try:
            micro = parse_amount(amount)
        except ValueError as exc:
            raise CommandError(f"invalid_input: {exc}") from None
        payer_account = self._account(community, payer, code="payer_not_found")
        payee_account = self._account(community, payee, code="payee_not_found")

        started = time.perf_counter()
        graph_for(community.pk)  # load it here, so the time below is routing's alone
        loaded = time.perf_counter()
        try:
            plan = payment_preview(payer=payer_account, payee=payee_account, amount=micro)
        except ApplicationError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        took = time.perf_counter() - loaded

        names = self._names(plan.paths + plan.levy_paths)
        currency = community.currency_code
        self.stdout.write(f"{format_amount(micro)} {currency} from {payer_account.name} to {payee_account.name}:")
        self._paths(plan.paths, names)
        self.stdout.write(f"tax:  {format_amount(plan.tax)} {currency}")
        self.stdout.write(f"fees: {format_amount(plan.fees)} {currency}")
        if plan.levy_paths:
            self.stdout.write("tax and fees to the commons:")
            self._paths(plan.levy_paths, names)
        self.stdout.write(
            f"routing took {took * 1000:.1f} ms, after loading the trust graph in {(loaded - started) * 1000:.0f} ms"
            " (nothing was moved)"
        )

    def _account(self, community, handle: str, *, code: str) -> Account:
        account = selectors.account_find(community=community, handle=handle)
        if account is None:
            raise CommandError(f"{code}: There is no account {handle!r} in {community.slug}.")
        return account

    def _paths(self, paths: list[Path], names: dict[int, str]) -> None:
        for number, (nodes, amount) in enumerate(paths, start=1):
            hops = len(nodes) - 1
            route = " -> ".join(names[node] for node in nodes)
            self.stdout.write(
                f"  path {number}: {route}  ({hops} hop{'s' if hops != 1 else ''}, {format_amount(amount)})"
            )

    @staticmethod
    def _names(paths: list[Path]) -> dict[int, str]:
        ids = {node for nodes, _ in paths for node in nodes}
        return {account.pk: account.name for account in Account.objects.select_related("member").filter(pk__in=ids)}
