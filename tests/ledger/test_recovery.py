"""Motions survive their worker: a run that died is taken over, a stray run changes nothing, admins retry."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bank.models import Member
from ledger import verification
from ledger.models import Conflict, Ticket
from ledger.services import motions
from ledger.tasks import recover_tickets
from tests.ledger.test_audit import books


@pytest.fixture
def queued(db) -> Ticket:
    """A seconded audit of a small community's books, not yet run by any worker."""
    community = books(payments=3)
    a, b = (Member.objects.get(community=community, handle=h) for h in "ab")
    ticket = motions.audit_request(member=a)
    motions.ticket_second(member=b, number=ticket.number)  # eager Celery would run it only on commit
    return Ticket.objects.get(pk=ticket.pk)


def died_mid_run(ticket: Ticket, *, lease_left: timedelta) -> Ticket:
    """The state a worker killed at 71% leaves behind."""
    Ticket.objects.filter(pk=ticket.pk).update(
        state=Ticket.State.RUNNING, attempts=1, progress=71, entries_checked=5, lease_until=timezone.now() + lease_left
    )
    return Ticket.objects.get(pk=ticket.pk)


def test_a_run_whose_worker_died_is_taken_over_and_finished(queued, django_capture_on_commit_callbacks):
    died_mid_run(queued, lease_left=-timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert recover_tickets() == [queued.pk]

    ticket = Ticket.objects.get(pk=queued.pk)
    assert ticket.state == Ticket.State.DONE and ticket.progress == 100 and ticket.attempts == 2
    assert ticket.report.startswith(f"{ticket.entries_checked} entries checked, 0 conflict(s)")
    assert ticket.lease_until is None


def test_a_run_under_a_live_lease_is_left_to_its_worker(queued, django_capture_on_commit_callbacks):
    died_mid_run(queued, lease_left=timedelta(seconds=30))

    with django_capture_on_commit_callbacks(execute=True):
        assert recover_tickets() == []
    motions.ticket_run(ticket_id=queued.pk)  # a duplicate delivery of its message

    ticket = Ticket.objects.get(pk=queued.pk)
    assert (ticket.state, ticket.progress, ticket.attempts) == (Ticket.State.RUNNING, 71, 1)


def test_a_queued_ticket_whose_message_was_lost_is_queued_again(queued, django_capture_on_commit_callbacks):
    Ticket.objects.filter(pk=queued.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert recover_tickets() == [queued.pk]

    assert Ticket.objects.get(pk=queued.pk).state == Ticket.State.DONE


def test_a_run_that_lost_its_lease_changes_nothing_more(queued, monkeypatch):
    """The first run stalls past its lease, a second takes over; the first's findings are never stored."""
    audit_itself = verification.audit

    def stalled_then_overtaken(community_id, progress):
        findings = audit_itself(community_id, progress=progress)
        Ticket.objects.filter(pk=queued.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
        monkeypatch.setattr(verification, "audit", audit_itself)
        motions.ticket_run(ticket_id=queued.pk)  # the run that takes over
        return [*findings, verification.Finding("record_mismatch", "seen by the stalled run only", 1)]

    monkeypatch.setattr(verification, "audit", stalled_then_overtaken)
    motions.ticket_run(ticket_id=queued.pk)

    ticket = Ticket.objects.get(pk=queued.pk)
    assert (ticket.state, ticket.attempts) == (Ticket.State.DONE, 2)
    assert not Conflict.objects.exists()


def test_a_failed_ticket_is_retried_by_an_admin(queued, monkeypatch, django_capture_on_commit_callbacks):
    def broken(community_id, progress):
        raise RuntimeError("disk full")

    monkeypatch.setattr(verification, "audit", broken)
    with pytest.raises(RuntimeError):
        motions.ticket_run(ticket_id=queued.pk)
    assert Ticket.objects.get(pk=queued.pk).state == Ticket.State.FAILED
    monkeypatch.undo()

    with django_capture_on_commit_callbacks(execute=True):
        motions.ticket_retry(ticket=queued)

    assert Ticket.objects.get(pk=queued.pk).state == Ticket.State.DONE


def test_a_ticket_a_worker_is_running_cannot_be_retried(queued):
    died_mid_run(queued, lease_left=timedelta(seconds=30))

    with pytest.raises(motions.ConflictError) as refused:
        motions.ticket_retry(ticket=queued)

    assert refused.value.code == "ticket_not_stuck"
    assert Ticket.objects.get(pk=queued.pk).state == Ticket.State.RUNNING


def test_the_admin_shows_a_stuck_ticket_and_retries_it(queued, admin_client, django_capture_on_commit_callbacks):
    died_mid_run(queued, lease_left=-timedelta(seconds=1))

    page = admin_client.get("/admin/ledger/ticket/").content.decode()
    assert "stuck: no worker holds it" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/ledger/ticket/", {"action": "retry", "_selected_action": [queued.pk]}, follow=True
        )

    assert "is queued again" in response.content.decode()
    assert Ticket.objects.get(pk=queued.pk).state == Ticket.State.DONE
