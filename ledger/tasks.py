"""Celery entry points of the ledger."""

from celery import shared_task

from ledger.services import archive, motions


@shared_task
def archive_live_segment(community_id: int) -> int | None:
    """Close the community's live segment if it is long enough; returns the archived segment."""
    return archive.archive_if_due(community_id=community_id)


@shared_task
def run_ticket(ticket_id: int) -> None:
    """Run a seconded audit or resolution (a no-op if it is not queued)."""
    motions.ticket_run(ticket_id=ticket_id)


@shared_task
def recover_tickets() -> list[int]:
    """Enqueue again the tickets no worker is running (their worker died); returns their ids."""
    return motions.tickets_recover()
