"""A running audit's progress is visible to others (the API, the admin page) while it runs."""

import psycopg
import pytest
from django.db import connection

from bank.models import Member
from ledger import verification
from ledger.models import Entry, Ticket
from ledger.services import motions
from tests.ledger.test_audit import books

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_progress_commits_while_the_audit_streams(monkeypatch):
    community = books(payments=3)
    a, b = (Member.objects.get(community=community, handle=h) for h in "ab")
    ticket = motions.audit_request(member=a)
    Ticket.objects.filter(pk=ticket.pk).update(seconded_by=b, state=Ticket.State.QUEUED)
    monkeypatch.setattr(verification, "PROGRESS_EVERY", 2)
    seen_from_outside = []
    settings = connection.settings_dict
    outside = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    )
    audit_itself = verification.audit

    def audit_watched(community_id, progress):
        def watched(checked, percent):
            progress(checked, percent)
            row = outside.execute("SELECT entries_checked FROM ledger_ticket WHERE id = %s", [ticket.pk]).fetchone()
            seen_from_outside.append((checked, row[0]))

        return audit_itself(community_id, progress=watched)

    monkeypatch.setattr(verification, "audit", audit_watched)
    try:
        motions.ticket_run(ticket_id=ticket.pk)
    finally:
        outside.close()

    total = Entry.objects.filter(community=community).count()
    mid_run = [(checked, seen) for checked, seen in seen_from_outside if checked < total]
    assert mid_run and all(checked == seen for checked, seen in mid_run)
    assert Ticket.objects.get(pk=ticket.pk).state == Ticket.State.DONE
