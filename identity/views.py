"""The member's identity page: key, reputation, credit score, open propositions with a vote form, my votes.
Its script (static/identity/identity.js) registers the identity and answers challenges while the page is open."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bank.pages import member_page
from core.errors import ApplicationError
from identity import reputation_points
from identity import selectors as identity_selectors
from identity.models import Identity
from identity.services import votes


class VoteForm(forms.Form):
    value = forms.TypedChoiceField(
        label="Your vote", choices=[(1, "Yes"), (0, "No")], coerce=int, widget=forms.RadioSelect
    )
    passphrase = forms.CharField(
        label="Your sign-in password",
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="It unlocks your identity key for this one signature.",
    )

    def __init__(self, *args, proposition_id: int, **kwargs) -> None:
        # The page holds one form per open proposition: ids of its own, so each label names its own input.
        super().__init__(*args, auto_id=f"vote-{proposition_id}-%s", **kwargs)


def _live_part(identity: Identity | None) -> str | None:
    """What the page's script does: "register" (the page holds no withheld key), "challenges", or nothing.
    (A revoked member never sees the page: ``page_member`` signs them out.)"""
    if identity is None:
        return None
    if identity.registered_at is not None:
        return "challenges"
    return "register" if identity.custody == Identity.Custody.SERVER else None


def _page(request: HttpRequest, *, failed: VoteForm | None = None, failed_id: int | None = None) -> HttpResponse:
    """``failed``: the bound form of a refused vote on proposition ``failed_id``, shown with its errors (400)."""
    member = request.member
    identity = Identity.objects.filter(member=member).first()
    key = identity_selectors.key_in_force(identity=identity, at=timezone.now()) if identity else None
    eligibility = identity_selectors.eligibility_of(member=member)
    votes_here = eligibility.eligible and identity.custody == Identity.Custody.SERVER
    my_votes = {vote.proposition_id: vote for vote in identity_selectors.votes_of(member=member)}
    open_propositions = []
    for proposition in identity_selectors.propositions_of(community=member.community).filter(
        closes_at__gt=timezone.now()
    ):
        my_vote = my_votes.get(proposition.pk)
        if failed is not None and proposition.pk == failed_id:
            form = failed
        else:
            form = VoteForm(proposition_id=proposition.pk, initial={"value": my_vote.value} if my_vote else None)
        open_propositions.append({"proposition": proposition, "my_vote": my_vote, "form": form})
    if failed is not None and not (votes_here and any(row["form"] is failed for row in open_propositions)):
        # No form to show the refusal beside (the proposition closed, the member may no longer vote here).
        for error in failed.non_field_errors():
            messages.error(request, error)
    context = {
        "member": member,
        "identity": identity,
        "key": key,
        "score": identity_selectors.credit_score_of(member=member),
        "eligibility": eligibility,
        "votes_here": votes_here,
        "open_propositions": open_propositions,
        "my_votes": list(my_votes.values()),
        "live": _live_part(identity),
        "registration_bits": settings.REGISTRATION_POW_BITS,
        "poll_seconds": settings.IDENTITY_PAGE_POLL_SECONDS,
        "mine_reward": reputation_points.MINE_REWARD,
        "ignore_penalty": reputation_points.IGNORE_PENALTY,
    }
    return render(request, "identity/page.html", context, status=200 if failed is None else 400)


@member_page
def page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@member_page
def vote(request: HttpRequest, proposition_id: int) -> HttpResponse:
    """Custody 0 only: the page holds no key, so members whose app holds theirs vote from the app.

    A refused vote is answered with the page itself, at this url, the error beside its form; the page's
    script keeps refreshing from the page's own url (``data-page-url``)."""
    form = VoteForm(request.POST, proposition_id=proposition_id)
    if form.is_valid():
        try:
            votes.vote_cast(member=request.member, proposition_id=proposition_id, **form.cleaned_data)
        except ApplicationError as exc:
            if exc.status == 404:
                raise Http404(exc.message) from exc
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Your vote is signed and counted.")
            return redirect("identity:page", request.community.slug)
    return _page(request, failed=form, failed_id=proposition_id)
