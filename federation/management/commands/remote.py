"""``python manage.py remote add|remove|update|show``: the known peer instances, as Zold's command has them."""

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from federation.models import Remote
from federation.services import remotes


class Command(BaseCommand):
    help = "Manage the remotes: the peer instances this one knows and ranks by score."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("add", help="fetch, verify and pin a peer's document, then PING it").add_argument(
            "address", help="HOST[:PORT] of the peer's web server"
        )
        actions.add_parser("remove", help="forget a remote").add_argument("address", help="HOST[:PORT]")
        actions.add_parser("update", help="PING every remote, drop the failing, add the ones they have seen")
        actions.add_parser("show", help="the remotes, best score first")

    def handle(self, *args, action: str, address: str | None = None, **options) -> None:
        try:
            if action == "add":
                remote = remotes.remote_add(address=address)
                self.stdout.write(f"added {remote.address} ({remote.name}), score {remote.score}")
            elif action == "remove":
                remotes.remote_remove(address=address)
                self.stdout.write(f"removed {address}")
            elif action == "update":
                update = remotes.remote_update()
                for word, addresses in (
                    ("refreshed", update.refreshed),
                    ("failed", update.failed),
                    ("dropped", update.dropped),
                    ("added", update.added),
                ):
                    self.stdout.write(f"{word}: {', '.join(addresses) or '-'}")
            else:
                self._show()
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

    def _show(self) -> None:
        rows = [("remote", "score", "last seen", "failures", "name")]
        for remote in Remote.objects.order_by("-score", "host"):
            seen = remote.last_seen.strftime("%Y-%m-%d %H:%M:%S") if remote.last_seen else "never"
            rows.append((remote.address, str(remote.score), seen, str(remote.failures), remote.name))
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
