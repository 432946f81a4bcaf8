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
from identity import selectors as identity_selectors
from identity.models import Identity
from identity.services import votes


class VoteForm(forms.Form):
    value = forms.TypedChoiceField(choices=[(1, "Yes"), (0, "No")], coerce=int, widget=forms.RadioSelect)
    passphrase = forms.CharField(
        max_length=128,
        strip=False,
        widget=forms.PasswordInput,
        help_text="Unlocks your identity key for this one signature.",
    )


def _live_part(identity: Identity | None) -> str | None:
    """What the page's script does: "register" (the page holds no withheld key), "challenges", or nothing.
    (A revoked member never sees the page: ``page_member`` signs them out.)"""
    if identity is None:
        return None
    if identity.registered_at is not None:
        return "challenges"
    return "register" if identity.custody == Identity.Custody.SERVER else None


def _page(request: HttpRequest, *, failed: dict | None = None, status: int = 200) -> HttpResponse:
    """``failed``: the proposition id and bound form of a refused vote, shown with its errors."""
    member = request.member
    identity = Identity.objects.filter(member=member).first()
    key = identity_selectors.key_in_force(identity=identity, at=timezone.now()) if identity else None
    my_votes = {vote.proposition_id: vote for vote in identity_selectors.votes_of(member=member)}
    open_propositions = [
        {
            "proposition": proposition,
            "my_vote": my_votes.get(proposition.pk),
            "form": failed["form"] if failed and failed["id"] == proposition.pk else VoteForm(),
        }
        for proposition in identity_selectors.propositions_of(community=member.community).filter(
            closes_at__gt=timezone.now()
        )
    ]
    context = {
        "member": member,
        "identity": identity,
        "key": key,
        "score": identity_selectors.credit_score_of(member=member),
        "eligibility": identity_selectors.eligibility_of(member=member),
        "open_propositions": open_propositions,
        "my_votes": list(my_votes.values()),
        "live": _live_part(identity),
        "registration_bits": settings.REGISTRATION_POW_BITS,
    }
    return render(request, "identity/page.html", context, status=status)


@member_page
def page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@member_page
def vote(request: HttpRequest, proposition_id: int) -> HttpResponse:
    """Custody 0 only: the page holds no key, so members whose app holds theirs vote from the app."""
    form = VoteForm(request.POST)
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
    return _page(request, failed={"id": proposition_id, "form": form}, status=400)
