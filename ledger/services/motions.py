"""Motions on the books: audits and resolutions that run only once a second member seconds them,
and contests of receipts and public records.

A ticket is requested (``awaiting_second``), seconded by another active member of the same
community (``queued``; the task is enqueued after commit), claimed by one worker (``running``) and
finished (``done`` or ``failed``). Conflicts found carry the ways they may be resolved.

A worker may die at any point: a claimed ticket is held under a lease its run renews as it goes,
and beat's ``tickets_recover`` enqueues again any ticket whose lease ended (never claimed, or its
worker gone); the next run takes it over from the beginning. Admins retry failed tickets.
"""

import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from bank.models import Member
from core import jobs
from core.errors import ApplicationError, Forbidden, InvalidInput, NotFound
from core.errors import Conflict as ConflictError
from ledger import verification
from ledger.models import Conflict, Entry, Ticket

logger = logging.getLogger(__name__)

RESTORE_RECORD = {"id": "restore_record", "description": "Rewrite the public record from the sealed entry."}
ACKNOWLEDGE = {"id": "acknowledge", "description": "Record the conflict as reviewed; nothing is changed."}
RESTORABLE = {"record_mismatch"}
# What a contest finds about its own input rather than the books: refused, so junk stores no conflict.
NOT_IN_THE_BOOKS = {"receipt_malformed", "receipt_unknown", "record_unknown"}


def conflict_options(code: str) -> list[dict]:
    return [RESTORE_RECORD, ACKNOWLEDGE] if code in RESTORABLE else [ACKNOWLEDGE]


def _conflicts_save(
    community_id: int, findings: list[verification.Finding], ticket: Ticket | None = None
) -> list[Conflict]:
    return Conflict.objects.bulk_create(
        Conflict(
            community_id=community_id,
            found_by=ticket,
            receipt_id=f.receipt_id,
            code=f.code,
            description=f.description if f.segment is None else f"[segment {f.segment}] {f.description}",
            options=conflict_options(f.code),
        )
        for f in findings
    )


def _ticket_create(member: Member, kind: str, **fields) -> Ticket:
    return Ticket.objects.create(
        community_id=member.community_id, number=secrets.token_urlsafe(12), kind=kind, requested_by=member, **fields
    )


def audit_request(*, member: Member) -> Ticket:
    """A motion to audit the community's books; it runs once another member seconds it."""
    return _ticket_create(member, Ticket.Kind.AUDIT)


def resolve_request(*, member: Member, conflict_id: int, option_id: str) -> Ticket:
    conflict = Conflict.objects.filter(pk=conflict_id, community_id=member.community_id).first()
    if conflict is None:
        raise NotFound("There is no such conflict in this community.", code="conflict_not_found")
    if conflict.resolved_by_id is not None:
        raise ConflictError("This conflict is already resolved.", code="conflict_resolved")
    if option_id not in {option["id"] for option in conflict.options}:
        raise InvalidInput("option_id", [f"Not an option of this conflict: {option_id!r}."])
    return _ticket_create(member, Ticket.Kind.RESOLVE, conflict=conflict, option=option_id)


def _lease_end() -> datetime:
    return timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS)


def _queue(ticket_ids: list[int]) -> None:
    """Enqueue the tickets' runs after commit; a queued one must be claimed before its new lease ends.

    A running one keeps its lapsed lease: that is what lets the run take it over.
    """
    Ticket.objects.filter(pk__in=ticket_ids, state=Ticket.State.QUEUED).update(lease_until=_lease_end())
    for ticket_id in ticket_ids:
        jobs.enqueue_on_commit("ledger.tasks.run_ticket", ticket_id)


def ticket_second(*, member: Member, number: str) -> Ticket:
    """Second another member's ticket; the motion then runs (after commit) in a Celery task."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().filter(community_id=member.community_id, number=number).first()
        if ticket is None or not member.is_active:
            raise NotFound("There is no such ticket in this community.", code="ticket_not_found")
        if ticket.requested_by_id == member.pk:
            raise Forbidden("A motion needs a second member: you cannot second your own ticket.", code="own_ticket")
        if ticket.state != Ticket.State.AWAITING_SECOND:
            raise ConflictError("This ticket is already seconded.", code="already_seconded")
        ticket.seconded_by, ticket.state = member, Ticket.State.QUEUED
        ticket.save(update_fields=["seconded_by", "state"])
        _queue([ticket.pk])
    return ticket


def _stuck() -> Q:
    """Tickets no worker is running: queued and never claimed, or running under a lease its worker stopped renewing."""
    return Q(state__in=[Ticket.State.QUEUED, Ticket.State.RUNNING], lease_until__lt=timezone.now())


def tickets_recover() -> list[int]:
    """Enqueue again every stuck ticket (its message was lost, or its worker died); the run takes it over."""
    with transaction.atomic():
        stuck = list(Ticket.objects.filter(_stuck()).values_list("pk", flat=True))
        _queue(stuck)
    return stuck


@transaction.atomic
def ticket_retry(*, ticket: Ticket) -> Ticket:
    """An admin's retry of a failed or stuck ticket: queued again, to run from the beginning."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if not (ticket.state == Ticket.State.FAILED or Ticket.objects.filter(_stuck(), pk=ticket.pk).exists()):
        raise ConflictError(
            "Only a failed ticket, or one no worker is running, can be retried.", code="ticket_not_stuck"
        )
    ticket.state, ticket.report, ticket.finished_at = Ticket.State.QUEUED, "", None
    ticket.save(update_fields=["state", "report", "finished_at"])
    _queue([ticket.pk])
    return ticket


class LeaseLost(Exception):
    """This run's lease ended and another run took the ticket over: this one must change nothing more."""


def _held(ticket: Ticket) -> QuerySet[Ticket]:
    """The ticket, as long as this run (its claim's attempt) still holds it."""
    return Ticket.objects.filter(pk=ticket.pk, state=Ticket.State.RUNNING, attempts=ticket.attempts)


def _claim(ticket_id: int) -> Ticket | None:
    """Claim a queued ticket, or take over one whose run's lease ended, with one conditional update.

    Two workers never both hold a ticket; a run taken over restarts from the beginning (an audit
    only reads until it finishes, a resolution changes the books in its last transaction only).
    """
    claimable = Q(state=Ticket.State.QUEUED) | Q(state=Ticket.State.RUNNING, lease_until__lt=timezone.now())
    claimed = Ticket.objects.filter(claimable, pk=ticket_id).update(
        state=Ticket.State.RUNNING, attempts=F("attempts") + 1, lease_until=_lease_end(), progress=0, entries_checked=0
    )
    return Ticket.objects.select_related("conflict").get(pk=ticket_id) if claimed else None


def _finish(ticket: Ticket, report: str) -> None:
    """Mark the ticket done, in the transaction of the run's last changes; they roll back if the lease was lost."""
    done = _held(ticket).update(
        state=Ticket.State.DONE, progress=100, report=report, finished_at=timezone.now(), lease_until=None
    )
    if not done:
        raise LeaseLost


def ticket_run(*, ticket_id: int) -> None:
    """Run a queued ticket once, or take over a run whose worker died (see ``_claim``)."""
    ticket = _claim(ticket_id)
    if ticket is None:
        return
    try:
        if ticket.kind == Ticket.Kind.AUDIT:
            _audit_run(ticket)
        else:
            _resolve_run(ticket)
    except LeaseLost:
        logger.warning("ticket %s: run %s lost its lease to another run", ticket.pk, ticket.attempts)
    except Exception as exc:
        _held(ticket).update(state=Ticket.State.FAILED, report=repr(exc), finished_at=timezone.now(), lease_until=None)
        raise


def _audit_run(ticket: Ticket) -> None:
    def progress(checked: int, percent: int) -> None:
        # Outside any transaction: the admin page and the API see it while the audit runs.
        if not _held(ticket).update(entries_checked=checked, progress=min(percent, 99), lease_until=_lease_end()):
            raise LeaseLost

    findings = verification.audit(ticket.community_id, progress=progress)
    with transaction.atomic():
        _conflicts_save(ticket.community_id, findings, ticket)
        checked = Ticket.objects.values_list("entries_checked", flat=True).get(pk=ticket.pk)
        _finish(ticket, f"{checked} entries checked, {len(findings)} conflict(s) found.")


@transaction.atomic
def _resolve_run(ticket: Ticket) -> None:
    conflict = Conflict.objects.select_for_update().get(pk=ticket.conflict_id)
    if conflict.resolved_by_id is not None:
        return _finish(ticket, "The conflict was already resolved; nothing done.")
    report = f"Conflict {conflict.pk} acknowledged; nothing changed."
    if ticket.option == RESTORE_RECORD["id"]:
        report = _record_restore(ticket.community_id, conflict.receipt_id)
    conflict.resolved_by = ticket
    conflict.save(update_fields=["resolved_by"])
    _finish(ticket, report)


def _record_restore(community_id: int, receipt_id: int) -> str:
    entry = Entry.objects.select_for_update().get(community_id=community_id, receipt_id=receipt_id)
    opened = verification.opened_entry(community_id, receipt_id, entry.sealed, entry.sealing_key_id)
    if opened is None:
        raise ConflictError(
            "The sealed entry does not open; its record cannot be restored from it.", code="entry_sealed_invalid"
        )
    entry.record = opened.record()
    entry.save(update_fields=["record"])
    return f"Public record of receipt {receipt_id} restored from its sealed entry."


def contest(*, member: Member, receipt: verification.Receipt, other: verification.Receipt | int) -> list[Conflict]:
    """Check a receipt against another receipt or a public record (line n is receipt n - 1)."""
    community_id = member.community_id
    findings = verification.receipt_check(community_id, receipt)
    if isinstance(other, int):
        if other < 1:
            raise InvalidInput("other", ["Public record lines are numbered from 1."])
        findings += verification.record_check(community_id, other - 1)
    else:
        findings += verification.receipt_check(community_id, other)
        if receipt.receipt_id == other.receipt_id is not None and receipt != other:
            findings.append(
                verification.Finding(
                    "receipts_disagree", "Two receipts with the same receipt id differ.", receipt.receipt_id
                )
            )
    refused = next((finding for finding in findings if finding.code in NOT_IN_THE_BOOKS), None)
    if refused is not None:
        raise ApplicationError(f"{refused.description} There is nothing to contest.", code=refused.code)
    with transaction.atomic():
        return _conflicts_save(community_id, findings)
