"""Every settled payment lands in the community's chain, one entry per leg, in the same transaction."""

from decimal import Decimal

import pytest
from django.test import override_settings

from ledger import formats
from ledger.models import Archive, Entry, Head
from ledger.replay import ledger_state, trustline_state
from ledger.services.archive import archive_now
from tests.trust.factories import community_with_commons, member_account, trust
from trust.services.payments import payment_change_status, payment_send

UNIT = 1_000_000


@pytest.fixture
def chain(db):
    community = community_with_commons(minimum_trust_index=Decimal("0.01"))
    a, b, c = (member_account(community, handle) for handle in "abc")
    trust(b, a, 10 * UNIT)
    trust(c, b, 10 * UNIT)
    return community, a, b, c


def test_a_routed_payment_is_one_entry_per_leg_chained_from_genesis(chain):
    community, a, _, c = chain
    payment = payment_send(payer=a, payee=c, amount=2 * UNIT)
    entries = list(Entry.objects.filter(community=community).order_by("receipt_id"))
    assert [e.receipt_id for e in entries] == list(range(payment.legs.count()))
    assert {e.record.split("|")[0] for e in entries} == {"payment", "tax"}
    head = Head.objects.get(community=community)
    assert head.next_receipt_id == len(entries) and head.ledger_hash == entries[-1].record.split("|")[4]
    assert ledger_state(community.pk) == trustline_state(community.pk) != {}


def test_refunds_and_archives_keep_the_books_equal_to_the_balances(chain):
    community, a, _, c = chain
    payment = payment_send(payer=a, payee=c, amount=3 * UNIT)
    payment_change_status(payment=payment, account=c, action="accept")
    assert archive_now(community_id=community.pk) == 0
    payment_change_status(payment=payment, account=c, action="refund")
    archive = Archive.objects.get(community=community, segment=0)
    assert archive.last_receipt_id - archive.first_receipt_id + 1 == payment.legs.count()
    opening = Entry.objects.get(community=community, receipt_id=archive.last_receipt_id + 1)
    assert (
        opening.segment == 1 and opening.record.startswith("archive|") and opening.record.endswith(archive.archive_hash)
    )
    assert ledger_state(community.pk) == trustline_state(community.pk)


@override_settings(LEDGER_ARCHIVE_LENGTH=4)
def test_a_long_live_segment_is_archived_by_the_task(chain, django_capture_on_commit_callbacks):
    community, a, _, c = chain
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):  # eager Celery: archived on commit
            payment_send(payer=a, payee=c, amount=UNIT)
    assert Archive.objects.filter(community=community).exists()
    assert ledger_state(community.pk) == trustline_state(community.pk)


def test_an_entry_opens_only_with_the_ledger_key(chain):
    community, a, _, c = chain
    payment_send(payer=a, payee=c, amount=UNIT)
    entry = Entry.objects.filter(community=community).first()
    sealed = bytes(entry.sealed)
    assert b"a@" not in sealed and formats.amount_text(UNIT).encode() not in sealed
