"""Forms of the member money pages; services check everything else and their refusals join the form's errors."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from bank.models import Member
from core.errors import ApplicationError
from core.money import parse_amount
from trust import counterparts
from trust.models import Account


class AmountField(forms.CharField):
    """A decimal string ("12.5") in, micro-units out; ``allow_zero`` for credit limits."""

    def __init__(self, *, allow_zero: bool = False, **kwargs) -> None:
        attrs = {"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00" if allow_zero else "12.50"}
        super().__init__(max_length=32, widget=forms.TextInput(attrs=attrs), **kwargs)
        self.allow_zero = allow_zero

    def clean(self, value) -> int:
        try:
            return parse_amount(super().clean(value), allow_zero=self.allow_zero)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class CounterpartForm(forms.Form):
    """Names an account (``handle``, or ``handle@host`` on another instance); ``cleaned_data["username"]`` is
    that Account. The add form (``opens``) opens a line with another instance's account; payments (``pays``)
    reach members of other instances too, with or without a line."""

    username = forms.CharField(
        max_length=80, widget=forms.TextInput(attrs={"autocapitalize": "none", "placeholder": "handle or name@host"})
    )
    opens = pays = False

    def __init__(self, *args, member: Member, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.member = member

    def clean_username(self) -> Account:
        try:
            return counterparts.counterpart_find(
                member=self.member,
                username=self.cleaned_data["username"],
                missing=ApplicationError,
                create=self.opens,
                paying=self.pays,
            )
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None


class AddAccountForm(CounterpartForm):
    opens = True


class LimitForm(CounterpartForm):
    amount = AmountField(allow_zero=True, label="Credit I extend")


class PaymentForm(CounterpartForm):
    pays = True
    amount = AmountField(label="Amount")
    memo = forms.CharField(max_length=255, required=False, strip=False, label="Memo")

    def __init__(self, *args, username_label: str = "Pay to", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = username_label


def form_errors(form: forms.Form) -> list[str]:
    """Every error of a form as a sentence, for forms whose fields are not on the page (hidden, per row)."""
    return [
        message if name == NON_FIELD_ERRORS else f"{form.fields[name].label}: {message}"
        for name, messages in form.errors.items()
        for message in messages
    ]
