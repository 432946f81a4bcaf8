"""The pages with scripts run under the Content-Security-Policy without a violation: the money overview (Chart.js
and Cytoscape.js), the pay page, the API docs (Swagger UI) and Django admin. The identity page has its own test."""

import pytest
from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from core.money import MICRO
from tests.browser.pages import sign_in
from tests.factories import PASSWORD, CommunityFactory, MemberFactory
from tests.trust.helpers import account, mutual_credit
from trust.services import payments

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def violations(driver) -> list[str]:
    """What the browser refused and said so in its console (CSP, Permissions-Policy)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["source"] == "security"]


def shows(driver, selector: str) -> None:
    WebDriverWait(driver, 10, poll_frequency=0.2).until(
        lambda _: driver.find_elements(By.CSS_SELECTOR, selector), f"nothing matches {selector}"
    )


@pytest.fixture
def member(transactional_db):
    """A member with a balance history and trustlines to draw."""
    me = MemberFactory(community=CommunityFactory(slug="csp"), handle="me")
    other = MemberFactory(community=me.community, handle="other")
    mutual_credit(me, other, "100")
    payments.payment_send(payer=account(me), payee=account(other), amount=MICRO)
    payments.payment_send(payer=account(other), payee=account(me), amount=2 * MICRO)
    return me


def test_the_member_pages_draw_their_charts_under_the_policy(browser, live_server, member):
    sign_in(browser, f"{live_server.url}/c/csp/login/", "me")
    browser.get(f"{live_server.url}/c/csp/money/")
    shows(browser, "#trust-graph canvas")  # Cytoscape.js drew the graph
    shows(browser, "#balance-chart[style]")  # Chart.js sized its canvas (a CSSOM style, which the policy allows)
    browser.get(f"{live_server.url}/c/csp/pay/")

    assert violations(browser) == []


def test_the_api_docs_and_django_admin_work_under_the_policy(browser, live_server, transactional_db):
    get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)

    browser.get(f"{live_server.url}/api/docs/")
    shows(browser, ".swagger-ui .opblock")  # Swagger UI started and rendered the schema's operations
    sign_in(browser, f"{live_server.url}/admin/login/", "root", "input[type=submit]")
    browser.get(f"{live_server.url}/admin/bank/community/add/")
    shows(browser, "#community_form")

    assert violations(browser) == []
