"""The money pages as a phone shows them (390 px wide, headless Chromium): the balance chart's time axis,
the payments list, the trust graph."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import Client
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import CHROMEDRIVER, CHROMIUM
from tests.trust.factories import community_with_commons, member_account, trust
from trust.models import Account, Payment
from trust.services.payments import payment_request, payment_send

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

UNIT = 1_000_000
PHONE = {"width": 390, "height": 844}
DAY_FORMAT = re.compile(r"^\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}$")


@pytest.fixture
def phone() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    # A window is at least 500 px wide in headless Chromium; the phone's width is emulated.
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": {**PHONE, "pixelRatio": 2, "touch": True}})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def open_as(driver, live_server, account: Account, page: str) -> None:
    """``page`` of the account's community, signed in as its member (the session of a test client)."""
    client = Client()
    client.force_login(account.member.user)
    driver.get(f"{live_server.url}/static/member.css")  # the cookie needs a page of the origin first
    driver.add_cookie(
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}
    )
    driver.get(f"{live_server.url}/c/{account.community.slug}/{page}")
    assert driver.execute_script("return window.innerWidth") == PHONE["width"]


def until(driver, script: str):
    """The value of ``script`` once it is truthy (the page's scripts have run)."""
    return WebDriverWait(driver, 10, poll_frequency=0.2).until(lambda _: driver.execute_script(script))


@pytest.fixture
def chain(transactional_db) -> dict[str, Account]:
    """ann -> ben -> cat -> dan, each trusting the one before for 100."""
    community = community_with_commons(slug="phone", commons_limit=0, currency_code="DEMO")
    accounts = {handle: member_account(community, handle) for handle in ("ann", "ben", "cat", "dan")}
    for creditor, debtor in (("ben", "ann"), ("cat", "ben"), ("dan", "cat")):
        trust(accounts[creditor], accounts[debtor], 100 * UNIT)
    return accounts


def test_the_balance_chart_spaces_a_back_dated_year_by_time_with_the_pages_dates(phone, live_server, chain):
    ann, ben = chain["ann"], chain["ben"]
    days = [
        datetime(2025, 12, 6, 9, tzinfo=UTC),
        datetime(2026, 1, 10, 9, tzinfo=UTC),
        datetime(2026, 11, 20, 9, tzinfo=UTC),
    ]
    for day in days:
        payment = payment_send(payer=ann, payee=ben, amount=UNIT)
        Payment.objects.filter(pk=payment.pk).update(settled_at=day, created_at=day)

    open_as(phone, live_server, ann, "money/")
    axis = until(
        phone,
        """const chart = window.Chart && Chart.getChart(document.getElementById('balance-chart'));
        if (!chart) return null;
        const x = chart.scales.x;
        return {type: x.type, labels: x.ticks.map((tick) => tick.label),
                pixels: chart.getDatasetMeta(0).data.map((point) => point.x)};""",
    )

    assert axis["type"] == "linear"
    assert len(axis["labels"]) >= 2 and len(set(axis["labels"])) == len(axis["labels"])
    assert all(DAY_FORMAT.match(label) for label in axis["labels"]), axis["labels"]
    # The start (the first payment: the account opened later) and the three payments, spaced by time:
    # five weeks between the first two, ten months between the last two.
    start, first, second, third = axis["pixels"]
    assert start == first
    assert (third - second) > 5 * (second - first) > 0


def preview(driver, username: str, amount: str) -> None:
    for name, value in (("username", username), ("amount", amount)):
        field = driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    driver.find_element(By.ID, "preview-button").click()


def test_route_preview_refusals_are_plain_sentences_beside_their_field(phone, live_server, chain):
    open_as(phone, live_server, chain["ann"], "pay/")
    beside = """return [...document.querySelectorAll('#pay-form input + small.error')]
        .map((note) => [note.previousElementSibling.name, note.textContent])"""

    preview(phone, "ann", "0")
    assert until(phone, beside) == [["amount", "The amount must be more than zero."]]
    assert phone.find_element(By.ID, "preview").get_attribute("hidden") is not None

    preview(phone, "ann", "1")
    assert until(phone, beside) == [["username", "You cannot pay yourself."]]

    preview(phone, "dan", "150")
    message = until(phone, "return document.querySelector('#preview .error')?.textContent")
    assert message == "The trust paths to dan cannot carry 150.00 DEMO; at most 100.00 DEMO can be sent."
    assert phone.execute_script(beside) == []


def test_a_page_of_twenty_payments_is_a_compact_list_without_sideways_scrolling(phone, live_server, chain):
    ann, ben, dan = chain["ann"], chain["ben"], chain["dan"]
    for number in range(19):
        payment_send(
            payer=ann, payee=dan if number % 2 else ben, amount=UNIT + number, memo=f"Garden help, week {number}"
        )
    payment_request(payee=ben, payer=ann, amount=3 * UNIT, memo="Lessons")

    open_as(phone, live_server, ann, "payments/")
    layout = phone.execute_script(
        """const rows = [...document.querySelectorAll('.payment-row')];
        const list = document.querySelector('.payment-list').getBoundingClientRect();
        return {rows: rows.length, tallest: Math.max(...rows.map((row) => row.getBoundingClientRect().height)),
                list: list.height, wide: document.documentElement.scrollWidth,
                outside: rows.flatMap((row) => [...row.querySelectorAll('*')])
                    .filter((node) => node.getBoundingClientRect().right > list.right + 0.5).length};"""
    )

    assert layout["rows"] == 20
    assert layout["wide"] == PHONE["width"]  # nothing scrolls sideways
    assert layout["outside"] == 0
    assert layout["tallest"] < 100  # the request, whose two buttons take a third line
    assert layout["list"] < 1500  # a card of ~370 px each made this page 5,857 px tall


GRAPH = """const box = document.getElementById('trust-graph');
const cy = box._cyreg && box._cyreg.cy;  // Cytoscape.js keeps its instance on its container
if (!cy) return null;
const labelsOnly = {includeLabels: true, includeNodes: false, includeEdges: false, includeOverlays: false,
                    includeUnderlays: false};
const shown = cy.edges().filter((edge) => edge.style('label') !== '');
const labels = [
  ...shown.map((edge) => edge.renderedBoundingBox(labelsOnly)),
  ...cy.nodes().map((node) => node.renderedBoundingBox(labelsOnly)),
];
const meet = (a, b) => a.x1 < b.x2 - 1 && b.x1 < a.x2 - 1 && a.y1 < b.y2 - 1 && b.y1 < a.y2 - 1;
// Labels on labels, and labels on the dot of an account they are not about (a figure's line ends at two).
const about = [...shown.map((edge) => edge.connectedNodes()), ...cy.nodes().map((node) => node)];
const dots = labels.flatMap((label, i) => cy.nodes().difference(about[i])
  .filter((node) => meet(label, node.renderedBoundingBox({includeLabels: false}))).map((node) => node.id()));
const overlaps = labels.flatMap((a, i) => labels.slice(i + 1).filter((b) => meet(a, b))).length + dots.length;
const picture = cy.elements().renderedBoundingBox();
const [width, height] = [box.clientWidth, box.clientHeight];
return {box: [width, height], picture: [picture.w, picture.h], zoom: cy.zoom(), overlaps,
        caption: document.getElementById('trust-graph-caption').textContent, faded: cy.$('.faded').length,
        shown: shown.map((edge) => [edge.source().data('label'), edge.target().data('label')]).sort(),
        inside: picture.x1 >= 0 && picture.y1 >= 0 && picture.x2 <= width && picture.y2 <= height};"""


def test_the_trust_graph_fills_a_phone_sized_box_with_labels_that_do_not_overlap(phone, live_server, chain):
    ann, ben, cat = chain["ann"], chain["ben"], chain["cat"]
    community = ann.community
    for handle, creditor in (("eve", ann), ("fay", ann), ("gus", ben), ("hal", ben), ("ivy", cat)):
        other = member_account(community, handle)
        trust(creditor, other, 20 * UNIT)
        trust(other, creditor, 10 * UNIT)
    trust(ann, chain["dan"], 5 * UNIT)
    trust(ann, ben, 50 * UNIT)

    open_as(phone, live_server, ben, "money/")
    phone.execute_script("document.getElementById('trust-graph').scrollIntoView()")
    graph = until(phone, GRAPH)

    width, height = graph["box"]
    assert width > 300 and abs(height - width) < 0.1 * width  # about square on a phone
    assert graph["inside"] and max(graph["picture"][0] / width, graph["picture"][1] / height) > 0.8
    assert graph["zoom"] > 0.9  # drawn at about its own size: labels as large as the page's small print
    # What Ben can pay along each of his lines; no figure overlaps another or an account's name.
    assert graph["shown"] == [["ben", other] for other in ("ann", "cat", "gus", "hal")]
    assert graph["overlaps"] == 0

    assert (
        graph["caption"]
        == "Along your lines you can pay ann 50.00 DEMO, cat 100.00 DEMO, gus 10.00 DEMO and hal 10.00 DEMO."
    )
    assert graph["faded"] == 0

    # Tapping Ann lights her lines and says what she can pay along them, under the picture.
    phone.execute_script("document.getElementById('trust-graph')._cyreg.cy.nodes('[label = \"ann\"]').emit('tap')")
    tapped = until(phone, GRAPH)
    assert tapped["caption"] == "Along its lines ann can pay ben 100.00 DEMO, eve 10.00 DEMO and fay 10.00 DEMO."
    assert tapped["shown"] == [] and tapped["faded"] > 0
