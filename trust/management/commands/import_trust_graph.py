import argparse
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from core.money import MAX_AMOUNT, format_amount, parse_amount
from trust.importing import BATCH_SIZE, CreditLinksInvalid, credit_links_parse, trust_graph_import


def _max_capacity(text: str) -> int:
    if text == "max":
        return MAX_AMOUNT
    try:
        return parse_amount(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class Command(BaseCommand):
    help = (
        "Import a credit-links file (one 'u v lower current upper' line per link) into a community as members "
        "and trustlines, all or nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="the credit-links file")
        parser.add_argument("--community", required=True, dest="slug", help="slug of the community to import into")
        parser.add_argument("--create", action="store_true", help="create the community when it does not exist")
        parser.add_argument(
            "--max-capacity",
            type=_max_capacity,
            metavar="AMOUNT",
            help="lower capacities above AMOUNT to it ('max': the largest amount, "
            f"{format_amount(MAX_AMOUNT)}) instead of refusing lines beyond 64-bit micro-units",
        )
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="rows per INSERT (default %(default)s)")

    def handle(
        self, *args, file: Path, slug: str, create: bool, max_capacity: int | None, batch_size: int, **options
    ) -> None:
        started = time.perf_counter()
        try:
            with file.open(encoding="utf-8") as lines:
                links = credit_links_parse(lines, max_capacity=max_capacity)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}.") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text ({exc.reason}); nothing was imported.") from None
        except CreditLinksInvalid as exc:
            for number, problem in exc.problems:
                self.stderr.write(f"{file}:{number}: {problem}")
            if exc.more:
                self.stderr.write(f"... and {exc.more} more bad line(s)")
            raise CommandError(f"{exc.code}: {exc.message}") from None
        parsed = time.perf_counter()
        try:
            report = trust_graph_import(slug=slug, links=links, create=create, batch_size=batch_size)
        except ApplicationError as exc:
            raise CommandError(f"{exc.code}: {exc.message} Nothing was imported.") from None
        done = time.perf_counter()

        created = " (created)" if report.community_created else ""
        self.stdout.write(f"Community {report.community.slug}{created}:")
        self.stdout.write(f"  {report.lines} link line(s) read, {report.duplicates} duplicate pair(s) merged")
        if max_capacity is not None:
            self.stdout.write(f"  {report.capped} capacity(ies) lowered to {format_amount(max_capacity)}")
        self.stdout.write(f"  {report.members} member(s) with accounts and {report.commons_lines} commons trustline(s)")
        self.stdout.write(f"  {report.trustlines} trustline(s)")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported in {done - started:.1f} s (reading {parsed - started:.1f} s, writing {done - parsed:.1f} s)."
            )
        )
