"""Federation in Django admin: the remotes (instance operators only) and each community's pairs."""

from django.contrib import admin
from django.http import HttpRequest

from bank.admin import ReadOnlyAdmin
from federation.models import Inbound, Outbound, Pair, Remote


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
