"""The identity page in a real browser: a new member signs in, the page registers the identity with a proof
of work solved in a Web Worker (progress bar), answers a reputation challenge while it stays open and shows
the new reputation; the member votes from the page; once revoked, the sign-in page says why."""

from datetime import timedelta

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from core.crypto import p256
from identity import selectors as identity_selectors
from identity.models import Block, Challenge, Identity, ProofSeed, Vote
from identity.services import challenges, votes
from tests.browser.pages import sign_in
from tests.factories import PASSWORD, CommunityFactory, MemberFactory
from tests.identity.test_score import months_of_payments
from tests.trust.helpers import account, mutual_credit

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

REGISTRATION_BITS = 16
PROGRESS_EVERY = 50_000  # tries between two progress messages of pow-worker.js
# The page asks for its challenges every POLL_SECONDS (IDENTITY_PAGE_POLL_SECONDS, 30 in production): what
# happens just after a poll shows at the next one.
POLL_SECONDS = 2
POLL_WAIT = POLL_SECONDS + 15

# Records every change of the progress bar, from before the click on "Register my identity".
WATCH_PROGRESS = """
const bar = document.getElementById("pow-progress");
window.progressSeen = [];
const note = () => window.progressSeen.push({hidden: bar.hidden, value: bar.value, max: bar.max});
new MutationObserver(note).observe(bar, {attributes: true, attributeFilter: ["value", "max", "hidden"]});
"""


def wait(driver, seconds: float, condition, message: str):
    return WebDriverWait(driver, seconds, poll_frequency=0.2).until(lambda _: condition(), message)


# Read in one script call: identity.js swaps the sections for fresh ones at any time.
TEXT = """const element = document.querySelector(arguments[0]); return element ? element.innerText : "";"""
SHOWN = """
const [id, term] = arguments;
const dt = [...document.querySelectorAll(`#${id} dt`)].find((dt) => dt.textContent.trim() === term);
return dt ? dt.nextElementSibling.innerText : "";
"""


def text_of(driver, element_id: str) -> str:
    return text_at(driver, f"#{element_id}")


def text_at(driver, selector: str) -> str:
    """The text of the first element matching ``selector``, read in one call (no stale element)."""
    return driver.execute_script(TEXT, selector)


def shown(driver, section_id: str, term: str) -> str:
    """What the page's section shows for ``term`` (the <dd> after its <dt>)."""
    return " ".join(driver.execute_script(SHOWN, section_id, term).split())


def script_errors(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["source"] == "javascript"]


def signed_in(driver, live_server, member) -> None:
    """Sign in and wait for the community's home page: the sign-in has opened the identity by then."""
    sign_in(driver, f"{live_server.url}/c/{member.community.slug}/login/", member.handle)
    home = f"{live_server.url}/c/{member.community.slug}/"
    wait(driver, 10, lambda: driver.current_url == home, "the sign-in did not reach the community's home")


@pytest.fixture
def members(transactional_db, settings):
    # The live server's threads read the same settings object: a quick proof, the real format.
    settings.REGISTRATION_POW_BITS = REGISTRATION_BITS
    settings.IDENTITY_PAGE_POLL_SECONDS = POLL_SECONDS
    community = CommunityFactory(slug="browsers")
    return MemberFactory(community=community, handle="newcomer"), MemberFactory(
        community=community, handle="admin", role="admin"
    )


@pytest.mark.slow
def test_a_new_member_registers_answers_a_challenge_votes_and_once_revoked_sees_why(browser, live_server, members):
    member, admin = members
    page_path = f"/c/{member.community.slug}/identity/"

    # Signing in opens the identity (its key sealed under the password); its page offers to register it.
    signed_in(browser, live_server, member)
    browser.find_element(By.LINK_TEXT, "Identity").click()
    wait(browser, 10, lambda: browser.current_url == live_server.url + page_path, "not on the identity page")
    identity = Identity.objects.get(member=member)
    assert identity.registered_at is None and identity.custody == Identity.Custody.SERVER
    button = browser.find_element(By.ID, "register-button")
    wait(browser, 5, button.is_displayed, "identity.js did not show the register button")

    browser.execute_script(WATCH_PROGRESS)
    button.click()
    wait(browser, 30, lambda: "registered" in text_of(browser, "identity-status"), "registration did not finish")
    assert "failed" not in text_of(browser, "identity-status")
    # The bar showed every progress message of the worker's search, from 0 up to the nonce, then completed.
    expected = 2**REGISTRATION_BITS
    nonce = int(ProofSeed.objects.get(identity=identity).nonce)
    seen = browser.execute_script("return window.progressSeen")
    assert all(change["max"] == expected for change in seen)
    assert [change["value"] for change in seen if not change["hidden"]] == [
        0,
        *(min(tried, expected) for tried in range(PROGRESS_EVERY, nonce + 1, PROGRESS_EVERY)),
        expected,
    ]
    assert seen[-1]["hidden"] is True  # put away once the identity is registered

    identity.refresh_from_db()
    key = identity_selectors.key_in_force(identity=identity, at=timezone.now())
    assert identity.registered_at is not None and identity.balance == 100
    assert any(
        event["type"] == "register" and event["pubkey"] == key.public_key
        for block in Block.objects.all()
        for event in block.events
    )
    assert shown(browser, "my-identity", "Registered") != "not yet"  # the section was refreshed in place
    state = text_of(browser, "identity-live-state")  # so was the live section's: registered, no longer how to
    assert state.startswith("Registered") and "100 reputation points" in state and "Registering" not in state

    # Still open, the page keeps the member live and answers the challenge issued to them.
    wait(browser, 10, lambda: Identity.objects.get(pk=identity.pk).last_seen_at is not None, "no heartbeat")
    challenge = challenges.challenge_issue(target=identity)
    solved = lambda: Challenge.objects.get(pk=challenge.pk).state == Challenge.State.SOLVED  # noqa: E731
    wait(browser, POLL_WAIT, solved, "the open page did not answer the challenge")
    assert Identity.objects.get(pk=identity.pk).balance == 110
    wait(browser, 10, lambda: shown(browser, "my-identity", "Reputation") == "110", "reputation 110 not shown")
    score = identity_selectors.credit_score_of(member=member)
    assert shown(browser, "credit-score", "Score") == f"{score.score} {score.rating}"

    # A year of payments with someone makes the member eligible; the page offers the vote form.
    mutual_credit(member, admin, "100")
    months_of_payments(account(member), account(admin))
    proposition = votes.proposition_create(
        by=admin, title="Paint the hall green?", closes_at=timezone.now() + timedelta(days=7)
    )
    browser.get(live_server.url + page_path)
    score = identity_selectors.credit_score_of(member=member)
    assert score.can_vote and shown(browser, "credit-score", "May vote") == "yes"
    assert shown(browser, "credit-score", "Score") == f"{score.score} {score.rating}"
    form = browser.find_element(By.CSS_SELECTOR, f"form[action$='/propositions/{proposition.pk}/vote/']")
    form.find_element(By.CSS_SELECTOR, "input[name=value][value='1']").click()
    form.find_element(By.NAME, "passphrase").send_keys(PASSWORD)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, 10, lambda: "Your vote is signed and counted." in browser.page_source, "the vote was not counted")
    vote = Vote.objects.select_related("member__community", "key").get(proposition=proposition, member=member)
    assert vote.value == 1 and vote.key == key
    assert p256.signature_valid(key.public_key, bytes(vote.signature), votes.signed_text(vote))
    assert "yes 1" in text_at(browser, "article.proposition")
    assert browser.find_element(By.CSS_SELECTOR, "input[name=value][value='1']").is_selected()  # my vote

    # The member ignores a challenge with a reputation too low to survive it: the open page finds out, the
    # server signs the member out, and the sign-in page says why and what restores access.
    Identity.objects.filter(pk=identity.pk).update(balance=10)
    ignored = challenges.challenge_issue(target=Identity.objects.get(pk=identity.pk))
    Challenge.objects.filter(pk=ignored.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert challenges.challenges_expire() == 1
    identity.refresh_from_db()
    assert identity.revoked and identity.balance == 0
    revoked_text = f"Your identity has been revoked ({challenges.IGNORED_REASON})"
    sign_in_url = f"{live_server.url}/c/{member.community.slug}/login/"
    wait(browser, POLL_WAIT, lambda: browser.current_url.startswith(sign_in_url), "the open page did not notice")
    wait(browser, 10, lambda: revoked_text in browser.page_source, "the sign-in page does not say why")
    assert "ask a community admin" in browser.page_source  # what restores access
    assert script_errors(browser) == []

    browser.get(f"{live_server.url}/c/{member.community.slug}/identity/")  # the old session is gone
    assert browser.current_url.startswith(sign_in_url) and revoked_text not in browser.page_source
    sign_in(browser, sign_in_url, member.handle)
    wait(browser, 10, lambda: revoked_text in browser.page_source, "signing in again does not say why")
    assert browser.current_url.startswith(sign_in_url)


def test_a_refused_vote_leaves_the_page_answering_challenges_with_the_error_beside_the_form(
    browser, live_server, members
):
    member, admin = members
    signed_in(browser, live_server, member)  # opens the identity under the password
    identity = Identity.objects.get(member=member)
    Identity.objects.filter(pk=identity.pk).update(registered_at=timezone.now())
    mutual_credit(member, admin, "100")
    months_of_payments(account(member), account(admin))
    proposition = votes.proposition_create(
        by=admin, title="Paint the hall green?", closes_at=timezone.now() + timedelta(days=7)
    )
    page_url = f"{live_server.url}/c/{member.community.slug}/identity/"
    browser.get(page_url)
    wait(browser, 10, lambda: "answered here" in text_of(browser, "identity-status"), "identity.js did not start")

    # The choices keep their natural width, each label beside its button, Yes and No on one line.
    yes, no = (browser.find_element(By.CSS_SELECTOR, f"input[name=value][value='{v}']") for v in "10")
    yes_label, no_label = (
        browser.find_element(By.CSS_SELECTOR, f"label[for='{r.get_attribute('id')}']") for r in (yes, no)
    )
    assert yes.size["width"] < 40 and yes_label.size["height"] < 40 and yes_label.text == "Yes"
    assert no_label.location["y"] == yes_label.location["y"] and no_label.location["x"] > yes_label.location["x"]

    yes.click()
    browser.find_element(By.NAME, "passphrase").send_keys("not my password")
    browser.find_element(By.CSS_SELECTOR, "article.proposition button[type=submit]").click()
    form = f"form[action$='/propositions/{proposition.pk}/vote/']"
    refused = lambda: "does not unlock" in text_at(browser, form)  # noqa: E731
    wait(browser, 10, refused, "the refusal is not shown beside the form")
    assert browser.current_url.endswith(f"/propositions/{proposition.pk}/vote/") and not Vote.objects.exists()

    # The refused vote's page still answers challenges (at its next poll) and shows what they earn.
    challenge = challenges.challenge_issue(target=Identity.objects.get(pk=identity.pk))
    solved = lambda: Challenge.objects.get(pk=challenge.pk).state == Challenge.State.SOLVED  # noqa: E731
    wait(browser, POLL_WAIT, solved, "the page did not answer the challenge")
    wait(browser, 10, lambda: shown(browser, "my-identity", "Reputation") == "110", "reputation 110 not shown")
    assert "failed" not in text_of(browser, "identity-status")
    assert "does not unlock" in text_at(browser, form)  # the error stays
    assert browser.find_element(By.CSS_SELECTOR, "input[name=value][value='1']").is_selected()
    assert script_errors(browser) == []
