from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from bank.admin import CommunityScopedAdmin, ReadOnlyAdmin, ReadOnlyInline
from bank.forms import format_rate
from core.errors import ApplicationError
from core.money import MICRO
from core.templatetags.money import amount
from trust.models import Account, Payment, PaymentLeg, Trustline
from trust.services import accounts


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["name", "community", "kind", "trust_index", "created_at"]
    list_filter = [("community", admin.RelatedOnlyFieldListFilter), "kind"]
    search_fields = ["member__handle", "address"]
    list_select_related = ["member", "community"]
    fields = ["community", "kind", "member", "address", "trust_index", "created_at"]
    readonly_fields = ["trust_index"]

    @admin.display(description="trust index", ordering="trust_index_ppm")
    def trust_index(self, account: Account) -> str:
        if account.trust_index_ppm is not None:
            return format_rate(account.trust_index_ppm)
        return f"{format_rate(int(account.community.minimum_trust_index * MICRO))} (the community's minimum)"


class WithAnotherInstance(admin.SimpleListFilter):
    title = "counterpart"
    parameter_name = "remote"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", "an account of another instance"), ("no", "accounts of this instance")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        remote = Q(low__kind=Account.Kind.REMOTE) | Q(high__kind=Account.Kind.REMOTE)
        return {"yes": queryset.filter(remote), "no": queryset.exclude(remote)}.get(self.value(), queryset)


@admin.register(Trustline)
class TrustlineAdmin(CommunityScopedAdmin):
    list_display = [
        "__str__",
        "community",
        "low_name",
        "high_name",
        "credit_from_low",
        "credit_from_high",
        "owed",
        "closed_at",
    ]
    list_filter = [
        ("community", admin.RelatedOnlyFieldListFilter),
        WithAnotherInstance,
        ("closed_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["low__member__handle", "high__member__handle", "low__address", "high__address"]
    list_select_related = ["community", "low__member", "high__member"]
    fields = ["community", "low", "high", "limit_from_low", "limit_from_high", "balance", "updated_at", "closed_at"]
    readonly_fields = ["community", "low", "high", "balance", "updated_at", "closed_at"]
    actions = ["apply_commons_limit"]

    def get_readonly_fields(self, request: HttpRequest, obj: Trustline | None = None) -> list[str]:
        """A line with another instance's account has two copies: its limits change only through its members."""
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and Account.Kind.REMOTE in (obj.low.kind, obj.high.kind):
            fields += ["limit_from_low", "limit_from_high"]
        return fields

    @admin.display(description="low")
    def low_name(self, line: Trustline) -> str:
        return line.low.name

    @admin.display(description="high")
    def high_name(self, line: Trustline) -> str:
        return line.high.name

    @admin.display(description="credit low → high")
    def credit_from_low(self, line: Trustline) -> str:
        return amount(line.limit_from_low)

    @admin.display(description="credit high → low")
    def credit_from_high(self, line: Trustline) -> str:
        return amount(line.limit_from_high)

    @admin.display(description="high owes low")
    def owed(self, line: Trustline) -> str:
        return amount(line.balance)

    def save_model(self, request: HttpRequest, obj: Trustline, form, change: bool) -> None:
        # Through the service, so the change is timestamped and every process's routing graph sees it.
        accounts.trustline_limits_set(line=obj, limit_from_low=obj.limit_from_low, limit_from_high=obj.limit_from_high)

    @admin.action(description="Set selected commons trustlines to the community's commons limit")
    def apply_commons_limit(self, request: HttpRequest, queryset: QuerySet[Trustline]) -> None:
        changed = 0
        for line in queryset.select_related("community", "low", "high"):
            try:
                changed += accounts.commons_limit_apply(line=line)
            except ApplicationError as exc:
                self.message_user(request, f"{line}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{changed} commons trustline(s) updated.", messages.SUCCESS)


class PaymentLegInline(ReadOnlyInline):
    model = PaymentLeg
    fields = ["purpose", "path", "hop", "sender", "receiver", "amount"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["pk", "community", "kind", "state", "payer", "payee", "amount_display", "created_at"]
    list_filter = [("community", admin.RelatedOnlyFieldListFilter), "kind", "state"]
    search_fields = ["payer__member__handle", "payee__member__handle", "payer__address", "payee__address", "memo"]
    list_select_related = ["community", "payer__member", "payee__member"]
    inlines = [PaymentLegInline]

    @admin.display(description="amount")
    def amount_display(self, payment: Payment) -> str:
        return amount(payment.amount)
