"""``python manage.py verify_receipts receipts.json [--records records.txt]``: ``ledger.offline`` on a download.

Without ``--records`` the public records come from this instance's database (the community the file names).
"""

import json

from django.core.management.base import BaseCommand, CommandError

from bank.selectors import community_get_by_slug
from ledger import offline, selectors


class Command(BaseCommand):
    help = "Verify downloaded signed receipts against the public records."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="receipts.json as downloaded from /c/<slug>/receipts.json")
        parser.add_argument("--records", help="records.txt as downloaded from /c/<slug>/public/records.txt")

    def handle(self, *args, file: str, records: str | None, **options) -> None:
        with open(file, encoding="utf-8") as handle:
            document = json.load(handle)
        if records:
            with open(records, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        else:
            community = community_get_by_slug(slug=str(document.get("community", "")))
            if community is None:
                raise CommandError(f"There is no community {document.get('community')!r} here; pass --records.")
            lines = list(selectors.records_lines(community=community))
        if offline.report(*offline.verify(document, lines), out=self.stdout):
            raise CommandError("Some receipts do not verify.")
