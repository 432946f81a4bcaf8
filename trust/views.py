"""Member money pages: balance overview, trustlines, pay, payments with status actions."""

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from bank.pages import member_page, paged, safe_next
from core.errors import ApplicationError, InvalidInput
from trust import federated, forms, page_data, selectors
from trust.errors import written
from trust.models import Account, Payment
from trust.services import accounts, payments

T = TypeVar("T")

ACTION_LABELS = {"dispute": "Dispute", "cancel": "Cancel", "accept": "Accept", "decline": "Decline", "refund": "Refund"}
ACTION_DONE = {
    "dispute": "You disputed payment #{id}.",
    "cancel": "Payment #{id} is cancelled.",
    "accept": "You accepted payment #{id}.",
    "decline": "You declined payment #{id}; its amount went back to the payer.",
    "refund": "You refunded payment #{id}.",
}


def account_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A member page about the member's account (``request.account``)."""

    @member_page
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        request.account = selectors.account_of(member=request.member)
        return view(request, *args, **kwargs)

    return wrapper


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {"member": request.member, "account": request.account, **context}, status=status)


def _attempt(form, action: Callable[[dict], T]) -> T | None:
    """``action(cleaned_data)`` when the form is valid; a service's refusal becomes the form's error (None),
    beside the field it is about."""
    if not form.is_valid():
        return None
    try:
        return action(form.cleaned_data)
    except InvalidInput as exc:
        for name, messages in exc.extra["fields"].items():
            form.add_error(name if name in form.fields else None, messages)
    except ApplicationError as exc:
        form.add_error(None, exc.message)
    return None


def _written(request: HttpRequest, micro: int) -> str:
    return written(micro, request.community.currency_code)


def _to(name: str, request: HttpRequest, *args) -> HttpResponse:
    return redirect(f"trust:{name}", request.community.slug, *args)


# --- overview ----------------------------------------------------------------------------------


@account_page
def overview(request: HttpRequest) -> HttpResponse:
    account = request.account
    context = {
        "net_balance": selectors.net_balance(account=account),
        "history": page_data.balance_history(account=account),
        "graph": page_data.trust_neighbourhood(account=account),
    }
    return _page(request, "trust/overview.html", context)


# --- trustlines --------------------------------------------------------------------------------


def _trustlines_page(request: HttpRequest, *, add_form=None, errors: list[str] | None = None) -> HttpResponse:
    context = {
        "rows": selectors.account_rows(account=request.account),
        "add_form": add_form or forms.AddAccountForm(member=request.member),
        "errors": errors or [],
    }
    failed = errors or (add_form is not None and add_form.errors)
    return _page(request, "trust/trustlines.html", context, status=400 if failed else 200)


@account_page
def trustlines(request: HttpRequest) -> HttpResponse:
    return _trustlines_page(request)


@require_POST
@account_page
def trustline_add(request: HttpRequest) -> HttpResponse:
    form = forms.AddAccountForm(request.POST, member=request.member)
    line = _attempt(form, lambda data: accounts.trustline_add(owner=request.account, other=data["username"]))
    if line is None:
        return _trustlines_page(request, add_form=form)
    name = form.cleaned_data["username"].name
    messages.success(request, f"You have a trustline with {name}. Set the credit you extend to them below.")
    return _to("trustlines", request)


@require_POST
@account_page
def trustline_set_limit(request: HttpRequest) -> HttpResponse:
    form = forms.LimitForm(request.POST, member=request.member)
    limit_set = _attempt(
        form,
        lambda data: accounts.trustline_set_limit(owner=request.account, other=data["username"], limit=data["amount"]),
    )
    if limit_set is None:
        return _trustlines_page(request, errors=forms.form_errors(form))
    data = form.cleaned_data
    messages.success(request, f"You extend {_written(request, data['amount'])} of credit to {data['username'].name}.")
    return _to("trustlines", request)


@require_POST
@account_page
def trustline_remove(request: HttpRequest) -> HttpResponse:
    form = forms.CounterpartForm(request.POST, member=request.member)
    if _attempt(form, lambda data: accounts.trustline_remove(owner=request.account, other=data["username"])) is None:
        return _trustlines_page(request, errors=forms.form_errors(form))
    messages.success(request, f"Your trustline with {form.cleaned_data['username'].name} is removed.")
    return _to("trustlines", request)


# --- pay ---------------------------------------------------------------------------------------


@account_page
def pay(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form = forms.PaymentForm(member=request.member, initial={"username": request.GET.get("to", "")})
        return _page(request, "trust/pay.html", {"form": form})
    form = forms.PaymentForm(request.POST, member=request.member)
    payment = _attempt(form, lambda data: _pay(request, data))
    if payment is None:
        return _page(request, "trust/pay.html", {"form": form}, status=400)
    if payment.state == Payment.State.FINALIZED:
        messages.success(request, f"You paid {_written(request, payment.amount)} to {payment.payee.name}.")
    else:
        messages.info(request, f"Your payment to {payment.payee.name} is on its way.")
    return _to("payment", request, payment.pk)


def _pay(request: HttpRequest, data: dict) -> Payment:
    """A payment to a member here, or through the trust graph to a member of another instance."""
    payee, amount, memo = data["username"], data["amount"], data["memo"]
    if payee.kind == Account.Kind.REMOTE:
        hub = federated.counterparts()
        wait = settings.FEDERATED_PAYMENT_WAIT_SECONDS
        return hub.routed_payment_send(member=request.member, payee=payee, amount=amount, memo=memo, tag="", wait=wait)
    return payments.payment_send(payer=request.account, payee=payee, amount=amount, memo=memo)


# --- payments ----------------------------------------------------------------------------------


def _payment_rows(request: HttpRequest, page) -> list[dict]:
    account = request.account
    return [
        {
            "payment": payment,
            "role": page_data.role_in(payment, account),
            "status": page_data.payment_status(payment),
            "paths": page_data.payment_paths(payment),
            "actions": [
                (action, _action_label(action, payment, request))
                for action in payments.payment_actions_open(payment=payment, account=account)
            ],
        }
        for payment in page
    ]


def _action_label(action: str, payment: Payment, request: HttpRequest) -> str:
    if action == "accept" and payment.payer_id == request.account.pk:
        return "Pay this request"
    return ACTION_LABELS[action]


def _payments_page(request: HttpRequest, *, request_form=None) -> HttpResponse:
    page = paged(request, selectors.payments_of(account=request.account))
    context = {
        "page": page,
        "rows": _payment_rows(request, page),
        "request_form": request_form or forms.PaymentForm(member=request.member, username_label="From"),
    }
    return _page(request, "trust/payments.html", context, status=400 if request_form is not None else 200)


@account_page
def payments_list(request: HttpRequest) -> HttpResponse:
    return _payments_page(request)


@require_POST
@account_page
def payment_request(request: HttpRequest) -> HttpResponse:
    form = forms.PaymentForm(request.POST, member=request.member, username_label="From")
    asked = _attempt(
        form,
        lambda data: payments.payment_request(
            payee=request.account, payer=data["username"], amount=data["amount"], memo=data["memo"]
        ),
    )
    if asked is None:
        return _payments_page(request, request_form=form)
    messages.success(request, f"You asked {asked.payer.name} for {_written(request, asked.amount)}.")
    return _to("payment", request, asked.pk)


def _my_payment(request: HttpRequest, payment_id: int) -> Payment:
    payment = selectors.payment_of(account=request.account, payment_id=payment_id)
    if payment is None:
        raise Http404("There is no such payment of yours.")
    return payment


@account_page
def payment_detail(request: HttpRequest, payment_id: int) -> HttpResponse:
    row = _payment_rows(request, [_my_payment(request, payment_id)])[0]
    return _page(request, "trust/payment.html", {"row": row, "following": page_data.in_flight(row["payment"])})


@require_POST
@account_page
def payment_action(request: HttpRequest, payment_id: int, action: str) -> HttpResponse:
    payment = _my_payment(request, payment_id)
    try:
        payments.payment_change_status(payment=payment, account=request.account, action=action)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, ACTION_DONE[action].format(id=payment.pk))
    return redirect(safe_next(request) or reverse("trust:payment", args=[request.community.slug, payment.pk]))
