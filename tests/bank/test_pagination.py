"""Pages of the API's lists (core.pagination): a ``limit`` above the maximum is taken as the maximum, and
every page says the size it used in ``Page-Limit``."""

import pytest

from core import pagination
from tests.bank.helpers import api
from tests.conftest import token_client
from tests.trust.helpers import account, credit
from trust.services.payments import payment_send

LISTS = {
    "user/payments": ("payments", "member"),
    "user/receipts": ("receipts", "member"),
    "public/records": ("records", None),
}


@pytest.fixture
def listed(world, monkeypatch):
    """Three payments of the member's (and their receipts and records), with pages of at most two."""
    monkeypatch.setattr(pagination, "MAX_PAGE", 2)
    credit(world.a.admin, world.a.member, "100")
    for _ in range(3):
        payment_send(payer=account(world.a.member), payee=account(world.a.admin), amount=1_000_000)
    return world


@pytest.mark.parametrize("path", LISTS)
def test_a_limit_above_the_maximum_is_taken_as_the_maximum_and_said(listed, api_client, path):
    key, caller = LISTS[path]
    client = token_client(listed.a.member) if caller else api_client

    response = client.get(api("alpha", path), {"limit": 100})

    assert response.status_code == 200, response.content
    assert len(response.json()[key]) == 2 and response.json()["next"]
    assert response["Page-Limit"] == "2"


@pytest.mark.parametrize("path", LISTS)
def test_every_page_says_its_size(listed, api_client, path):
    _, caller = LISTS[path]
    client = token_client(listed.a.member) if caller else api_client

    assert client.get(api("alpha", path), {"limit": 1})["Page-Limit"] == "1"
    assert client.get(api("alpha", path))["Page-Limit"] == "2"  # the default, past the (patched) maximum
