from collections.abc import Iterable
from datetime import datetime

from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from bank.models import Community, Member


def capacity(*, limit_from_receiver: int, owed_by_receiver: int, held_by_sender: int = 0) -> int:
    """How much a sender can pay a receiver over their trustline.

    The credit the receiver extends to the sender plus what the receiver already owes the sender, less
    what the sender has promised the receiver in payments in flight (holds of federated payments).
    Routing and settlement both use this one function, so they can never disagree.
    """
    return max(0, limit_from_receiver + owed_by_receiver - held_by_sender)


# The commons' name wherever accounts are named (no member may take it as a handle).
COMMONS_NAME = "commons"


class Account(models.Model):
    """An endpoint of trustlines: a member, the community's commons (which receives the tax), or an account
    on another instance (``address``, ``handle@host``) that members here hold trustlines with.

    A remote account is this instance's copy of the other side of those lines: it pays and is paid over
    them through the federation protocol, and never relays a payment between two accounts here.
    """

    class Kind(models.TextChoices):
        MEMBER = "member"
        COMMONS = "commons"
        REMOTE = "remote"

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MEMBER)
    member = models.OneToOneField(Member, on_delete=models.PROTECT, null=True, blank=True, related_name="account")
    address = models.CharField(max_length=80, blank=True, help_text="A remote account's handle@host.")
    trust_index_ppm = models.PositiveIntegerField(
        null=True, blank=True, help_text="The member's own tax rate in millionths; empty means the community minimum."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["community"], condition=Q(kind="commons"), name="one_commons_per_community"
            ),
            models.CheckConstraint(
                condition=Q(kind="commons", member__isnull=True, address="")
                | Q(kind="member", member__isnull=False, address="")
                | (Q(kind="remote", member__isnull=True) & ~Q(address="")),
                name="account_kind_matches_member",
            ),
            models.UniqueConstraint(
                fields=["community", "address"], condition=Q(kind="remote"), name="one_remote_account_per_address"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        if self.kind == self.Kind.REMOTE:
            return self.address
        return self.member.handle if self.member_id else COMMONS_NAME


class TrustlineQuerySet(models.QuerySet):
    """The two statements of settlement's hot path, in plain SQL: the ORM's OR-of-pairs filter and
    ``bulk_update`` cost more Python time than the database spends on them."""

    def lock_pairs(self, *, community_id: int, pairs: Iterable[tuple[int, int]]) -> list["Trustline"]:
        """The trustlines of these ``(low, high)`` pairs, locked for update in primary-key order."""
        pairs = list(pairs)
        table = connection.ops.quote_name(self.model._meta.db_table)
        row_values = ", ".join(["(%s, %s)"] * len(pairs))
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        sql = f"SELECT * FROM {table} WHERE community_id = %s AND (low_id, high_id) IN ({row_values}) ORDER BY id{lock}"
        return list(self.raw(sql, [community_id, *(value for pair in pairs for value in pair)]))

    def shift_balances(self, changes: dict[int, int], *, at: datetime) -> None:
        """Add each change to its line's balance (``{line id: change}``) and stamp the lines, in one statement."""
        table = connection.ops.quote_name(self.model._meta.db_table)
        cases = " ".join(["WHEN %s THEN %s"] * len(changes))
        ids = ", ".join(["%s"] * len(changes))
        sql = f"UPDATE {table} SET balance = balance + CASE id {cases} END, updated_at = %s WHERE id IN ({ids})"
        params = [value for item in changes.items() for value in item] + [at, *changes]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


class Trustline(models.Model):
    """Mutual credit between two accounts of a community, stored once with ``low.pk < high.pk``.

    ``balance`` is what ``high`` owes ``low`` (negative: ``low`` owes ``high``). Each side sets the
    credit it extends: ``limit_from_low`` is how much ``high`` may come to owe ``low``.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="trustlines")
    low = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    high = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    limit_from_low = models.BigIntegerField(default=0)
    limit_from_high = models.BigIntegerField(default=0)
    balance = models.BigIntegerField(default=0)
    held_from_low = models.BigIntegerField(default=0, help_text="What low has promised high in payments in flight")
    held_from_high = models.BigIntegerField(default=0, help_text="What high has promised low in payments in flight")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(default=timezone.now, help_text="Routing graphs sync on this")
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Removed by a side; kept for its history")

    objects = TrustlineQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["low", "high"], name="one_trustline_per_pair"),
            models.CheckConstraint(condition=Q(low__lt=models.F("high")), name="trustline_ordered_pair"),
            models.CheckConstraint(
                condition=Q(limit_from_low__gte=0, limit_from_high__gte=0), name="trustline_limits_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(held_from_low__gte=0, held_from_high__gte=0), name="trustline_holds_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["community", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.low_id}~{self.high_id}"

    def other(self, account_id: int) -> int:
        return self.high_id if account_id == self.low_id else self.low_id

    def capacity_from(self, sender_id: int) -> int:
        if sender_id == self.low_id:
            limit, owed, held = self.limit_from_high, self.balance, self.held_from_low
        else:
            limit, owed, held = self.limit_from_low, -self.balance, self.held_from_high
        return capacity(limit_from_receiver=limit, owed_by_receiver=owed, held_by_sender=held)

    def move(self, sender_id: int, amount: int) -> None:
        """Shift ``amount`` from the sender to the other side (no check: settlement checks under lock)."""
        self.balance += -amount if sender_id == self.low_id else amount

    def owed_to(self, account_id: int) -> int:
        """What the other side owes ``account_id`` (negative: what it owes the other side)."""
        return self.balance if account_id == self.low_id else -self.balance

    def limit_extended_by(self, account_id: int) -> int:
        return self.limit_from_low if account_id == self.low_id else self.limit_from_high


class Payment(models.Model):
    EXPIRED = "expired"  # the cancel_reason of a request its deadline cancelled

    class Kind(models.TextChoices):
        PAYMENT = "payment"
        REQUEST = "request", "payment request"
        INCOME = "income", "basic income"
        RETURN = "return", "declined payment returned"
        REFUND = "refund"

    class State(models.TextChoices):
        PENDING = "pending"
        ROUTED = "routed"
        PREPARED = "prepared"
        COMMITTED = "committed"
        SEALED = "sealed"
        FINALIZED = "finalized"
        CANCELLED = "cancelled"

    class PayerStatus(models.IntegerChoices):  # Civil Money byte values
        NOT_SET = 0, "NotSet"
        ACCEPT = 1, "Accept"
        DISPUTE = 2, "Dispute"
        CANCEL = 3, "Cancel"

    class PayeeStatus(models.IntegerChoices):
        NOT_SET = 0, "NotSet"
        DECLINE = 1, "Decline"
        ACCEPT = 2, "Accept"
        REFUND = 3, "Refund"

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PAYMENT)
    payer = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payments_out")
    payee = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payments_in")
    amount = models.BigIntegerField()
    tax = models.BigIntegerField(default=0)
    fees = models.BigIntegerField(default=0)
    memo = models.CharField(max_length=255, blank=True)
    tag = models.CharField(max_length=48, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    cancel_reason = models.CharField(max_length=255, blank=True)
    payer_status = models.PositiveSmallIntegerField(choices=PayerStatus.choices, default=PayerStatus.ACCEPT)
    payee_status = models.PositiveSmallIntegerField(choices=PayeeStatus.choices, default=PayeeStatus.NOT_SET)
    hashlock = models.CharField(max_length=64, help_text="SHA-256 of the payee side's preimage, hex")
    preimage = models.CharField(max_length=64, blank=True, help_text="Revealed by the payee side at settlement")
    deadline = models.DateTimeField(null=True, blank=True)
    related = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="followups",
        help_text="The payment a return or refund gives back.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["payer", "-created_at"]),
            models.Index(fields=["payee", "-created_at"]),
            models.Index(fields=["state", "deadline"]),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"Payment {self.pk} {self.payer} -> {self.payee}"


class PaymentLeg(models.Model):
    """One movement of value over one trustline, as part of a payment."""

    class Purpose(models.TextChoices):
        PAYMENT = "payment"
        TAX = "tax", "tax and fees"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="legs")
    trustline = models.ForeignKey(Trustline, on_delete=models.PROTECT, related_name="legs")
    sender = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="legs_out")
    receiver = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="legs_in")
    amount = models.BigIntegerField()
    purpose = models.CharField(max_length=8, choices=Purpose.choices, default=Purpose.PAYMENT)
    path = models.PositiveSmallIntegerField(help_text="Which of the payment's paths")
    hop = models.PositiveSmallIntegerField(help_text="Position on the path, from the payer")

    class Meta:
        ordering = ["payment", "purpose", "path", "hop"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="leg_amount_positive")]


class SettlementRequestQuerySet(models.QuerySet):
    """The queue's statements on settlement's hot path, in plain SQL (the ORM compiles more than they cost)."""

    COLUMNS = ("id", "payer_id", "payee_id", "amount", "memo", "tag", "tax", "fees", "legs", "key", "created_at")

    def queued(self, community_id: int, *, limit: int) -> list["SettlementRequest"]:
        """The community's queued requests, oldest first, locked for the batch that takes them: a request
        withdrawn meanwhile (its caller's wait failed) waits for the batch and then finds it settled, instead
        of being deleted under it while its payment is settled."""
        with connection.cursor() as cursor:
            cursor.execute(self._queued_sql(), [community_id, self.model.State.QUEUED, limit])
            return self._requests(community_id, cursor.fetchall())

    def _queued_sql(self) -> str:
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(self.COLUMNS)
        return f"SELECT {columns} FROM {table} WHERE community_id = %s AND state = %s ORDER BY id LIMIT %s FOR UPDATE"

    def _requests(self, community_id: int, rows: list[tuple]) -> list["SettlementRequest"]:
        legs_field = self.model._meta.get_field("legs")
        requests = []
        for row in rows:
            values = dict(zip(self.COLUMNS, row, strict=True))
            values["legs"] = legs_field.from_db_value(values["legs"], None, connection)
            request = self.model(community_id=community_id, state=self.model.State.QUEUED, **values)
            request._state.adding = False
            requests.append(request)
        return requests

    def outcome(self, pk: int) -> tuple[str, int | None] | None:
        """``(state, payment id)`` of one request, or None when there is no such row."""
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT state, payment_id FROM {table} WHERE id = %s", [pk])
            return cursor.fetchone()

    def record_outcomes(self, requests: list["SettlementRequest"]) -> None:
        """Store each request's state and payment, in one statement."""
        table = connection.ops.quote_name(self.model._meta.db_table)
        cases = " ".join(["WHEN %s THEN %s"] * len(requests))
        ids = ", ".join(["%s"] * len(requests))
        sql = (
            f"UPDATE {table} SET state = CASE id {cases} END, payment_id = CAST(CASE id {cases} END AS BIGINT) "
            f"WHERE id IN ({ids})"
        )
        params = [value for request in requests for value in (request.pk, request.state)]
        params += [value for request in requests for value in (request.pk, request.payment_id)]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *(request.pk for request in requests)])


class SettlementRequest(models.Model):
    """A planned payment on its way through its community's settlement batches (``trust.services.batches``).

    A request that finds its community's batch under way commits its row as ``queued``; whoever
    settles the next batch takes every queued row, so the rows are the queue between processes and
    outlive any of them. ``key`` names an idempotent API request: its retry finds the row, and the
    payment, rather than paying again.
    """

    class State(models.TextChoices):
        QUEUED = "queued"
        SETTLED = "settled"
        STALE = "stale", "refused: a leg lacked capacity"

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    payer = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    payee = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    memo = models.CharField(max_length=255, blank=True)
    tag = models.CharField(max_length=48, blank=True)
    tax = models.BigIntegerField(default=0)
    fees = models.BigIntegerField(default=0)
    legs = models.JSONField(help_text="The plan's legs: [purpose, path, hop, sender, receiver, amount]")
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = SettlementRequestQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["community", "id"], condition=Q(state="queued"), name="settlement_queued")]

    def __str__(self) -> str:
        return f"Settlement request {self.pk} ({self.state})"
