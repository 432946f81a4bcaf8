import pytest

from identity.models import Identity
from tests.identity.test_score import months_of_payments
from tests.identity.test_votes import identity_of
from tests.trust.helpers import account, mutual_credit


@pytest.fixture
def voters(world):
    """In alpha, the member (custody 0) and the admin (custody 1) paid each other every month for a year."""
    mutual_credit(world.a.member, world.a.admin, "100")
    months_of_payments(account(world.a.member), account(world.a.admin))
    member_key = identity_of(world.a.member)
    admin_key = identity_of(world.a.admin, custody=Identity.Custody.WITHHELD)
    return world, member_key, admin_key
