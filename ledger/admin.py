"""The books in Django admin: the chain head, entries, and seconded motions with their progress."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from bank import selectors
from bank.admin import ReadOnlyAdmin, ReadOnlyInline
from bank.models import Community, Member
from core.errors import ApplicationError
from ledger.models import Conflict, Entry, Head, Ticket
from ledger.services import archive, motions


def _as_member(
    admin_: admin.ModelAdmin, request: HttpRequest, community: Community, act: Callable[[Member], str]
) -> None:
    """Run ``act`` as the signed-in login's own membership in ``community``; report the outcome."""
    member = selectors.membership_for_user(user=request.user, community=community)
    if member is None:
        admin_.message_user(request, f"{community}: you are not an active member of this community.", messages.ERROR)
        return
    try:
        admin_.message_user(request, f"{community}: {act(member)}", messages.SUCCESS)
    except ApplicationError as exc:
        admin_.message_user(request, f"{community}: {exc.message}", messages.ERROR)


@admin.register(Head)
class HeadAdmin(ReadOnlyAdmin):
    list_display = ["community", "segment", "next_receipt_id", "ledger_hash", "live_length"]
    fields = list_display
    readonly_fields = list_display
    list_select_related = ["community"]
    actions = ["request_audit", "archive_live_segment"]

    @admin.action(description="Request an audit of the selected communities' books (needs a second)")
    def request_audit(self, request: HttpRequest, queryset: QuerySet[Head]) -> None:
        for head in queryset:
            _as_member(
                self,
                request,
                head.community,
                lambda member: f"audit ticket {motions.audit_request(member=member).number} awaits a second member.",
            )

    @admin.action(description="Archive the live segment now")
    def archive_live_segment(self, request: HttpRequest, queryset: QuerySet[Head]) -> None:
        for head in queryset:
            segment = archive.archive_now(community_id=head.community_id)
            text = "the live segment is empty." if segment is None else f"segment {segment} archived."
            self.message_user(request, f"{head.community}: {text}", messages.SUCCESS)


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["receipt_id", "community", "segment", "record"]
    list_filter = [("community", admin.RelatedOnlyFieldListFilter)]
    fields = ["community", "receipt_id", "segment", "record", "payment"]
    readonly_fields = fields
    list_select_related = ["community"]
    search_fields = ["=receipt_id"]
    show_full_result_count = False  # counting millions of entries on every page is slow


class ConflictInline(ReadOnlyInline):
    model = Conflict
    fk_name = "found_by"
    fields = ["receipt_id", "code", "description", "resolved_by"]


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "community",
        "kind",
        "state",
        "worker",
        "percent",
        "entries_checked",
        "requested_by",
        "seconded_by",
        "created_at",
        "finished_at",
    ]
    list_filter = [("community", admin.RelatedOnlyFieldListFilter), "kind", "state"]
    fields = [
        "number",
        "community",
        "kind",
        "state",
        "worker",
        "percent",
        "entries_checked",
        "requested_by",
        "seconded_by",
        "conflict",
        "option",
        "report",
        "attempts",
        "lease_until",
        "created_at",
        "finished_at",
    ]
    readonly_fields = fields
    list_select_related = ["community", "requested_by", "seconded_by"]
    inlines = [ConflictInline]
    actions = ["second", "retry"]

    @admin.display(description="progress")
    def percent(self, ticket: Ticket) -> str:
        return f"{ticket.progress}%"

    @admin.display(description="worker")
    def worker(self, ticket: Ticket) -> str:
        if ticket.state not in (Ticket.State.QUEUED, Ticket.State.RUNNING):
            return "-"
        if ticket.lease_until and ticket.lease_until < timezone.now():
            return "stuck: no worker holds it (beat queues it again; or retry it)"
        return "waiting for a worker" if ticket.state == Ticket.State.QUEUED else f"run {ticket.attempts}"

    @admin.action(description="Retry the selected failed or stuck tickets")
    def retry(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        for ticket in queryset:
            try:
                motions.ticket_retry(ticket=ticket)
                self.message_user(request, f"ticket {ticket.number} is queued again.", messages.SUCCESS)
            except ApplicationError as exc:
                self.message_user(request, f"ticket {ticket.number}: {exc.message}", messages.ERROR)

    @admin.action(description="Second the selected tickets (as your membership in their community)")
    def second(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        for ticket in queryset.select_related("community"):
            _as_member(
                self,
                request,
                ticket.community,
                lambda member, number=ticket.number: (
                    f"ticket {motions.ticket_second(member=member, number=number).number} is seconded and queued."
                ),
            )


@admin.register(Conflict)
class ConflictAdmin(ReadOnlyAdmin):
    list_display = ["pk", "community", "receipt_id", "code", "description", "found_by", "resolved_by", "created_at"]
    list_filter = [("community", admin.RelatedOnlyFieldListFilter), "code", ("resolved_by", admin.EmptyFieldListFilter)]
    fields = ["community", "receipt_id", "code", "description", "options", "found_by", "resolved_by", "created_at"]
    readonly_fields = fields
    list_select_related = ["community", "found_by", "resolved_by"]
    actions = ["resolve_restore", "resolve_acknowledge"]

    def _resolve(self, request: HttpRequest, queryset: QuerySet[Conflict], option_id: str) -> None:
        for conflict in queryset.select_related("community"):
            _as_member(
                self,
                request,
                conflict.community,
                lambda member, pk=conflict.pk: (
                    "resolve ticket "
                    f"{motions.resolve_request(member=member, conflict_id=pk, option_id=option_id).number} "
                    f"for conflict {pk} awaits a second member."
                ),
            )

    @admin.action(description="Resolve: restore the record (needs a second)")
    def resolve_restore(self, request: HttpRequest, queryset: QuerySet[Conflict]) -> None:
        self._resolve(request, queryset, motions.RESTORE_RECORD["id"])

    @admin.action(description="Resolve: acknowledge (needs a second)")
    def resolve_acknowledge(self, request: HttpRequest, queryset: QuerySet[Conflict]) -> None:
        self._resolve(request, queryset, motions.ACKNOWLEDGE["id"])
