import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from bank import selectors
from bank.models import Community, Invite, Member, handle_validator
from core.money import MICRO, parse_amount
from core.templatetags.money import amount


class ChooseCommunityForm(forms.Form):
    community = forms.SlugField(max_length=50, help_text="The short name in your community's address, /c/<name>/")


class LoginForm(forms.Form):
    username = forms.CharField(
        max_length=32, widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    password = forms.CharField(
        max_length=128, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class RegisterForm(forms.Form):
    invite = forms.CharField(max_length=100)
    username = forms.CharField(
        max_length=32,
        validators=[handle_validator],
        help_text="2 to 32 lowercase letters, digits, '-' or '_'.",
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        max_length=128, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, existing_login: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if existing_login:
            # Joining with the login already signed in: it keeps its password.
            del self.fields["password"]


# --- Django admin --------------------------------------------------------------------------------

_RATE = re.compile(r"([0-9]+)(?:\.([0-9]+))?(\s*%)?")


def format_rate(ppm: int) -> str:
    """A rate in millionths as a percentage, exact: 50000 -> "5%", 2500 -> "0.25%", 1 -> "0.0001%"."""
    whole, fraction = divmod(ppm, MICRO // 100)
    return f"{whole}.{fraction:04d}".rstrip("0").rstrip(".") + "%"


def parse_rate_text(text: str) -> int:
    """A rate as people write it, a share ("0.05") or a percentage ("5%"), in millionths; raise ``ValidationError``."""
    match = _RATE.fullmatch(text)
    if not match:
        raise ValidationError('Write a rate as a share, such as "0.05", or as a percentage, such as "5%".')
    whole, fraction, percent = match[1], match[2] or "", match[3]
    places = 4 if percent else 6  # a millionth either way
    if len(fraction) > places:
        raise ValidationError(f"A {'percentage' if percent else 'rate'} has at most {places} decimal places.")
    if len(whole) > 3 or (ppm := int(whole) * 10**places + int(fraction.ljust(places, "0"))) > MICRO:
        raise ValidationError("A rate is at most 1 (100%).")
    return ppm


class AmountField(forms.CharField):
    """An amount as people write it ("100", "100.5"), shown as the pages show it ("100.00"); cleans to micro-units."""

    widget = forms.TextInput(attrs={"inputmode": "decimal"})

    def prepare_value(self, value):
        return amount(value) if isinstance(value, int) else value  # an int from the model, or what was typed

    def to_python(self, value) -> int | None:
        if isinstance(value, int):
            return value
        text = super().to_python(value)  # trimmed, as people type
        if text in self.empty_values:
            return None
        try:
            return parse_amount(text, allow_zero=True)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class RateField(forms.CharField):
    """A rate as a share ("0.05") or a percentage ("5%"), shown as a percentage; cleans to millionths."""

    widget = forms.TextInput(attrs={"inputmode": "decimal"})

    def prepare_value(self, value):
        return format_rate(value) if isinstance(value, int) else value

    def to_python(self, value) -> int | None:
        if isinstance(value, int):
            return value
        text = super().to_python(value)
        return None if text in self.empty_values else parse_rate_text(text)


class DecimalRateField(RateField):
    """A ``RateField`` for a rate kept as a decimal (``Community.minimum_trust_index``)."""

    def prepare_value(self, value):
        return super().prepare_value(int(value * MICRO) if isinstance(value, Decimal) else value)

    def to_python(self, value) -> Decimal | None:
        if isinstance(value, Decimal):
            return value
        ppm = super().to_python(value)
        return None if ppm is None else Decimal(ppm).scaleb(-6)


class CommunityAdminForm(forms.ModelForm):
    """A community's money policy as people write it; the model keeps micro-units and millionths."""

    minimum_trust_index = DecimalRateField(
        help_text='Lowest tax rate a member may set: a share ("0.02") or a percentage ("2%").'
    )
    hop_fee_ppm = RateField(
        label="Hop fee",
        help_text='Fee per intermediary hop, a share of the amount ("0.001" or "0.1%"); paid to the commons with the '
        "tax.",
    )
    commons_limit = AmountField(
        help_text='Credit that a new member and the commons extend to each other, e.g. "100" or "100.50".'
    )

    class Meta:
        model = Community
        fields = "__all__"


class InviteAdminForm(forms.ModelForm):
    """A new invite into one of the signed-in login's communities, made as its membership there (``by``)."""

    user = None  # set by InviteAdmin.get_form
    by: Member | None = None

    class Meta:
        model = Invite
        fields = ["community"]

    def clean_community(self) -> Community:
        community = self.cleaned_data["community"]
        self.by = selectors.membership_for_user(user=self.user, community=community)
        if not self.user.is_superuser and (self.by is None or not self.by.is_admin):
            raise ValidationError("Only the community's own admins invite into it.")
        return community
