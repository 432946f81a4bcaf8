"""``GET ACCNT/<handle@host>``: whether a member here has that address, each kind of bad path its own code."""

import pytest

from federation.listener.answers import account_get
from federation.protocols import text
from federation.protocols.results import CMResult
from tests.factories import CommunityFactory, MemberFactory


@pytest.mark.parametrize(
    ("args", "result"),
    [
        (("ACCNT/alice@river.localhost",), CMResult.S_OK),
        (("ACCNT/ALICE@River.localhost",), CMResult.S_OK),
        (("ACCNT/gone@river.localhost",), CMResult.E_Item_Not_Found),
        (("ACCNT/nobody@river.localhost",), CMResult.E_Item_Not_Found),
        (("ACCNT/alice@elsewhere.example",), CMResult.E_Item_Not_Found),
        (("ACCNT/alice",), CMResult.E_Account_ID_Invalid),
        (("ACCNT/@river.localhost",), CMResult.E_Account_ID_Invalid),
        (("TRANS/alice@river.localhost",), CMResult.E_Invalid_Object_Path),
        (("ACCNT/alice@river.localhost", "more"), CMResult.E_Invalid_Object_Path),
        ((), CMResult.E_Invalid_Object_Path),
    ],
)
def test_an_account_is_told_only_for_an_active_member_here(db, settings, args, result):
    settings.INSTANCE_DOMAIN = "localhost"
    river = CommunityFactory(slug="river")
    MemberFactory(community=river, handle="alice")
    MemberFactory(community=river, handle="gone", is_active=False)

    answer = account_get(text.Request("GET", "n1", args=args), "10.0.0.1")

    assert (answer.result, answer.nonce) == (result, "n1")
    assert answer.header("ID") == ("alice@river.localhost" if result == CMResult.S_OK else None)
