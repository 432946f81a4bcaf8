"""The member's menu and the actions on a community's home page.

Each app names its member pages in its ``AppConfig`` (``member_pages``, ``home_actions``); bank's layout
links to them without importing the apps above it (docs/architecture.md, the layer order).
"""

from dataclasses import dataclass
from fnmatch import fnmatchcase

from django.apps import apps
from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class MemberPage:
    label: str
    url_name: str  # "app:page", reversed with the community's slug
    current_on: tuple[str, ...] = ()  # patterns of the url names it is the current entry on (default: its own)

    def is_current(self, view_name: str) -> bool:
        return any(fnmatchcase(view_name, pattern) for pattern in self.current_on or (self.url_name,))


@dataclass(frozen=True)
class MenuEntry:
    label: str
    url: str
    current: bool


def _declared(attribute: str) -> list[MemberPage]:
    """What the installed apps declare, in the order of ``INSTALLED_APPS``."""
    return [page for config in apps.get_app_configs() for page in getattr(config, attribute, ())]


def _entries(request: HttpRequest, attribute: str) -> list[MenuEntry]:
    slug = request.community.slug
    view_name = request.resolver_match.view_name if request.resolver_match else ""
    return [
        MenuEntry(page.label, reverse(page.url_name, args=[slug]), page.is_current(view_name))
        for page in _declared(attribute)
    ]


def member_menu(request: HttpRequest) -> list[MenuEntry]:
    return _entries(request, "member_pages")


def home_actions(request: HttpRequest) -> list[MenuEntry]:
    return _entries(request, "home_actions")
