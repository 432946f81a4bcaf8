"""Federation in Django admin: the remotes (instance operators only), each community's pairs and datagrams,
and the payments between instances it takes part in, with their step and deadlines."""

from django.contrib import admin
from django.http import HttpRequest

from bank.admin import ReadOnlyAdmin
from federation.models import Inbound, Outbound, Pair, Remote, Transit


@admin.register(Remote)
class RemoteAdmin(admin.ModelAdmin):
    """Peer instances belong to the whole instance: only superusers see them (``manage.py remote`` adds them)."""

    list_display = ["host", "port", "name", "score", "score_time", "last_seen", "failures"]
    search_fields = ["host", "name"]
    readonly_fields = [
        "url",
        "name",
        "sign_key",
        "agree_key",
        "ws_endpoint",
        "udp_endpoint",
        "dht_id",
        "document",
        "signed_at",
        "score",
        "score_time",
        "last_seen",
        "failures",
        "created_at",
    ]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a remote's fields come from its signed document

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request) and (obj is None or not obj.pairs.exists())


@admin.register(Pair)
class PairAdmin(ReadOnlyAdmin):
    community_lookup = "member__community__in"
    list_display = ["member", "handle", "host", "remote", "sent", "received", "created_at"]
    list_select_related = ["member__community", "remote"]
    fields = list_display
    readonly_fields = list_display


@admin.register(Outbound)
class OutboundAdmin(ReadOnlyAdmin):
    community_lookup = "pair__member__community__in"
    list_display = ["pair", "counter", "command", "attempts", "next_at", "acked_at", "status"]
    list_select_related = ["pair__member__community"]
    fields = list_display
    readonly_fields = list_display


@admin.register(Inbound)
class InboundAdmin(ReadOnlyAdmin):
    community_lookup = "pair__member__community__in"
    list_display = ["pair", "counter", "command", "arguments", "received_at"]
    list_select_related = ["pair__member__community"]
    fields = list_display
    readonly_fields = list_display


class InFlight(admin.SimpleListFilter):
    title = "in flight"
    parameter_name = "in_flight"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", "In flight"), ("no", "Ended")]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(closed_at__isnull=self.value() == "yes")
        return queryset


@admin.register(Transit)
class TransitAdmin(ReadOnlyAdmin):
    """Payments routed across instances, as this one takes part: the step each is at (its payment's state),
    the deadline of the hold placed towards it and of its own, and any conflict to look into."""

    community_lookup = "payment__community__in"
    list_display = ["pk", "role", "step", "amount", "deadline_in", "deadline", "error", "conflict", "created_at"]
    list_filter = [InFlight, "role", "conflict"]
    list_select_related = ["payment__community"]
    search_fields = ["hashlock", "request_id"]
    fields = [
        "role",
        "hashlock",
        "request_id",
        "payment",
        "amount",
        "upstream",
        "downstream",
        "counterpart",
        "hops",
        "search_until",
        "deadline_in",
        "deadline",
        "asked_at",
        "error",
        "conflict",
        "closed_at",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description="step", ordering="payment__state")
    def step(self, transit: Transit) -> str:
        return transit.payment.state if transit.payment else ("ended" if transit.closed_at else "searching")
