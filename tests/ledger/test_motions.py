"""Audits and resolutions run only when a second member of the same community seconds them."""

import pytest
from django.urls import reverse

from bank.models import Member
from ledger.models import Conflict, Entry, Ticket
from ledger.services import motions
from ledger.verification import audit
from tests.conftest import token_client
from tests.factories import CommunityFactory, MemberFactory
from tests.ledger.test_audit import books, flipped, receipt_of


@pytest.fixture
def setup(db):
    community = books(payments=2)
    a, b = (Member.objects.get(community=community, handle=h) for h in "ab")
    return community, a, b


def api(member, path: str, data: dict | None = None):
    client = token_client(member)
    url = f"/c/{member.community.slug}/api/ledger/{path}"
    return client.get(url) if data is None else client.post(url, data, format="json")


def second(member, ticket: str, capture):
    with capture(execute=True):  # eager Celery: the ticket runs on commit
        return api(member, "second", {"ticket": ticket})


def tamper_record(community, receipt_id: int) -> str:
    entry = Entry.objects.get(community=community, receipt_id=receipt_id)
    Entry.objects.filter(pk=entry.pk).update(record=flipped(entry.record, 3))
    return entry.record


def test_an_audit_does_not_run_without_a_second(setup, django_capture_on_commit_callbacks):
    _, a, _ = setup
    with django_capture_on_commit_callbacks(execute=True):
        response = api(a, "audit", {})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "audit" and body["state"] == "awaiting_second"
    ticket = api(a, f"tickets/{body['ticket']}").json()
    assert ticket["state"] == "awaiting_second" and ticket["progress"] == {"percent": 0, "entries_checked": 0}
    motions.ticket_run(ticket_id=Ticket.objects.get(number=body["ticket"]).pk)  # a stray worker does nothing
    assert Ticket.objects.get(number=body["ticket"]).state == "awaiting_second"


def test_nobody_seconds_their_own_ticket(setup, django_capture_on_commit_callbacks):
    _, a, _ = setup
    number = api(a, "audit", {}).json()["ticket"]
    response = second(a, number, django_capture_on_commit_callbacks)
    assert response.status_code == 403 and response.json()["error"]["code"] == "own_ticket"
    assert Ticket.objects.get(number=number).state == "awaiting_second"


def test_a_member_of_another_community_cannot_see_or_second_a_ticket(setup, django_capture_on_commit_callbacks):
    _, a, _ = setup
    outsider = MemberFactory(community=CommunityFactory(), handle="outsider")
    number = api(a, "audit", {}).json()["ticket"]
    response = second(outsider, number, django_capture_on_commit_callbacks)
    assert response.status_code == 404 and response.json()["error"]["code"] == "ticket_not_found"
    assert api(outsider, f"tickets/{number}").status_code == 404
    assert Ticket.objects.get(number=number).state == "awaiting_second"


def test_a_seconded_audit_runs_to_100_percent_and_lists_conflicts(setup, django_capture_on_commit_callbacks):
    community, a, b = setup
    tamper_record(community, 2)
    number = api(a, "audit", {}).json()["ticket"]
    response = second(b, number, django_capture_on_commit_callbacks)
    assert response.status_code == 200, response.content
    body = api(a, f"tickets/{number}").json()
    assert body["state"] == "done" and body["progress"] == {
        "percent": 100,
        "entries_checked": Entry.objects.filter(community=community).count(),
    }
    [conflict] = body["conflicts"]
    assert conflict["receipt_id"] == 2 and conflict["code"] == "record_mismatch" and not conflict["resolved"]
    assert [o["id"] for o in conflict["options"]] == ["restore_record", "acknowledge"]
    again = second(b, number, django_capture_on_commit_callbacks)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_seconded"


def test_a_seconded_restore_repairs_the_record_and_a_new_audit_is_clean(setup, django_capture_on_commit_callbacks):
    community, a, b = setup
    original = tamper_record(community, 1)
    audit_ticket = motions.audit_request(member=a)
    with django_capture_on_commit_callbacks(execute=True):
        motions.ticket_second(member=b, number=audit_ticket.number)
    conflict = Conflict.objects.get(found_by=audit_ticket)

    response = api(b, "resolve", {"conflict_id": conflict.pk, "option_id": "restore_record"})
    assert response.status_code == 201 and response.json()["state"] == "awaiting_second"
    number = response.json()["ticket"]
    assert Entry.objects.get(community=community, receipt_id=1).record != original  # not without a second
    assert second(b, number, django_capture_on_commit_callbacks).status_code == 403
    assert second(a, number, django_capture_on_commit_callbacks).status_code == 200
    assert api(b, f"tickets/{number}").json()["state"] == "done"

    assert Entry.objects.get(community=community, receipt_id=1).record == original
    conflict.refresh_from_db()
    assert conflict.resolved_by.number == number
    assert audit(community.pk) == []
    assert (
        api(a, "resolve", {"conflict_id": conflict.pk, "option_id": "acknowledge"}).json()["error"]["code"]
        == "conflict_resolved"
    )


def test_resolve_refuses_unknown_options_and_other_communities_conflicts(setup, world):
    community, a, _ = setup
    conflict = Conflict.objects.create(
        community=community, code="chain_broken", description="x", options=motions.conflict_options("chain_broken")
    )
    assert api(a, "resolve", {"conflict_id": conflict.pk, "option_id": "restore_record"}).status_code == 400
    response = api(world.a.member, "resolve", {"conflict_id": conflict.pk, "option_id": "acknowledge"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "conflict_not_found"


def receipt_json(receipt) -> dict:
    return {
        "text": receipt.text,
        "member_signature": receipt.member_signature.hex(),
        "server_signature": receipt.server_signature.hex(),
    }


def true_receipt(community):
    entry = Entry.objects.filter(community=community).exclude(member_signature=b"").order_by("-receipt_id").first()
    return entry, receipt_of(entry)


def test_contest_of_true_receipts_and_records_finds_nothing(setup):
    community, a, _ = setup
    entry, receipt = true_receipt(community)
    response = api(a, "contest", {"receipt": receipt_json(receipt), "other": entry.receipt_id + 1})
    assert response.status_code == 200 and response.json() == {"conflicts": []}


def test_contest_with_a_forged_receipt_returns_conflicts_with_options(setup):
    community, a, _ = setup
    entry, receipt = true_receipt(community)
    forged = receipt_json(receipt) | {"text": receipt.text.replace("|0.", "|9.", 1)}
    response = api(a, "contest", {"receipt": receipt_json(receipt), "other": forged})
    codes = {c["code"] for c in response.json()["conflicts"]}
    assert response.status_code == 200
    assert {
        "member_signature_invalid",
        "server_signature_invalid",
        "receipt_not_in_ledger",
        "receipts_disagree",
    } <= codes
    assert all(c["receipt_id"] == entry.receipt_id and c["options"] for c in response.json()["conflicts"])
    assert Conflict.objects.filter(community=community, code="receipts_disagree").exists()


def test_contest_against_a_changed_public_record(setup):
    community, a, _ = setup
    entry, receipt = true_receipt(community)
    tamper_record(community, entry.receipt_id)
    response = api(a, "contest", {"receipt": receipt_json(receipt), "other": entry.receipt_id + 1})
    [conflict] = response.json()["conflicts"]
    assert conflict["code"] == "record_mismatch" and conflict["options"][0]["id"] == "restore_record"


@pytest.mark.parametrize("other", [0, -3, True, "12", {"text": "x"}])
def test_contest_rejects_bad_input(setup, other):
    community, a, _ = setup
    _, receipt = true_receipt(community)
    response = api(a, "contest", {"receipt": receipt_json(receipt), "other": other})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_input"


# --- Django admin -------------------------------------------------------------------------------


def admin_action(client, model: str, action: str, *objects):
    return client.post(
        reverse(f"admin:ledger_{model}_changelist"),
        {"action": action, "_selected_action": [str(obj.pk) for obj in objects]},
        follow=True,
    )


def test_an_admin_requests_seconds_and_watches_an_audit_in_django_admin(
    setup, client, django_capture_on_commit_callbacks
):
    community, a, b = setup
    Member.objects.filter(pk=a.pk).update(role=Member.Role.ADMIN)
    client.force_login(a.user)
    tamper_record(community, 0)

    admin_action(client, "head", "request_audit", community.ledger_head)
    own = Ticket.objects.get(community=community, requested_by=a)
    assert own.state == "awaiting_second"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_action(client, "ticket", "second", own)
    assert "cannot second your own ticket" in response.content.decode()
    assert Ticket.objects.get(pk=own.pk).state == "awaiting_second"

    number = api(b, "audit", {}).json()["ticket"]
    ticket = Ticket.objects.get(number=number)
    with django_capture_on_commit_callbacks(execute=True):
        admin_action(client, "ticket", "second", ticket)
    ticket.refresh_from_db()
    assert ticket.state == "done" and ticket.seconded_by == a
    checked = Entry.objects.filter(community=community).count()
    changelist = client.get(reverse("admin:ledger_ticket_changelist")).content.decode()
    assert "100%" in changelist and f">{checked}<" in changelist
    page = client.get(reverse("admin:ledger_ticket_change", args=[ticket.pk])).content.decode()
    assert "100%" in page and "record_mismatch" in page

    conflict = Conflict.objects.get(found_by=ticket)
    admin_action(client, "conflict", "resolve_restore", conflict)
    resolve = Ticket.objects.get(conflict=conflict)
    assert (resolve.kind, resolve.option, resolve.state) == ("resolve", "restore_record", "awaiting_second")


def test_admins_of_another_community_do_not_see_its_tickets(setup, client, world):
    _, a, _ = setup
    motions.audit_request(member=a)
    client.force_login(world.a.admin.user)
    response = client.get(reverse("admin:ledger_ticket_changelist"))
    assert response.status_code == 200 and "0 tickets" in response.content.decode()
