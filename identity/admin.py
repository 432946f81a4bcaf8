"""Identities in Django admin: reputation balances, revocations and their review, pending challenges,
propositions with their results."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from bank import selectors
from bank.admin import CommunityScopedAdmin, ReadOnlyAdmin, ReadOnlyInline
from core.errors import ApplicationError
from identity import selectors as identity_selectors
from identity.models import Challenge, Identity, Proposition, Vote
from identity.services import votes
from identity.services.review import identity_restore


class RestoreForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Recorded with your name.")


@admin.register(Identity)
class IdentityAdmin(ReadOnlyAdmin):
    community_lookup = "member__community__in"
    list_display = ["member", "community", "balance", "revoked", "registered", "last_seen_at", "pending_challenge"]
    list_filter = ["revoked", ("member__community", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["member__community"]
    search_fields = ["member__handle"]
    fields = ["member", "custody", "balance", "revoked", "revoked_reason", "registered_at", "last_seen_at"]
    readonly_fields = fields
    actions = ["restore"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Identity]:
        pending = Challenge.objects.filter(target=OuterRef("pk"), state=Challenge.State.PENDING)
        return super().get_queryset(request).annotate(has_pending=Exists(pending))

    @admin.display(description="community", ordering="member__community")
    def community(self, identity: Identity) -> str:
        return str(identity.member.community)

    @admin.display(description="registered", boolean=True, ordering="registered_at")
    def registered(self, identity: Identity) -> bool:
        return identity.registered_at is not None

    @admin.display(description="pending challenge", boolean=True, ordering="has_pending")
    def pending_challenge(self, identity: Identity) -> bool:
        return identity.has_pending

    @admin.action(description="Restore the selected revoked identities, with a reason")
    def restore(self, request: HttpRequest, queryset: QuerySet[Identity]) -> HttpResponse | None:
        """An intermediate page asks for the reason; its form posts back to this action with ``apply``."""
        form = RestoreForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": "Restore revoked identities",
                "identities": queryset,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "identity/admin_restore.html", context)
        for identity in queryset:
            try:
                identity_restore(identity=identity, by=request.user, reason=form.cleaned_data["reason"])
            except ApplicationError as exc:
                self.message_user(request, f"{identity}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{identity} is restored.", messages.SUCCESS)
        return None


@admin.register(Challenge)
class ChallengeAdmin(ReadOnlyAdmin):
    """Pending challenges only: the history is in the identity chain."""

    community_lookup = "target__member__community__in"
    list_display = ["pk", "target", "issuer", "difficulty_bits", "issued_at", "expires_at"]
    list_select_related = ["target__member__community", "issuer__member__community"]
    fields = ["target", "issuer", "data", "difficulty_bits", "state", "issued_at", "expires_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Challenge]:
        return super().get_queryset(request).filter(state=Challenge.State.PENDING)


class VoteInline(ReadOnlyInline):
    model = Vote
    fields = ["member", "value", "cast_at", "public_key", "signature_hex"]

    @admin.display(description="public key")
    def public_key(self, vote: Vote) -> str:
        return vote.key.public_key

    @admin.display(description="signature")
    def signature_hex(self, vote: Vote) -> str:
        return bytes(vote.signature).hex()


class PropositionForm(forms.ModelForm):
    """Opened as the signed-in login's admin membership in the chosen community (``by``)."""

    user = None  # set by PropositionAdmin.get_form

    class Meta:
        model = Proposition
        fields = ["community", "title", "closes_at"]

    def clean_closes_at(self):
        closes_at = self.cleaned_data["closes_at"]
        if closes_at <= timezone.now():
            raise forms.ValidationError("A proposition closes in the future.")
        return closes_at

    def clean_community(self):
        community = self.cleaned_data["community"]
        self.by = selectors.membership_for_user(user=self.user, community=community)
        if self.by is None or not self.by.is_admin:
            raise forms.ValidationError("Only the community's own admins open its propositions.")
        return community


@admin.register(Proposition)
class PropositionAdmin(CommunityScopedAdmin):
    list_display = ["title", "community", "closes_at", "yes", "no", "created_by"]
    list_filter = [("community", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["community", "created_by__community"]
    search_fields = ["title"]
    inlines = [VoteInline]
    form = PropositionForm

    def get_queryset(self, request: HttpRequest) -> QuerySet[Proposition]:
        return identity_selectors.with_counts(super().get_queryset(request))

    def get_form(self, request: HttpRequest, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.user = request.user
        return form

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._in_scope(request, None)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # votes are cast on a question that does not change under them

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return ["community", "title", "closes_at", "created_by", "yes", "no"] if obj else []

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return self.get_readonly_fields(request, obj) or ["community", "title", "closes_at"]

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "community" and not request.user.is_superuser:
            kwargs["queryset"] = self.administered(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Proposition, form, change: bool) -> None:
        created = votes.proposition_create(by=form.by, title=obj.title, closes_at=obj.closes_at)
        obj.pk, obj.created_by, obj.created_at = created.pk, created.created_by, created.created_at

    @admin.display(description="yes", ordering="yes")
    def yes(self, proposition: Proposition) -> int:
        return proposition.yes

    @admin.display(description="no", ordering="no")
    def no(self, proposition: Proposition) -> int:
        return proposition.no
