from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from bank import navigation


def community(request: HttpRequest) -> dict:
    """The request's community and, within one, the member pages the apps declare (built only if shown)."""
    found = getattr(request, "community", None)
    if found is None:
        return {"community": None}
    return {
        "community": found,
        "member_menu": SimpleLazyObject(lambda: navigation.member_menu(request)),
        "home_actions": SimpleLazyObject(lambda: navigation.home_actions(request)),
    }
