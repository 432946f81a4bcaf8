from django import forms

from bank.models import HANDLE_PATTERN


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
    username = forms.RegexField(
        HANDLE_PATTERN,
        max_length=32,
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
