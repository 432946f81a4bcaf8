from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from bank import app_tokens, selectors, services
from bank.forms import CommunityAdminForm, InviteAdminForm
from bank.models import AppToken, Community, Invite, Member
from core.errors import ApplicationError


class CommunityScopedAdmin(admin.ModelAdmin):
    """Rows of the communities the signed-in admin administers; all rows for superusers."""

    community_lookup = "community__in"

    def administered(self, request: HttpRequest) -> QuerySet[Community]:
        return selectors.communities_administered_by(user=request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{self.community_lookup: self.administered(request)})

    def _in_scope(self, request: HttpRequest, obj) -> bool:
        if not request.user.is_active:  # anonymous (the login page builds the app list too) or deactivated
            return False
        if request.user.is_superuser:
            return True
        if obj is None:
            return self.administered(request).exists()
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._in_scope(request, None)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._in_scope(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._in_scope(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # history stays: members are deactivated, invites expire


class ReadOnlyAdmin(CommunityScopedAdmin):
    """Records of what happened (payments, ledger entries, identities): seen, never edited here."""

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """The rows of a record, shown under it; the parent's admin has already scoped it to the admin's communities."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return list(self.fields)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return True


def invite_created(admin_view: admin.ModelAdmin, request: HttpRequest, invite: Invite, code: str) -> None:
    """Show a new invite's code, the only time it is shown, with its registration link."""
    community = invite.community
    link = request.build_absolute_uri(reverse("bank:register", args=[community.slug]) + f"?invite={code}")
    expires = date_format(timezone.localtime(invite.expires_at), "DATETIME_FORMAT")
    admin_view.message_user(
        request,
        f"Invite for {community.name}, valid until {expires} UTC (shown only now): {code} — registration link: {link}",
        messages.SUCCESS,
    )


@admin.register(Community)
class CommunityAdmin(CommunityScopedAdmin):
    community_lookup = "pk__in"
    form = CommunityAdminForm
    list_display = ["name", "slug", "domain", "currency_code", "member_count"]
    search_fields = ["name", "slug", "domain"]
    actions = ["create_invite"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [] if request.user.is_superuser else ["slug", "domain", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    @admin.display(description="members")
    def member_count(self, community: Community) -> int:
        return community.members.count()

    @admin.action(description="Create an invite for the selected communities")
    def create_invite(self, request: HttpRequest, queryset: QuerySet[Community]) -> None:
        for community in queryset:
            by = selectors.membership_for_user(user=request.user, community=community)
            invite_created(self, request, *services.invite_create(community=community, created_by=by))


@admin.register(Member)
class MemberAdmin(CommunityScopedAdmin):
    list_display = ["handle", "community", "role", "is_active", "joined_at"]
    list_filter = [("community", admin.RelatedOnlyFieldListFilter), "role", "is_active"]
    search_fields = ["handle", "user__username"]
    readonly_fields = ["user", "community", "handle", "joined_at"]
    fields = ["community", "handle", "user", "role", "is_active", "joined_at"]
    actions = ["deactivate"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        if obj is not None and obj.user_id == request.user.pk:
            # Like the deactivate action: nobody demotes or deactivates their own membership here.
            return [*self.readonly_fields, "role", "is_active"]
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Member, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.member_deactivate(member=obj, by=None)  # also revokes its API tokens

    @admin.action(description="Deactivate the selected members")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Member]) -> None:
        for member in queryset.select_related("community"):
            by = selectors.membership_for_user(user=request.user, community=member.community)
            try:
                services.member_deactivate(member=member, by=by)
            except ApplicationError as exc:
                self.message_user(request, f"{member.handle}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{member.handle} in {member.community} is deactivated.", messages.SUCCESS)


@admin.register(Invite)
class InviteAdmin(CommunityScopedAdmin):
    """Invites are made here (or by the communities' action) and then only seen: they are used or expire."""

    list_display = ["__str__", "community", "created_by", "created_at", "expires_at", "state"]
    list_filter = [("community", admin.RelatedOnlyFieldListFilter)]
    form = InviteAdminForm
    shown_fields = ["community", "created_by", "created_at", "expires_at", "used_at", "used_by"]

    def get_form(self, request: HttpRequest, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.user = request.user
        return form

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return self.shown_fields if obj else ["community"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return self.shown_fields if obj else []

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = self.administered(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        """An admin of one community has nothing to choose: the form starts with it."""
        initial = super().get_changeform_initial_data(request)
        communities = list(self.administered(request)[:2])
        if len(communities) == 1:
            initial.setdefault("community", communities[0].pk)
        return initial

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._in_scope(request, None)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Invite, form: InviteAdminForm, change: bool) -> None:
        invite, code = services.invite_create(community=obj.community, created_by=form.by)
        obj.pk, obj.code_digest, obj.created_by = invite.pk, invite.code_digest, invite.created_by
        obj.created_at, obj.expires_at = invite.created_at, invite.expires_at
        invite_created(self, request, invite, code)

    @admin.display(description="state")
    def state(self, invite: Invite) -> str:
        if invite.used_at:
            return f"used by {invite.used_by.handle}" if invite.used_by else "used"
        return "expired" if invite.expires_at <= timezone.now() else "open"


@admin.register(AppToken)
class AppTokenAdmin(CommunityScopedAdmin):
    """Members' app tokens, read-only but for revoking them; their secrets are nowhere to be seen."""

    community_lookup = "member__community__in"
    list_display = ["name", "token", "member", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("member__community", admin.RelatedOnlyFieldListFilter), ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["member__community"]
    search_fields = ["name", "token", "member__handle"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description="Revoke the selected app tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[AppToken]) -> None:
        for app_token in queryset:
            app_tokens.app_token_revoke(app_token=app_token)
        self.message_user(
            request, f"{len(queryset)} app token(s) revoked; they stop working at once.", messages.SUCCESS
        )
