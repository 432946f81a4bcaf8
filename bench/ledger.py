"""Ledger benchmark: a full audit of a long chain against bare SHA-256 + AES-GCM over the same bytes.

    .venv/bin/python bench/ledger.py [--entries 1000000 --archive-length 100000]

Creates its own database (``trustbank_bench_<random>``) on the server of ``DATABASE_URL`` (default
postgres://postgres@127.0.0.1:5432/postgres) and drops it at the end.

The community is the settlement benchmark's (payers -> two layers of hubs -> payees, 1% tax).
The chain is built with ``ledger.services.append.append`` in batches of movements over its
trustlines (each signed, chained and sealed as a payment's legs are), archiving between batches,
and the trustlines' balances are moved by the same amounts at the end, so the books agree.
Then: ``ledger.verification.audit`` over the whole chain, in one process and then in as many as
``LEDGER_AUDIT_PROCESSES`` (the cores; chains longer than ``LEDGER_AUDIT_PROCESSES_ABOVE``); the
same entries' bare cost (one SHA-256 of each line and one AES-GCM open of each sealed entry, the
bytes read beforehand); and real 3-hop payments with the time spent in the ledger's ``record_payments`` receiver.
"""

import argparse
import os
import random
import secrets
import time
from collections import defaultdict

from common import setup_django
from settlement import DEFAULT_URL, SLUG, UNIT, accounts, admin_sql, build_community, with_database

TARGET = 3.0


def build_chain(*, entries: int, batch: int, seed: int) -> int:
    """Append ``entries`` movements over the community's trustlines; returns the community id."""
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from ledger.models import Entry
    from ledger.services.append import Movement, append
    from ledger.services.archive import archive_if_due
    from trust.models import Trustline

    lines = list(
        Trustline.objects.filter(community__slug=SLUG).values_list("pk", "low_id", "high_id", "limit_from_high")
    )
    community_id = Trustline.objects.filter(community__slug=SLUG).values_list("community_id", flat=True).first()
    rng = random.Random(seed)
    moved: dict[int, int] = defaultdict(int)  # trustline -> change of what high owes low
    done = 0
    while done < entries:
        movements = []
        for _ in range(min(batch, entries - done)):
            pk, low, high, from_high = rng.choice(lines)
            amount = rng.randint(1, 100_000)  # up to 0.1 unit: far inside every line's credit
            # Pay in the direction the line's credit allows: low pays high when high extends credit.
            source, destination = (low, high) if from_high else (high, low)
            moved[pk] += -amount if source == low else amount
            movements.append(Movement(Entry.Type.PAYMENT, source, destination, amount))
        with transaction.atomic():
            append(community_id, movements, at=timezone.now())
        done += len(movements)
        archive_if_due(community_id=community_id)
    with transaction.atomic():
        for pk, change in moved.items():
            Trustline.objects.filter(pk=pk).update(balance=F("balance") + change)
    return community_id


def bare_cost(community_id: int) -> tuple[float, int]:
    """Seconds for the hashing and decrypting the audit does, alone: per entry one AES-GCM open of
    its sealed bytes and one SHA-256 of each input the audit hashes (the chain link, and for
    entries with a receipt the receipt with its signatures), every input prepared beforehand."""
    import hashlib

    from core.crypto import sealing
    from ledger import crypto, formats
    from ledger.models import Entry
    from ledger.sealed import openers

    ciphers = openers(community_id)
    sealed, hashed, previous = [], [], formats.GENESIS
    rows = Entry.objects.filter(community_id=community_id).stream(
        ("receipt_id", "sealing_key_id", "sealed", "member_signature", "server_signature")
    )
    for receipt_id, key, entry_sealed, member_signature, server_signature in rows:  # not timed
        opening = (ciphers[key], bytes(entry_sealed), crypto.position(community_id, receipt_id))
        entry = formats.parse_entry(sealing.unseal(*opening).decode())
        sealed.append(opening)
        hashed.append(formats.chain_input(previous, *entry[:5], *entry[6:]))
        if entry.type != Entry.Type.ARCHIVE:
            hashed.append(formats.receipt_input(entry.receipt(previous), member_signature, server_signature))
        previous = entry.ledger_hash
    sha256, unseal = hashlib.sha256, sealing.unseal
    began = time.perf_counter()
    for data in hashed:
        sha256(data).digest()
    for cipher, data, associated in sealed:
        unseal(cipher, data, associated)
    return time.perf_counter() - began, len(sealed)


def payments_in_ledger(count: int) -> tuple[float, float, int]:
    """Send ``count`` payments; returns the seconds in all, the seconds in ``record_payments``, and entries."""
    from ledger.services.append import record_payments
    from trust.routing.graph import graph_for
    from trust.services.payments import payment_send
    from trust.signals import money_moved

    spent = {"seconds": 0.0, "entries": 0}

    def timed(**kwargs) -> None:
        began = time.perf_counter()
        record_payments(**kwargs)
        spent["seconds"] += time.perf_counter() - began
        spent["entries"] += sum(len(legs) for _, legs in kwargs["moved"])

    payers, payees = accounts("p"), accounts("q")
    graph_for(payers[0].community_id)  # loaded before the clock starts
    rng = random.Random(1)
    money_moved.disconnect(dispatch_uid="ledger.record_payments")
    money_moved.connect(timed, dispatch_uid="ledger.record_payments", weak=False)
    try:
        began = time.perf_counter()
        for _ in range(count):
            payment_send(payer=rng.choice(payers), payee=rng.choice(payees), amount=UNIT)
        total = time.perf_counter() - began
    finally:
        money_moved.disconnect(dispatch_uid="ledger.record_payments")
        money_moved.connect(record_payments, dispatch_uid="ledger.record_payments")
    return total, spent["seconds"], spent["entries"]


def us(seconds: float, count: int) -> str:
    return f"{seconds / max(count, 1) * 1e6:8.1f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--archive-length", type=int, default=100_000, help="entries per segment (as by default)")
    parser.add_argument("--batch", type=int, default=1_000, help="movements per append (one transaction)")
    parser.add_argument("--payments", type=int, default=500)
    parser.add_argument("--payers", type=int, default=128)
    parser.add_argument("--hubs", type=int, default=4)
    parser.add_argument("--payees", type=int, default=128)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("the ledger benchmark needs PostgreSQL: set DATABASE_URL or --database-url")

    os.environ["LEDGER_ARCHIVE_LENGTH"] = str(args.archive_length)
    os.environ.pop("REDIS_URL", None)  # eager Celery: an archive task runs here, at commit
    name = f"trustbank_bench_{secrets.token_hex(4)}"
    admin_sql(args.database_url, f'CREATE DATABASE "{name}"')
    try:
        setup_django(with_database(args.database_url, name))
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections

        from ledger.models import Archive, Head
        from ledger.replay import ledger_state, trustline_state
        from ledger.verification import audit

        call_command("migrate", verbosity=0)
        build_community(payers=args.payers, hubs=args.hubs, payees=args.payees)
        print(
            f"Ledger benchmark: {args.entries} entries, archives every {args.archive_length}; "
            f"{args.payers + 2 * args.hubs + args.payees} members"
        )
        began = time.perf_counter()
        community_id = build_chain(entries=args.entries, batch=args.batch, seed=1)
        built = time.perf_counter() - began
        head = Head.objects.get(community_id=community_id)
        archives = Archive.objects.filter(community_id=community_id).count()
        print(
            f"  built:    {built:8.1f} s ({us(built, args.entries)} per entry appended); "
            f"{head.next_receipt_id} entries, {archives} archives, live segment {head.live_length}"
        )
        assert ledger_state(community_id) == trustline_state(community_id), "the books disagree with the balances"

        audit_seconds = {}
        for processes in (1, settings.LEDGER_AUDIT_PROCESSES):
            settings.LEDGER_AUDIT_PROCESSES = processes
            began = time.perf_counter()
            findings = audit(community_id)
            audit_seconds[processes] = seconds = time.perf_counter() - began
            print(
                f"  audit:    {seconds:8.1f} s ({us(seconds, head.next_receipt_id)} per entry) "
                f"in {processes} process{'es' if processes > 1 else ''}, {len(findings)} findings"
            )
            for finding in findings[:5]:
                print(f"    {finding}")
        audited = audit_seconds[processes]  # as the platform runs it

        baseline, count = bare_cost(community_id)
        print(
            f"  baseline: {baseline:8.1f} s ({us(baseline, count)} per entry): "
            "the same SHA-256 inputs and AES-GCM opens alone"
        )
        ratio = audited / baseline
        # The MULTIPLICATION SIGN is meant (RUF001): the ratio reads as so many times the baseline.
        print(f"  ratio:    {ratio:8.1f}× (target ≤ {TARGET:.0f}×: {'yes' if ratio <= TARGET else 'NO'})")  # noqa: RUF001

        total, in_ledger, entries = payments_in_ledger(args.payments)
        print(
            f"  payments: {args.payments} 3-hop with 1% tax, {us(total, args.payments)} each; in record_payments "
            f"{us(in_ledger, args.payments)} per payment, {us(in_ledger, entries)} per entry "
            f"({entries} entries, {in_ledger / total:.0%} of the payment time)"
        )
        assert ledger_state(community_id) == trustline_state(community_id), "payments broke the books"
        connections.close_all()
    finally:
        admin_sql(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
