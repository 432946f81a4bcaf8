"""The member's menu and home-page actions: declared by each app, shown by bank's layout."""

import re

import pytest
from django.test import Client

from tests.bank.web_helpers import sign_in
from tests.factories import MemberFactory

MENU = re.compile(r'<nav class="subnav"[^>]*>(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>')


def menu(page: str) -> list[tuple[str, str, bool]]:
    return [(label, href, bool(current)) for href, current, label in LINK.findall(MENU.search(page)[1])]


@pytest.fixture
def member_client(db):
    member = MemberFactory(community__slug="alpha", handle="ann")
    client = Client()
    assert sign_in(client, member).status_code == 302
    return client


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/c/alpha/", "Home"),
        ("/c/alpha/money/", "Balance"),
        ("/c/alpha/pay/", "Pay"),
        ("/c/alpha/payments/", "Payments"),
        ("/c/alpha/trustlines/", "Trustlines"),
        ("/c/alpha/identity/", "Identity"),
        ("/c/alpha/receipts/", "Receipts"),
    ],
)
def test_the_menu_lists_every_apps_pages_and_marks_the_current_one(member_client, path, current):
    entries = menu(member_client.get(path).content.decode())

    assert [(label, href) for label, href, _ in entries] == [
        ("Home", "/c/alpha/"),
        ("Balance", "/c/alpha/money/"),
        ("Pay", "/c/alpha/pay/"),
        ("Payments", "/c/alpha/payments/"),
        ("Trustlines", "/c/alpha/trustlines/"),
        ("Identity", "/c/alpha/identity/"),
        ("Receipts", "/c/alpha/receipts/"),
    ]
    assert [label for label, _, is_current in entries if is_current] == [current]


def test_home_offers_the_money_pages(member_client):
    page = member_client.get("/c/alpha/").content.decode()

    assert re.findall(r'<a class="button[^"]*" href="([^"]+)">([^<]+)</a>', page) == [
        ("/c/alpha/money/", "My balance"),
        ("/c/alpha/pay/", "Pay"),
        ("/c/alpha/trustlines/", "Trustlines"),
    ]


def test_a_visitor_sees_no_member_menu(db):
    MemberFactory(community__slug="alpha")

    assert 'class="subnav"' not in Client().get("/c/alpha/login/").content.decode()
