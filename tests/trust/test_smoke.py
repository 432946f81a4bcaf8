from trust import selectors
from trust.services.payments import payment_send
from trust.routing.graph import forget_all
from tests.trust.factories import community_with_commons, member_account, trust

def test_three_hop(db):
    forget_all()
    c = community_with_commons(commons_limit=0)
    a, b, d, e = (member_account(c, h) for h in "ab bc cd de".split())
    trust(b, a, 100); trust(d, b, 100); trust(e, d, 100)
    p = payment_send(payer=a, payee=e, amount=50)
    assert p.state == "finalized"
    bal = selectors.net_balances(community=c)
    assert bal[a.pk] == -50 and bal[e.pk] == 50 and sum(bal.values()) == 0
