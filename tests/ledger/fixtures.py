"""The ``books`` fixture, shared by the ledger's and the identity's tests: tests/conftest.py registers this module
in ``pytest_plugins`` (a conftest cannot import it: tests/bank/helpers.py imports tests/conftest.py)."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.bank.helpers import ApiUser
from tests.factories import CommunityFactory, MemberFactory
from tests.ledger.test_receipts import pay
from tests.trust.helpers import credit
from trust.services.accounts import commons_of


@pytest.fixture
def books(db) -> SimpleNamespace:
    """Alice, Bob and Carol of "river" (trust index 0.1) signed in; credit Alice -> Bob -> Carol, and back.

    Alice has paid Carol 10 through Bob (a payment leg each hop and a tax leg), Carol paid Alice 2.
    A member of another community pays there too, so its books run alongside.
    """
    community = CommunityFactory(slug="river", minimum_trust_index=Decimal("0.1"))
    commons_of(community)
    members = {handle: MemberFactory(community=community, handle=handle) for handle in ("alice", "bob", "carol")}
    credit(members["bob"], members["alice"], "100")
    credit(members["carol"], members["bob"], "100")
    credit(members["alice"], members["carol"], "100")
    people = SimpleNamespace(community=community, **{h: ApiUser(m) for h, m in members.items()})
    people.first = pay(people.alice, "carol", "10")
    people.second = pay(people.carol, "alice", "2")

    other = CommunityFactory(slug="lake")
    commons_of(other)
    ann, ben = MemberFactory(community=other, handle="ann"), MemberFactory(community=other, handle="ben")
    credit(ben, ann, "50")
    people.ann = ApiUser(ann)
    pay(people.ann, "ben", "5")
    return people
