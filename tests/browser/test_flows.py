"""Every flow of a member and of a community admin in a real browser, at desktop and phone widths.

Each page a flow passes is checked as a person would meet it: no sideways scroll, no script error, no
serious or critical finding of axe-core (vendored in ``vendor/``), and a screenshot kept under
``test-output/browser/<run>/<flow>-<width>/`` (``BROWSER_SCREENSHOTS`` moves it) for a person to look at.
"""

import os
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bank import services as bank_services
from identity.models import Identity, Vote
from identity.services import votes
from tests.factories import PASSWORD, CommunityFactory, MemberFactory
from tests.identity.test_score import months_of_payments
from tests.identity.test_votes import identity_of
from tests.trust.helpers import account, credit, mutual_credit
from trust.models import Payment

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
WIDTHS = {"desktop": (1280, 900, False), "phone": (390, 844, True)}
RUN = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", ROOT / "test-output" / "browser")) / RUN

RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]}).then((result) => done(result.violations
  .filter((v) => v.impact === "serious" || v.impact === "critical")
  .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")})`)));
"""
SIDEWAYS = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
# pytest-django's live server speaks WSGI only: the identity page's socket is refused and the page polls
# instead, as it does behind any proxy without WebSockets (tests/identity/test_live_socket.py tests the socket).
NO_SOCKET_HERE = re.compile(r"WebSocket connection to '\S+/identity/live' failed")


class Visit:
    """A flow at one width: goes to pages, fills forms and checks each page it lands on."""

    def __init__(self, driver, live_server, folder: Path) -> None:
        self.driver, self.base, self.folder, self.steps = driver, live_server.url, folder, 0
        self.script_errors: list[str] = []
        folder.mkdir(parents=True, exist_ok=True)

    def get(self, path: str) -> None:
        self.driver.get(self.base + path)

    def at(self, path: str) -> bool:
        return self.driver.current_url.split("?")[0].split("#")[0] == self.base + path

    def wait(self, condition, message: str, seconds: float = 15):
        return WebDriverWait(self.driver, seconds, poll_frequency=0.2).until(lambda _: condition(), message)

    def fill(self, form_selector: str, **fields: str) -> None:
        form = self.driver.find_element(By.CSS_SELECTOR, form_selector)
        for name, value in fields.items():
            field = form.find_element(By.NAME, name)
            field.clear()
            field.send_keys(value)
        form.find_element(By.CSS_SELECTOR, "button[type=submit], input[type=submit]").click()

    def text(self) -> str:
        """The page's text in one script call: a found element goes stale when a submitted form's answer replaces
        the page between finding it and reading it."""
        return self.driver.execute_script("return document.body ? document.body.innerText : '';")

    def text_of(self, element_id: str) -> str:
        """An element's text read in one script call: identity.js swaps its sections for fresh ones at any time."""
        script = "const element = document.getElementById(arguments[0]); return element ? element.innerText : '';"
        return self.driver.execute_script(script, element_id)

    def check(self, step: str) -> None:
        """The page as a person meets it: screenshot, no sideways scroll, no script error, no serious axe finding."""
        self.wait(lambda: self.driver.execute_script("return document.readyState") == "complete", "page not loaded")
        self.steps += 1
        self.driver.save_screenshot(str(self.folder / f"{self.steps:02d}-{step}.png"))
        assert self.driver.execute_script(SIDEWAYS) <= 0, f"{step}: the page scrolls sideways"
        self.driver.execute_script(AXE)
        assert self.driver.execute_async_script(RUN_AXE) == [], f"{step}: accessibility"
        self.script_errors += [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if entry["level"] == "SEVERE"
            and entry["source"] in ("javascript", "network")  # CSP reports: test_content_security_policy.py
            and not NO_SOCKET_HERE.search(entry["message"])
        ]
        assert self.script_errors == [], f"{step}: errors in the browser's console: {self.script_errors}"


@pytest.fixture(params=list(WIDTHS))
def visit(request, browser, live_server):
    width, height, mobile = WIDTHS[request.param]
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )
    browser.set_script_timeout(30)
    flow = request.node.originalname.removeprefix("test_")
    return Visit(browser, live_server, SCREENSHOTS / f"{flow}-{request.param}")


@pytest.fixture
def community(transactional_db, settings):
    settings.REGISTRATION_POW_BITS = 12  # a quick proof; the live server's threads read the same settings
    community = CommunityFactory(slug="flows", name="Flows")
    ada = MemberFactory(community=community, handle="ada", role="admin")
    bob = MemberFactory(community=community, handle="bob")
    cy = MemberFactory(community=community, handle="cy")
    credit(cy, bob, "50")  # cy takes bob's promises: a path newcomer -> bob -> cy once bob trusts newcomer
    return community, ada, bob, cy


def test_member_joins_registers_trusts_pays_requests_and_votes(visit, community):
    community, ada, bob, cy = community
    _, code = bank_services.invite_create(community=community, created_by=ada)

    visit.get(f"/c/flows/register/?invite={code}")
    visit.check("invited")
    visit.fill("main form", username="newcomer", password="a-long-new-secret-5")
    visit.wait(lambda: visit.at("/c/flows/"), "joining did not land on the community's home")
    visit.check("joined")
    newcomer = community.members.get(handle="newcomer")

    # The identity is opened on joining; the page registers it with the worker's proof of work.
    visit.get("/c/flows/identity/")
    visit.wait(lambda: visit.driver.find_element(By.ID, "register-button").is_displayed(), "no register button")
    visit.driver.find_element(By.ID, "register-button").click()
    visit.wait(lambda: "registered" in visit.text_of("identity-status"), "registration did not finish", seconds=60)
    assert Identity.objects.get(member=newcomer).registered_at is not None
    visit.check("identity-registered")

    # newcomer trusts bob; bob (outside the browser) trusts newcomer back.
    visit.get("/c/flows/trustlines/")
    visit.fill("#add form", username="bob")
    visit.wait(lambda: "bob" in visit.text(), "the new trustline is not listed")
    visit.check("trustline-added")
    credit(bob, newcomer, "40")

    # Pay cy through bob, previewing the route first.
    visit.get("/c/flows/pay/")
    visit.fill("#pay-form", username="cy", amount="12.5", memo="for the seeds")
    visit.wait(lambda: Payment.objects.filter(payer=account(newcomer), payee=account(cy)).exists(), "not paid")
    payment = Payment.objects.get(payer=account(newcomer), payee=account(cy))
    assert payment.amount == 12_500_000 and payment.state == Payment.State.FINALIZED
    visit.wait(lambda: visit.at(f"/c/flows/payments/{payment.pk}/"), "not on the payment's page")
    visit.check("paid")

    visit.get("/c/flows/payments/")
    assert "cy" in visit.text()
    visit.check("payments")
    visit.get("/c/flows/receipts/")
    assert re.search(r"Paid to cy", visit.text())
    visit.check("receipts")

    # Ask bob for a payment.
    visit.get("/c/flows/payments/#request")
    visit.driver.execute_script("document.getElementById('request').open = true")
    visit.fill("#request form", username="bob", amount="2")
    visit.wait(lambda: Payment.objects.filter(kind=Payment.Kind.REQUEST, payer=account(bob)).exists(), "no request")
    visit.check("payment-requested")

    # A year of payments with ada makes newcomer eligible to vote on ada's proposition.
    mutual_credit(newcomer, ada, "100")
    months_of_payments(account(newcomer), account(ada))
    closes = timezone.now() + timedelta(days=3)
    proposition = votes.proposition_create(by=ada, title="Plant a hedge?", closes_at=closes)
    visit.get("/c/flows/identity/")
    form = f"form[action$='/propositions/{proposition.pk}/vote/']"
    visit.driver.find_element(By.CSS_SELECTOR, f"{form} input[name=value][value='1']").click()
    visit.fill(form, passphrase="a-long-new-secret-5")
    visit.wait(
        lambda: Vote.objects.filter(proposition=proposition, member=newcomer).exists(), "the vote is not counted"
    )
    visit.check("voted")


def test_admin_invites_changes_a_member_and_restores_an_identity(visit, community):
    community, ada, bob, cy = community
    identity_of(cy)
    Identity.objects.filter(member=cy).update(balance=0, revoked=True, revoked_reason="ignored its challenges")
    revoked = Identity.objects.get(member=cy)

    visit.get("/admin/login/")
    visit.fill("#login-form", username=ada.user.get_username(), password=PASSWORD)
    visit.wait(lambda: visit.at("/admin/"), "the admin did not sign in")
    visit.check("admin-home")

    # An invite from the Invites list itself.
    visit.get("/admin/bank/invite/")
    visit.check("invites")
    add = visit.driver.find_element(By.CSS_SELECTOR, "a.addlink").get_attribute("href")  # the list offers it
    visit.driver.get(add)
    visit.check("invite-form")
    count = community.invites.count()
    visit.driver.find_element(By.CSS_SELECTOR, "form input[type=submit][name=_save]").click()
    visit.wait(lambda: community.invites.count() == count + 1, "no invite was made")
    visit.check("invite-made")

    # bob becomes an admin of the community.
    visit.get(f"/admin/bank/member/{bob.pk}/change/")
    visit.check("member-form")
    visit.driver.find_element(By.CSS_SELECTOR, "select[name=role] option[value=admin]").click()
    visit.driver.find_element(By.CSS_SELECTOR, "form input[type=submit][name=_save]").click()
    visit.wait(lambda: type(bob).objects.get(pk=bob.pk).role == "admin", "the member was not changed")
    visit.check("member-changed")

    # cy's revoked identity is restored, with the reason recorded.
    visit.get("/admin/identity/identity/")
    visit.driver.find_element(By.CSS_SELECTOR, f"input[name=_selected_action][value='{revoked.pk}']").click()
    visit.driver.find_element(By.CSS_SELECTOR, "select[name=action] option[value=restore]").click()
    visit.driver.find_element(By.CSS_SELECTOR, "button[name=index], button.button[type=submit]").click()
    visit.check("restore-form")
    visit.fill("main form, #content form", reason="Was travelling; the challenges went unanswered.")
    visit.wait(lambda: not Identity.objects.get(pk=revoked.pk).revoked, "the identity was not restored")
    visit.check("identity-restored")
