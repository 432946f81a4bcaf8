"""The members' money pages: overview, trustlines, pay (with the route preview), payments and their
status actions, receipts; who may see them."""

import html
import json
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db.models import Q
from django.test import Client

from tests.bank.web_helpers import VIEWPORT
from tests.trust.factories import community_with_commons, member_account, trust
from trust.models import Account, Payment, Trustline
from trust.selectors import net_balance
from trust.services.payments import payment_request, payment_send

UNIT = 1_000_000
PAGES = ["money/", "trustlines/", "pay/", "payments/", "receipts/"]


def text(response) -> str:
    """The page as a person reads it (entities such as &#x27; unescaped)."""
    return html.unescape(response.content.decode())


def embedded_json(response, element_id: str):
    """The data a page hands its scripts with ``json_script``."""
    pattern = rf'<script id="{element_id}" type="application/json">(.*?)</script>'
    match = re.search(pattern, response.content.decode(), re.DOTALL)
    assert match, f"no #{element_id} in the page"
    return json.loads(match.group(1))


def line_between(one: Account, other: Account) -> Trustline | None:
    return Trustline.objects.filter(Q(low=one, high=other) | Q(low=other, high=one)).first()


def signed_in(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


@dataclass
class Chain:
    """ann -> ben -> cat -> dan: each extends 100 to the one before, and the commons extends nothing."""

    community: object
    ann: Account
    ben: Account
    cat: Account
    dan: Account

    def url(self, page: str) -> str:
        return f"/c/{self.community.slug}/{page}"

    def client(self, account: Account) -> Client:
        return signed_in(account.member)

    def taxed(self, rate: str, payer: Account) -> None:
        """Tax payments at ``rate``, with credit from the commons so ``payer`` can pay it."""
        self.community.minimum_trust_index = Decimal(rate)
        self.community.save()
        for account in (self.ann, self.ben, self.cat, self.dan):
            account.community.refresh_from_db()
        trust(Account.objects.get(community=self.community, kind=Account.Kind.COMMONS), payer, 10 * UNIT)


@pytest.fixture
def chain(db) -> Chain:
    community = community_with_commons(slug="gamma", commons_limit=0)
    ann, ben, cat, dan = (member_account(community, handle) for handle in ("ann", "ben", "cat", "dan"))
    trust(ben, ann, 100 * UNIT)
    trust(cat, ben, 100 * UNIT)
    trust(dan, cat, 100 * UNIT)
    return Chain(community, ann, ben, cat, dan)


# --- who sees the pages --------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_for_a_member_with_viewport_and_navigation(world, page):
    response = signed_in(world.a.member).get(f"/c/alpha/{page}")
    assert response.status_code == 200
    body = response.content.decode()
    assert VIEWPORT in body
    for link in PAGES:
        assert f'href="/c/alpha/{link}"' in body


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitor_goes_to_the_community_sign_in(client, world, page):
    response = client.get(f"/c/alpha/{page}")
    assert response.status_code == 302
    assert response.url == f"/c/alpha/login/?next=/c/alpha/{page}"


@pytest.mark.parametrize("page", PAGES)
def test_member_of_another_community_goes_to_its_sign_in(world, page):
    response = signed_in(world.b.member).get(f"/c/alpha/{page}")
    assert response.status_code == 302
    assert response.url == f"/c/alpha/login/?next=/c/alpha/{page}"


def test_deactivated_member_goes_to_the_sign_in(world):
    response = signed_in(world.a.inactive).get("/c/alpha/money/")
    assert response.status_code == 302
    assert response.url == "/c/alpha/login/?next=/c/alpha/money/"


def test_member_of_another_community_can_neither_read_nor_change_its_money(world):
    alpha_member = Account.objects.get(member=world.a.member)
    alpha_admin = Account.objects.get(member=world.a.admin)
    trust(alpha_admin, alpha_member, 50 * UNIT)
    payment = payment_send(payer=alpha_member, payee=alpha_admin, amount=5 * UNIT, memo="alpha secret")
    lines = Trustline.objects.count()
    beta = signed_in(world.b.member)

    for url in (f"/c/alpha/payments/{payment.pk}/", "/c/alpha/receipts/", "/c/alpha/money/"):
        response = beta.get(url)
        assert response.status_code == 302 and "alpha secret" not in text(response)
    assert beta.post(f"/c/alpha/payments/{payment.pk}/dispute/").status_code == 302
    assert beta.post("/c/alpha/trustlines/add/", {"username": "admin"}).status_code == 302
    assert beta.post("/c/alpha/pay/", {"username": "admin", "amount": "1"}).status_code == 302

    payment.refresh_from_db()
    assert payment.payer_status == Payment.PayerStatus.ACCEPT
    assert Payment.objects.filter(community=world.a.community).count() == 1
    assert Trustline.objects.count() == lines


def test_beta_pages_show_only_beta_accounts(world):
    """The same handles exist in both communities; a beta member's pages name beta's accounts only."""
    alpha_member = Account.objects.get(member=world.a.member)
    alpha_admin = Account.objects.get(member=world.a.admin)
    trust(alpha_admin, alpha_member, 50 * UNIT)
    payment_send(payer=alpha_member, payee=alpha_admin, amount=5 * UNIT, memo="alpha secret")

    beta = signed_in(world.b.member)
    assert "alpha secret" not in text(beta.get("/c/beta/payments/"))
    graph = embedded_json(beta.get("/c/beta/money/"), "trust-graph-data")
    beta_ids = set(Account.objects.filter(community=world.b.community).values_list("pk", flat=True))
    assert {node["id"] for node in graph["nodes"]} <= beta_ids


def test_someone_elses_payment_in_the_same_community_is_not_found(chain):
    payment = payment_send(payer=chain.ann, payee=chain.ben, amount=UNIT)
    response = chain.client(chain.dan).get(chain.url(f"payments/{payment.pk}/"))
    assert response.status_code == 404


def test_community_home_links_to_the_money_pages(world):
    body = signed_in(world.a.member).get("/c/alpha/").content.decode()
    for link in ("money/", "pay/", "trustlines/"):
        assert f'href="/c/alpha/{link}"' in body


# --- trustlines ----------------------------------------------------------------------------------


def test_trustlines_page_lists_counterparts_from_my_side(chain):
    payment_send(payer=chain.ann, payee=chain.ben, amount=12 * UNIT + 500_000)
    page = text(chain.client(chain.ben).get(chain.url("trustlines/")))
    ann_row = page[page.index("<h2>ann</h2>") : page.index("</article>", page.index("<h2>ann</h2>"))]
    assert "12.50" in ann_row and "they owe you" in ann_row
    assert re.search(r"Credit I extend</dt><dd>100\.00</dd>", ann_row)
    assert re.search(r"Credit extended to me</dt><dd>0\.00</dd>", ann_row)
    assert "<h2>commons</h2>" in page and "<h2>cat</h2>" in page


def test_add_an_account_set_the_credit_and_remove_the_settled_line(chain):
    ann = chain.client(chain.ann)

    response = ann.post(chain.url("trustlines/add/"), {"username": "cat"}, follow=True)
    assert "You have a trustline with cat." in text(response)
    line = line_between(chain.ann, chain.cat)
    assert line is not None and line.closed_at is None

    response = ann.post(chain.url("trustlines/limit/"), {"username": "cat", "amount": "25.5"}, follow=True)
    assert "You extend 25.50 TRUST of credit to cat." in text(response)
    line.refresh_from_db()
    assert line.limit_extended_by(chain.ann.pk) == 25_500_000
    assert line.limit_extended_by(chain.cat.pk) == 0

    response = ann.post(chain.url("trustlines/remove/"), {"username": "cat"}, follow=True)
    assert "Your trustline with cat is removed." in text(response)
    line.refresh_from_db()
    assert line.closed_at is not None
    assert "<h2>cat</h2>" not in text(response)


def test_adding_an_existing_or_unknown_account_shows_the_error_and_changes_nothing(chain):
    ann = chain.client(chain.ann)
    lines = Trustline.objects.count()

    response = ann.post(chain.url("trustlines/add/"), {"username": "ben"})
    assert response.status_code == 400
    assert "You already have a trustline with ben." in text(response)

    response = ann.post(chain.url("trustlines/add/"), {"username": "nobody"})
    assert response.status_code == 400
    assert "There is no account 'nobody' in this community." in text(response)

    response = ann.post(chain.url("trustlines/add/"), {"username": "ann"})
    assert response.status_code == 400
    assert "You cannot open a trustline with yourself." in text(response)
    assert Trustline.objects.count() == lines


@pytest.mark.parametrize(
    "amount, message",
    [
        ("12.1234567", "Amounts have at most 6 decimal places."),
        ("-5", "Amounts are written like"),
        ("1e3", "Amounts are written like"),
        ("", "This field is required."),
    ],
)
def test_a_bad_credit_amount_is_shown_and_the_limit_stays(chain, amount, message):
    response = chain.client(chain.ben).post(chain.url("trustlines/limit/"), {"username": "ann", "amount": amount})
    assert response.status_code == 400
    assert message in text(response)
    assert line_between(chain.ann, chain.ben).limit_extended_by(chain.ben.pk) == 100 * UNIT


def test_setting_credit_without_a_trustline_is_refused(chain):
    response = chain.client(chain.ann).post(chain.url("trustlines/limit/"), {"username": "dan", "amount": "5"})
    assert response.status_code == 400
    assert "You have no trustline with dan; add the account first." in text(response)
    assert line_between(chain.ann, chain.dan) is None


def test_removing_a_line_with_a_balance_or_the_commons_line_is_refused(chain):
    payment_send(payer=chain.ann, payee=chain.ben, amount=3 * UNIT)
    ben = chain.client(chain.ben)

    page = text(ben.get(chain.url("trustlines/")))
    ann_row = page[page.index("<h2>ann</h2>") : page.index("</article>", page.index("<h2>ann</h2>"))]
    assert "Remove trustline" not in ann_row  # no button for a line that is not settled

    response = ben.post(chain.url("trustlines/remove/"), {"username": "ann"})
    assert response.status_code == 400
    assert "The balance on this trustline is not zero; settle it first." in text(response)
    assert line_between(chain.ann, chain.ben).closed_at is None

    response = ben.post(chain.url("trustlines/remove/"), {"username": "commons"})
    assert response.status_code == 400
    assert "The trustline with the commons belongs to your membership." in text(response)


def test_trustline_forms_need_a_post_and_a_csrf_token(chain):
    assert chain.client(chain.ann).get(chain.url("trustlines/add/")).status_code == 405
    client = Client(enforce_csrf_checks=True)
    client.force_login(chain.ann.member.user)
    assert client.post(chain.url("trustlines/add/"), {"username": "cat"}).status_code == 403
    assert line_between(chain.ann, chain.cat) is None


# --- pay -----------------------------------------------------------------------------------------


def test_routed_payment_from_the_pay_page_reaches_the_payees_pages(chain):
    response = chain.client(chain.ann).post(
        chain.url("pay/"), {"username": "dan", "amount": "10.25", "memo": "Garden help"}, follow=True
    )
    payment = Payment.objects.get(payer=chain.ann, payee=chain.dan)
    assert response.redirect_chain == [(chain.url(f"payments/{payment.pk}/"), 302)]
    page = text(response)
    assert "You paid 10.25 TRUST to dan." in page
    assert "ann → ben → cat → dan" in page
    assert payment.state == Payment.State.FINALIZED and payment.amount == 10_250_000
    assert net_balance(account=chain.dan) == 10_250_000

    dan = chain.client(chain.dan)
    payments_page = text(dan.get(chain.url("payments/")))
    assert f'<a class="payment-who" href="{chain.url(f"payments/{payment.pk}/")}">From ann</a>' in payments_page
    assert "Garden help" in payments_page
    detail = text(dan.get(chain.url(f"payments/{payment.pk}/")))
    assert "ann → ben → cat → dan" in detail and "(3 hops)" in detail
    receipts = text(dan.get(chain.url("receipts/")))
    assert "Received from ann" in receipts and "10.25" in receipts and "Garden help" in receipts
    assert "Paid to dan" in text(chain.client(chain.ann).get(chain.url("receipts/")))


def test_a_payment_that_cannot_be_routed_is_explained_and_moves_nothing(chain):
    response = chain.client(chain.ann).post(chain.url("pay/"), {"username": "dan", "amount": "150"})
    assert response.status_code == 400
    page = text(response)
    assert "The trust paths to dan cannot carry 150.00 TRUST; at most 100.00 TRUST can be sent." in page
    assert 'value="150"' in page  # the form keeps what was typed
    assert not Payment.objects.exists()
    assert net_balance(account=chain.ann) == 0


@pytest.mark.parametrize(
    "data, message",
    [
        ({"username": "nobody", "amount": "1"}, "There is no account 'nobody' in this community."),
        ({"username": "ann", "amount": "1"}, "You cannot pay yourself."),
        ({"username": "dan", "amount": "0"}, "The amount must be more than zero."),
        ({"username": "dan", "amount": "1", "memo": "é" * 200}, "A memo is at most 255 bytes of UTF-8."),
    ],
)
def test_pay_form_errors_are_shown(chain, data, message):
    response = chain.client(chain.ann).post(chain.url("pay/"), data)
    assert response.status_code == 400
    assert message in text(response)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"username": "ann", "amount": "1"}, "username", "You cannot pay yourself."),
        ({"username": "dan", "amount": "0"}, "amount", "The amount must be more than zero."),
    ],
)
def test_a_refused_field_is_named_beside_it_not_by_its_internal_name(chain, data, field, message):
    page = text(chain.client(chain.ann).post(chain.url("pay/"), data))
    assert re.search(rf'<input [^>]*name="{field}"[^>]*>\s*<small class="error">{re.escape(message)}', page), page
    assert f"{field}:" not in page


def test_a_refusal_names_the_payee_and_writes_amounts_as_people_do(chain):
    page = text(chain.client(chain.ann).post(chain.url("pay/"), {"username": "dan", "amount": "100000"}))
    assert "The trust paths to dan cannot carry 100,000.00 TRUST; at most 100.00 TRUST can be sent." in page


def test_pay_page_names_the_preview_endpoint_and_prefills_the_payee(chain):
    response = chain.client(chain.ann).get(chain.url("pay/?to=dan"))
    body = response.content.decode()
    assert 'data-preview-url="/c/gamma/api/user/payment/preview"' in body
    assert 'name="username" value="dan"' in body
    assert "/static/trust/pay.js" in body


def test_route_preview_with_the_sessions_csrf_token_as_the_page_script_sends_it(chain):
    chain.taxed("0.02", chain.ann)
    client = Client(enforce_csrf_checks=True)
    client.force_login(chain.ann.member.user)
    page = client.get(chain.url("pay/")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    url = chain.url("api/user/payment/preview")
    body = json.dumps({"username": "dan", "amount": "10"})

    refused = client.post(url, body, content_type="application/json")
    assert refused.status_code == 403

    response = client.post(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    plan = response.json()
    assert plan["paths"] == [{"accounts": ["ann", "ben", "cat", "dan"], "hops": 3, "amount": "10.000000"}]
    assert plan["tax"] == "0.200000"
    assert not Payment.objects.exists()


# --- payments and status actions -----------------------------------------------------------------


def action(client: Client, chain: Chain, payment: Payment, name: str, **data):
    return client.post(chain.url(f"payments/{payment.pk}/{name}/"), data, follow=True)


def buttons(page: str) -> list[str]:
    return re.findall(r'<button type="submit" class="(?:primary|secondary)">([^<]+)</button>', page)


def test_payee_accepts_then_refunds_and_the_money_goes_back(chain):
    payment = payment_send(payer=chain.ann, payee=chain.ben, amount=4 * UNIT)
    ben = chain.client(chain.ben)
    assert buttons(text(ben.get(chain.url(f"payments/{payment.pk}/")))) == ["Accept", "Decline"]

    response = action(ben, chain, payment, "accept")
    assert f"You accepted payment #{payment.pk}." in text(response)
    payment.refresh_from_db()
    assert payment.payee_status == Payment.PayeeStatus.ACCEPT
    assert buttons(text(response)) == ["Refund"]

    response = action(ben, chain, payment, "refund")
    assert f"You refunded payment #{payment.pk}." in text(response)
    payment.refresh_from_db()
    assert payment.payee_status == Payment.PayeeStatus.REFUND
    assert Payment.objects.get(related=payment).kind == Payment.Kind.REFUND
    assert net_balance(account=chain.ben) == 0


def test_payee_declines_and_the_amount_returns(chain):
    payment = payment_send(payer=chain.ann, payee=chain.ben, amount=4 * UNIT)
    response = action(chain.client(chain.ben), chain, payment, "decline")
    assert "its amount went back to the payer" in text(response)
    payment.refresh_from_db()
    assert payment.payee_status == Payment.PayeeStatus.DECLINE
    assert net_balance(account=chain.ann) == 0


def test_payer_disputes_a_settled_payment(chain):
    payment = payment_send(payer=chain.ann, payee=chain.ben, amount=UNIT)
    ann = chain.client(chain.ann)
    assert buttons(text(ann.get(chain.url(f"payments/{payment.pk}/")))) == ["Dispute"]
    response = action(ann, chain, payment, "dispute")
    assert f"You disputed payment #{payment.pk}." in text(response)
    payment.refresh_from_db()
    assert payment.payer_status == Payment.PayerStatus.DISPUTE


@pytest.mark.parametrize(
    "who, name, message",
    [
        ("ann", "refund", "Only the payee of a payment can refund it."),
        ("ann", "decline", "Only the payee of a payment can decline it."),
        ("ben", "dispute", "Only the payer of a payment can dispute it."),
        ("ben", "refund", "Only a settled payment you accepted can be refunded."),
        ("ann", "cancel", "This payment has settled; the payee can refund it, or you can dispute it."),
    ],
)
def test_disallowed_actions_are_refused_with_a_visible_message(chain, who, name, message):
    payment = payment_send(payer=chain.ann, payee=chain.ben, amount=UNIT)
    response = action(chain.client(getattr(chain, who)), chain, payment, name)
    assert response.status_code == 200
    assert 'class="flash flash-error"' in response.content.decode()
    assert message in text(response)
    payment.refresh_from_db()
    assert (payment.state, payment.payer_status, payment.payee_status) == (
        Payment.State.FINALIZED,
        Payment.PayerStatus.ACCEPT,
        Payment.PayeeStatus.NOT_SET,
    )
    assert Payment.objects.count() == 1


def test_action_returns_to_the_page_it_came_from_but_never_off_site(chain):
    payment = payment_send(payer=chain.ann, payee=chain.ben, amount=UNIT)
    ben = chain.client(chain.ben)
    back = chain.url("payments/?page=1")
    response = ben.post(chain.url(f"payments/{payment.pk}/accept/"), {"next": back})
    assert response.url == back
    response = ben.post(chain.url(f"payments/{payment.pk}/refund/"), {"next": "https://evil.example/"})
    assert response.url == chain.url(f"payments/{payment.pk}/")


def test_request_payment_form_then_the_payer_pays_it(chain):
    dan = chain.client(chain.dan)
    data = {"username": "ann", "amount": "7", "memo": "Lessons"}
    response = dan.post(chain.url("payments/request/"), data, follow=True)
    request = Payment.objects.get(kind=Payment.Kind.REQUEST)
    assert "You asked ann for 7.00 TRUST." in text(response)
    assert (request.payer, request.payee, request.state) == (chain.ann, chain.dan, Payment.State.PENDING)
    assert buttons(text(response)) == ["Cancel"]

    ann = chain.client(chain.ann)
    page = text(ann.get(chain.url("payments/")))
    assert "Lessons" in page and buttons(page) == ["Pay this request", "Cancel"]
    action(ann, chain, request, "accept")
    request.refresh_from_db()
    assert request.state == Payment.State.FINALIZED
    assert net_balance(account=chain.dan) == 7 * UNIT
    assert "Received from ann" in text(dan.get(chain.url("receipts/")))


def test_a_request_to_an_unknown_payer_is_shown_on_the_form(chain):
    response = chain.client(chain.dan).post(chain.url("payments/request/"), {"username": "zed", "amount": "7"})
    assert response.status_code == 400
    assert "There is no account 'zed' in this community." in text(response)
    assert '<details class="card" id="request" open>' in response.content.decode()
    assert not Payment.objects.exists()


def test_payer_cancels_a_pending_request(chain):
    request = payment_request(payee=chain.dan, payer=chain.ann, amount=UNIT)
    response = action(chain.client(chain.ann), chain, request, "cancel")
    assert f"Payment #{request.pk} is cancelled." in text(response)
    request.refresh_from_db()
    assert request.state == Payment.State.CANCELLED
    assert buttons(text(response)) == []


def test_payments_are_newest_first_and_paginated(chain):
    requests = [payment_request(payee=chain.dan, payer=chain.ann, amount=(n + 1) * UNIT) for n in range(21)]
    dan = chain.client(chain.dan)
    first = dan.get(chain.url("payments/")).content.decode()
    ids = [int(pk) for pk in re.findall(r'<li class="payment-row" id="payment-(\d+)"', first)]
    assert ids == [payment.pk for payment in reversed(requests)][:20]
    assert "Page 1 of 2" in first
    second = dan.get(chain.url("payments/?page=2")).content.decode()
    assert re.findall(r'id="payment-(\d+)"', second) == [str(requests[0].pk)]


def test_payments_list_one_row_each_with_status_in_words_and_the_page_of_one_says_more(chain):
    answered = payment_send(payer=chain.ann, payee=chain.ben, amount=4 * UNIT, memo="Bread")
    action(chain.client(chain.ben), chain, answered, "accept")
    unanswered = payment_send(payer=chain.ann, payee=chain.dan, amount=2 * UNIT)
    asked = payment_request(payee=chain.cat, payer=chain.ann, amount=UNIT)

    page = text(chain.client(chain.ann).get(chain.url("payments/")))

    rows = re.findall(r'<li class="payment-row" id="payment-(\d+)">(.*?)</li>', page, re.DOTALL)
    assert [int(pk) for pk, _ in rows] == [asked.pk, unanswered.pk, answered.pk]
    words = [re.search(r'class="payment-status status-(\w+)">([^<]+)<', row).groups() for _, row in rows]
    assert words == [("waiting", "awaiting the payer"), ("waiting", "awaiting the payee"), ("done", "accepted")]
    for who, (_, row) in zip(["To cat", "To dan", "To ben"], rows, strict=True):
        assert f">{who}</a>" in row
    assert "Bread" in rows[2][1] and "4.00" in rows[2][1]
    assert "Payment request" in rows[0][1]
    for raw in ("NotSet", "Accept<", "Payer status", "Payee status", "Finalized"):
        assert raw not in page

    detail = text(chain.client(chain.dan).get(chain.url(f"payments/{unanswered.pk}/")))
    assert re.search(r"<dt>Status</dt><dd><span [^>]*>awaiting the payee</span></dd>", detail)
    assert "ann → ben → cat → dan" in detail and "NotSet" not in detail and "Payer status" not in detail
    assert buttons(detail) == ["Accept", "Decline"]


def test_receipts_show_settled_payments_only_with_what_the_payer_paid_in_all(chain):
    chain.taxed("0.1", chain.ann)
    paid = payment_send(payer=chain.ann, payee=chain.ben, amount=5 * UNIT)
    payment_request(payee=chain.ben, payer=chain.ann, amount=UNIT, memo="still pending")
    assert paid.tax == 500_000

    page = text(chain.client(chain.ann).get(chain.url("receipts/")))
    assert "-5.50" in page and "Paid to ben" in page
    assert "still pending" not in page


# --- overview: balance history and trust picture -------------------------------------------------


def test_overview_history_follows_the_members_legs(chain):
    payments = [
        payment_send(payer=chain.ann, payee=chain.dan, amount=10 * UNIT),
        payment_send(payer=chain.dan, payee=chain.ann, amount=4 * UNIT),
        payment_send(payer=chain.cat, payee=chain.dan, amount=UNIT + 250_000),
    ]

    response = chain.client(chain.dan).get(chain.url("money/"))
    history = embedded_json(response, "balance-history")
    assert [point["balance"] for point in history] == [0, 10 * UNIT, 6 * UNIT, 7_250_000]
    assert [point["payment"] for point in history] == [None, *(payment.pk for payment in payments)]
    assert history[-1]["balance"] == net_balance(account=chain.dan)
    assert 'id="net-balance">7.25' in response.content.decode()

    relayed = embedded_json(chain.client(chain.ben).get(chain.url("money/")), "balance-history")
    assert [point["balance"] for point in relayed] == [0, 0, 0]  # ben only passed the first two on


def test_overview_graph_shows_two_hops_with_capacities(chain):
    payment_send(payer=chain.ann, payee=chain.dan, amount=10 * UNIT)
    response = chain.client(chain.ben).get(chain.url("money/"))
    graph = embedded_json(response, "trust-graph-data")

    commons = Account.objects.get(community=chain.community, kind="commons")
    roles = {node["label"]: node["role"] for node in graph["nodes"]}
    assert roles == {"ben": "me", "ann": "counterpart", "cat": "counterpart", "commons": "commons", "dan": "second"}

    # Ben's lines, and his member counterparts' lines; the commons' other lines are not expanded.
    expected_lines = {
        line_between(*pair).pk
        for pair in [
            (chain.ben, chain.ann),
            (chain.ben, chain.cat),
            (chain.ben, commons),
            (chain.cat, chain.dan),
            (chain.ann, commons),
            (chain.cat, commons),
        ]
    }
    assert {edge["line"] for edge in graph["edges"]} == expected_lines
    assert line_between(chain.dan, commons).pk not in {edge["line"] for edge in graph["edges"]}
    for edge in graph["edges"]:
        line = Trustline.objects.get(pk=edge["line"])
        assert edge["capacity"] == line.capacity_from(edge["source"])
        assert {edge["source"], edge["target"]} == {line.low_id, line.high_id}
    ids = {node["label"]: node["id"] for node in graph["nodes"]}
    ben_to_cat = next(e for e in graph["edges"] if (e["source"], e["target"]) == (ids["ben"], ids["cat"]))
    assert ben_to_cat["capacity"] == 90 * UNIT  # cat's 100 of credit, 10 of it used by the payment


def test_overview_of_a_member_without_trustlines_shows_just_them(chain):
    newcomer = member_account(chain.community, "eve")
    Trustline.objects.filter(Q(low=newcomer) | Q(high=newcomer)).update(closed_at="2020-01-01T00:00:00Z")
    response = chain.client(newcomer).get(chain.url("money/"))
    assert embedded_json(response, "trust-graph-data") == {
        "nodes": [{"id": newcomer.pk, "label": "eve", "role": "me"}],
        "edges": [],
    }
    assert "No payments yet" in text(response)
    body = response.content.decode()
    for script in ("vendor/chartjs/chart.umd.min.js", "vendor/cytoscape/cytoscape.min.js", "trust/overview.js"):
        assert f"/static/{script}" in body
