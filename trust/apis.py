"""The community API's user/ endpoints for trustlines and payments (Resilience seed names)."""

from collections.abc import Callable
from functools import partial

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from bank.api_views import ApiView
from core.api import InputSerializer, TextField
from core.errors import ApplicationError, Conflict, NotFound
from core.money import format_amount
from core.pagination import PAGE_PARAMETERS, paginate
from trust import counterparts, federated, selectors
from trust.errors import PayeeNotFound, PaymentNotFound, TrustlineNotFound
from trust.models import Account, Payment
from trust.serializers import AccountRowOutput, CounterpartInput, LimitField, MoneyField, PaymentInput, PaymentOutput
from trust.services import accounts, payments, remote_payments

PayerNotFound = partial(NotFound, code="payer_not_found")


class MemberApi(ApiView):
    """Base for user/ endpoints: ``self.account`` is the signed-in member's account."""

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.account = selectors.account_of(member=request.member)

    def counterpart(
        self,
        data: dict,
        *,
        missing: Callable[[str], ApplicationError] = TrustlineNotFound,
        create: bool = False,
        paying: bool = False,
    ) -> Account:
        """The account named by ``username`` and ``server`` (``trust.counterparts.counterpart_find``)."""
        return counterparts.counterpart_find(
            member=self.request.member,
            username=data["username"],
            server=data.get("server") or "",
            missing=missing,
            create=create,
            paying=paying,
        )

    def rows(self) -> list[dict]:
        return selectors.account_rows(account=self.account)

    def row_for(self, other: Account) -> dict:
        return next(row for row in self.rows() if row["address"] == other.name)


class AccountsApi(MemberApi):
    class Output(serializers.Serializer):
        accounts = AccountRowOutput(many=True)

    @extend_schema(responses=Output, summary="My trustlines, one row per counterpart")
    def get(self, request: Request) -> Response:
        return Response(self.Output({"accounts": self.rows()}).data)


class AddAccountApi(MemberApi):
    Input = CounterpartInput

    @extend_schema(request=Input, responses={201: AccountRowOutput}, summary="Open a trustline")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        other = self.counterpart(data.validated_data, missing=PayeeNotFound, create=True)
        accounts.trustline_add(owner=self.account, other=other)
        return Response(AccountRowOutput(self.row_for(other)).data, status=status.HTTP_201_CREATED)


class RemoveAccountApi(MemberApi):
    Input = CounterpartInput

    @extend_schema(request=Input, responses={204: None}, summary="Close a settled trustline")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        accounts.trustline_remove(owner=self.account, other=self.counterpart(data.validated_data))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SetTrustlineApi(MemberApi):
    class Input(CounterpartInput):
        amount = LimitField()

    @extend_schema(request=Input, responses=AccountRowOutput, summary="Set the credit I extend to a counterpart")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        other = self.counterpart(data.validated_data)
        accounts.trustline_set_limit(owner=self.account, other=other, limit=data.validated_data["amount"])
        return Response(AccountRowOutput(self.row_for(other)).data)


class TrustIndexApi(MemberApi):
    class Input(InputSerializer):
        value = TextField(max_length=16, trim_whitespace=False)  # a rate is as strict as an amount

    class Output(serializers.Serializer):
        value = serializers.CharField()
        minimum = serializers.CharField()

    def output(self) -> Response:
        value = accounts.trust_index_ppm(self.account)
        minimum = accounts.minimum_trust_index_ppm(self.account.community)
        return Response(self.Output({"value": format_amount(value), "minimum": format_amount(minimum)}).data)

    @extend_schema(responses=Output, summary="My trust index (tax rate on my payments)")
    def get(self, request: Request) -> Response:
        return self.output()

    @extend_schema(request=Input, responses=Output, summary="Set my trust index, between the community minimum and 1")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        accounts.trust_index_set(account=self.account, value=data.validated_data["value"])
        self.account.refresh_from_db()
        return self.output()


class InFlightOutput(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField(help_text="The step the payment is at while another instance has not answered")


class PaymentApi(MemberApi):
    Input = PaymentInput
    direct_only = False

    @extend_schema(
        request=Input,
        responses={201: PaymentOutput, 202: InFlightOutput},
        summary="Send a payment routed through the trust graph (also to a member of another instance)",
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        payee = self.counterpart(values, missing=PayeeNotFound, paying=not self.direct_only)
        text = {"memo": values.get("memo", ""), "tag": values.get("tag", "")}
        if payee.kind == Account.Kind.REMOTE and self.direct_only:
            sent = remote_payments.remote_payment_send(payer=self.account, payee=payee, amount=values["amount"], **text)
            return self.answered_by_the_other_instance(sent)
        if payee.kind == Account.Kind.REMOTE:
            routed = federated.counterparts().routed_payment_send(
                member=self.request.member,
                payee=payee,
                amount=values["amount"],
                wait=settings.FEDERATED_PAYMENT_WAIT_SECONDS,
                **text,
            )
            return self.answer_of(routed)
        payment = payments.payment_send(
            payer=self.account, payee=payee, amount=values["amount"], direct_only=self.direct_only, **text
        )
        payment = selectors.payment_of(account=self.account, payment_id=payment.pk)  # with its legs, for the paths
        return Response(PaymentOutput(payment).data, status=status.HTTP_201_CREATED)

    def answered_by_the_other_instance(self, sent: Payment) -> Response:
        """201 with the payment once the other instance accepted it; 409 ``payment_refused`` once it refused it
        (undone here); 202 ``{id, state}`` while it has not answered (``remote_payments.answer_awaited``)."""
        payment = remote_payments.answer_awaited(payment=sent, seconds=settings.FEDERATED_PAYMENT_WAIT_SECONDS)
        if payment.state == Payment.State.CANCELLED:
            message = f"{payment.payee.name}'s instance refused the payment; nothing was paid."
            raise Conflict(message, code="payment_refused", payment=payment.pk)
        return self.answer_of(payment)

    def answer_of(self, payment: Payment) -> Response:
        """201 with a settled payment, 202 ``{id, state}`` with one still in flight between instances."""
        if payment.state != Payment.State.FINALIZED:
            return Response({"id": payment.pk, "state": payment.state}, status=status.HTTP_202_ACCEPTED)
        payment = selectors.payment_of(account=self.account, payment_id=payment.pk)
        return Response(PaymentOutput(payment).data, status=status.HTTP_201_CREATED)


class LocalPaymentApi(PaymentApi):
    direct_only = True

    @extend_schema(
        request=PaymentInput,
        responses={201: PaymentOutput, 202: InFlightOutput},
        summary="Pay over our direct trustline only (also with an account of another instance)",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class PreviewPathOutput(serializers.Serializer):
    accounts = serializers.ListField(child=serializers.CharField())
    hops = serializers.IntegerField()
    amount = MoneyField()


class PaymentPreviewApi(MemberApi):
    Input = PaymentInput

    class Output(serializers.Serializer):
        amount = MoneyField()
        tax = MoneyField()
        fees = MoneyField()
        paths = PreviewPathOutput(many=True)

    @extend_schema(
        request=Input, responses=Output, summary="The routes, tax and fees a payment would take; moves nothing"
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        payee = self.counterpart(data.validated_data, missing=PayeeNotFound, paying=True)
        amount = data.validated_data["amount"]
        if payee.kind == Account.Kind.REMOTE:
            hub = federated.counterparts()
            plan = hub.routed_payment_preview(member=self.request.member, payee=payee, amount=amount)
        else:
            plan = payments.payment_preview(payer=self.account, payee=payee, amount=amount)
        names = selectors.paths_as_names(paths=plan.paths)
        paths = [
            {"accounts": path_names, "hops": len(path_names) - 1, "amount": share}
            for path_names, (_, share) in zip(names, plan.paths, strict=True)
        ]
        return Response(self.Output({"amount": plan.amount, "tax": plan.tax, "fees": plan.fees, "paths": paths}).data)


class ReceivePaymentApi(MemberApi):
    Input = PaymentInput

    class Output(serializers.Serializer):
        id = serializers.IntegerField()
        hashlock = serializers.CharField()

    @extend_schema(request=Input, responses={201: Output}, summary="Request a payment from a member")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        payment = payments.payment_request(
            payee=self.account,
            payer=self.counterpart(values, missing=PayerNotFound, paying=True),
            amount=values["amount"],
            memo=values.get("memo", ""),
            tag=values.get("tag", ""),
        )
        return Response(self.Output(payment).data, status=status.HTTP_201_CREATED)


class PaymentsApi(MemberApi):
    class Output(serializers.Serializer):
        payments = PaymentOutput(many=True)
        next = serializers.URLField(allow_null=True)

    @extend_schema(
        responses=Output,
        parameters=PAGE_PARAMETERS,
        summary="My payments, newest first",
    )
    def get(self, request: Request) -> Response:
        return paginate(request, selectors.payments_of(account=self.account), PaymentOutput, key="payments")


def _my_payment(account: Account, payment_id: int):
    payment = selectors.payment_of(account=account, payment_id=payment_id)
    if payment is None:
        raise PaymentNotFound("There is no such payment of yours.")
    return payment


class PaymentDetailApi(MemberApi):
    @extend_schema(responses=PaymentOutput, summary="One of my payments")
    def get(self, request: Request, payment_id: int) -> Response:
        return Response(PaymentOutput(_my_payment(self.account, payment_id)).data)


class PaymentActionApi(MemberApi):
    """``dispute``, ``cancel``, ``decline``, ``accept`` or ``refund`` (the URL names it)."""

    action: str = ""

    @extend_schema(request=None, responses=PaymentOutput, summary="Change a payment's status (Civil Money rules)")
    def post(self, request: Request, payment_id: int) -> Response:
        InputSerializer(data=request.data).is_valid(raise_exception=True)
        payment = _my_payment(self.account, payment_id)
        payments.payment_change_status(payment=payment, account=self.account, action=self.action)
        return Response(PaymentOutput(_my_payment(self.account, payment_id)).data)
