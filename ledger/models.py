"""The books of a community: a hash chain of sealed entries with their public records and receipts."""

from collections.abc import Iterator

from django.db import connection, models
from django.db.models import Q

from bank.models import Community, Member
from core.crypto import macs
from core.crypto.server import derived_key
from core.rows import insert_statement
from identity.models import IdentityKey
from trust.models import Account, Payment


class AccountKey(models.Model):
    """An account's receipt-signing key (ECDSA P-256), its private half sealed by the server."""

    account = models.OneToOneField(Account, on_delete=models.PROTECT, primary_key=True, related_name="signing_key")
    public_key = models.CharField(max_length=66, help_text="Compressed P-256 point, hex")
    sealed_private_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)


class SealingKey(models.Model):
    """The public half of a writer's ephemeral X25519 key; entries it sealed open with the ledger key."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    ephemeral_public_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)


def head_mac(community_id: int, next_receipt_id: int, ledger_hash: str, segment: int, live_length: int) -> str:
    """The MAC a head carries over its fields, keyed by the server: a head edited in the database fails it."""
    message = f"{community_id}|{next_receipt_id}|{ledger_hash}|{segment}|{live_length}".encode()
    return macs.mac_hex(derived_key("ledger-head"), message)


class HeadQuerySet(models.QuerySet):
    """Appends are the ledger's hot path: the head is read and written with plain statements."""

    FIELDS = ("next_receipt_id", "ledger_hash", "segment", "live_length", "mac")

    def lock(self, community_id: int) -> "Head | None":
        table, lock = connection.ops.quote_name(self.model._meta.db_table), ""
        if connection.features.has_select_for_update:
            lock = " FOR UPDATE"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(self.FIELDS)} FROM {table} WHERE community_id = %s{lock}", [community_id]
            )
            row = cursor.fetchone()
        return (
            None if row is None else self.model(community_id=community_id, **dict(zip(self.FIELDS, row, strict=True)))
        )

    def store(self, head: "Head") -> None:
        with connection.cursor() as cursor:
            cursor.execute(*self.store_statement(head))

    def store_statement(self, head: "Head") -> tuple[str, list]:
        table = connection.ops.quote_name(self.model._meta.db_table)
        assignments = ", ".join(f"{name} = %s" for name in self.FIELDS)
        return (
            f"UPDATE {table} SET {assignments} WHERE community_id = %s",
            [*(getattr(head, name) for name in self.FIELDS), head.community_id],
        )


class Head(models.Model):
    """Where a community's chain stands; appends lock this row. ``mac`` is the server's HMAC over it."""

    community = models.OneToOneField(Community, on_delete=models.PROTECT, primary_key=True, related_name="ledger_head")
    next_receipt_id = models.BigIntegerField(default=0)
    ledger_hash = models.CharField(max_length=64)
    segment = models.PositiveIntegerField(default=0, help_text="The live segment; archives close earlier ones")
    live_length = models.PositiveIntegerField(default=0, help_text="Entries in the live segment")
    mac = models.CharField(max_length=64)

    objects = HeadQuerySet.as_manager()


class EntryQuerySet(models.QuerySet):
    def stream(self, columns: tuple[str, ...], chunk: int = 5000) -> Iterator[tuple]:
        """This queryset's rows as tuples of ``columns`` in receipt order, for walks over whole chains.

        On PostgreSQL a server-side cursor in binary format (bytea and integers arrive without text
        parsing: the audit's reads cost a third less); elsewhere the ORM's iterator.
        """
        ordered = self.order_by("receipt_id")
        if connection.vendor != "postgresql":
            yield from ordered.values_list(*columns).iterator(chunk_size=chunk)
            return
        sql, params = ordered.values_list(*columns).query.sql_with_params()
        connection.ensure_connection()
        # Outside a transaction the cursor is held past its own (as Django's iterator does), so the
        # caller's other statements, such as an audit's progress, commit while it streams.
        hold = not connection.in_atomic_block
        with connection.connection.cursor(name=f"stream_{id(self)}", binary=True, withhold=hold) as cursor:
            cursor.itersize = chunk
            cursor.execute(sql, params)
            yield from cursor

    def append_rows(self, entries: list["Entry"], *, head: Head) -> None:
        """Insert new entries and store the head they moved, in plain statements; on PostgreSQL in one
        statement, one round trip under the lock."""
        insert, values = insert_statement(entries)
        update, head_values = Head.objects.store_statement(head)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"WITH moved_head AS ({update}) {insert}", [*head_values, *values])
            else:
                cursor.execute(insert, values)
                cursor.execute(update, head_values)


class Entry(models.Model):
    """One entry of the chain: its public record in the clear, the full entry sealed.

    ``source``/``destination``/``payment`` say whose receipts these are (the trust tables hold the
    same facts in the clear); the audit checks them against the sealed entry.
    """

    # What an entry records: a payment of one of trust's kinds (a paid request records as a payment),
    # a payment's tax and fees, or an archive of the segment before it.
    Type = models.TextChoices(
        "Type",
        [(kind.name, (kind.value, kind.label)) for kind in Payment.Kind if kind != Payment.Kind.REQUEST]
        + [("TAX", ("tax", "tax and fees")), ("ARCHIVE", ("archive", "Archive"))],
    )

    # Appends are the hot path: no index beyond the ones reads use (the unique receipt id per
    # community and the receipts of an account, newest first).
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", db_index=False)
    receipt_id = models.BigIntegerField()
    segment = models.PositiveIntegerField()
    record = models.TextField(help_text="TYPE|UTC|RECEIPT_ID|AMOUNT|LEDGER_HASH|RECEIPT_HASH")
    sealed = models.BinaryField()
    sealing_key = models.ForeignKey(SealingKey, on_delete=models.PROTECT, related_name="+", db_index=False)
    source = models.ForeignKey(
        Account, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    destination = models.ForeignKey(
        Account, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    member_signature = models.BinaryField(blank=True)
    server_signature = models.BinaryField(blank=True)
    receipt_key = models.ForeignKey(
        IdentityKey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        help_text="The identity key whose receipt key signed; empty: the account's own key (AccountKey)",
    )

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "entries"
        constraints = [models.UniqueConstraint(fields=["community", "receipt_id"], name="one_entry_per_receipt_id")]
        indexes = [
            models.Index(fields=["source", "-receipt_id"]),
            models.Index(fields=["destination", "-receipt_id"]),
        ]

    def __str__(self) -> str:
        return f"receipt {self.receipt_id}"


class Archive(models.Model):
    """A closed segment: its last hash, merkle root and state snapshot (sealed), and its hash."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    segment = models.PositiveIntegerField()
    first_receipt_id = models.BigIntegerField()
    last_receipt_id = models.BigIntegerField()
    ledger_hash = models.CharField(max_length=64, help_text="The chain at the segment's last entry")
    merkle_root = models.CharField(max_length=64)
    sealed_state = models.BinaryField(help_text="FIRST~SECOND:AMOUNT,... after the segment, sealed")
    sealing_key = models.ForeignKey(SealingKey, on_delete=models.PROTECT, related_name="+")
    archive_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "segment"], name="one_archive_per_segment")]


class Ticket(models.Model):
    """A motion (audit or resolve) that runs once a second member seconds it."""

    class Kind(models.TextChoices):
        AUDIT = "audit"
        RESOLVE = "resolve"

    class State(models.TextChoices):
        AWAITING_SECOND = "awaiting_second"
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.AWAITING_SECOND)
    requested_by = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    seconded_by = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    conflict = models.ForeignKey("Conflict", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    option = models.CharField(max_length=32, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done")
    entries_checked = models.BigIntegerField(default=0)
    report = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A running ticket belongs to the worker run that claimed it until its lease ends; the run renews
    # the lease as it progresses, so a lease that ends means the worker died and another takes over.
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs that claimed this ticket")
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="audit", conflict__isnull=True) | Q(kind="resolve", conflict__isnull=False),
                name="resolve_tickets_name_a_conflict",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.number}"


class Conflict(models.Model):
    """Something verification found wrong, with the ways it can be resolved."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    found_by = models.ForeignKey(Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="conflicts")
    receipt_id = models.BigIntegerField(null=True, blank=True, help_text="The entry it concerns, if one")
    code = models.CharField(max_length=32)
    description = models.TextField()
    options = models.JSONField(default=list, help_text='[{"id": ..., "description": ...}]')
    resolved_by = models.ForeignKey(Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
