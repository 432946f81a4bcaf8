"""The ledger's API: public records (anyone), my signed receipts, my balances by the ledger, receipt checks."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from bank.api_views import ApiView
from core.api import InputSerializer
from core.errors import ApplicationError
from core.numbers import number_schema, query_number
from core.pagination import LIMIT_PARAMETER, page_limit
from ledger import selectors
from ledger.apis.motions import ReceiptInput
from ledger.formats import parse_record
from trust import selectors as trust_selectors
from trust.serializers import AccountRowOutput


def _page(request: Request, items: list[dict], limit: int, cursor: str) -> tuple[list[dict], str | None]:
    """``items`` (fetched ``limit + 1``) cut to the page, and the URL of the following page or None."""
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    return items, replace_query_param(request.build_absolute_uri(), cursor, items[-1]["receipt_id"])


class RecordOutput(serializers.Serializer):
    type = serializers.CharField()
    utc = serializers.CharField()
    receipt_id = serializers.IntegerField()
    amount = serializers.CharField()
    ledger_hash = serializers.CharField()
    receipt_hash = serializers.CharField()


class PublicRecordsApi(ApiView):
    permission_classes = (AllowAny,)

    class Output(serializers.Serializer):
        records = RecordOutput(many=True)
        next = serializers.URLField(allow_null=True)

    @extend_schema(
        responses=Output,
        summary="The community's public records, oldest first (no sign-in)",
        parameters=[
            LIMIT_PARAMETER,
            OpenApiParameter("after", number_schema(minimum=0), description="Start after this receipt id."),
        ],
    )
    def get(self, request: Request) -> Response:
        limit = page_limit(request)
        after = query_number(request, "after", minimum=0)
        lines = selectors.records_page(community=request.community, after=after, limit=limit + 1)
        records, next_url = _page(request, [parse_record(line)._asdict() for line in lines], limit, "after")
        return Response(self.Output({"records": records, "next": next_url}).data)


class ReceiptOutput(serializers.Serializer):
    receipt_id = serializers.IntegerField()
    text = serializers.CharField(help_text="UTC|SOURCE|DESTINATION|AMOUNT|LEDGER_HASH|RECEIPT_ID")
    member_signature = serializers.CharField(help_text="ECDSA P-256 over the text, hex")
    server_signature = serializers.CharField(help_text="Ed25519 over the text and member signature, hex")
    member_public_key = serializers.CharField(help_text="The receipt key that signed, compressed P-256, hex")
    identity_public_key = serializers.CharField(
        help_text="The source member's identity key that certified it, or empty"
    )
    key_certificate = serializers.CharField(
        help_text="ECDSA by identity_public_key over receipt-key|identity|member key, hex"
    )
    server_public_key = serializers.CharField()
    type = serializers.CharField()
    utc = serializers.CharField()
    amount = serializers.CharField()
    direction = serializers.ChoiceField(choices=["out", "in"])
    counterpart = serializers.CharField(
        help_text="The payment's other party: its payee when direction is out (the commons for tax), else its payer"
    )
    hop = serializers.CharField(help_text="The account this entry moved the amount to (out) or from (in)")
    payment = serializers.IntegerField(allow_null=True)
    record = serializers.CharField()


class MemberLedgerApi(ApiView):
    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.account = trust_selectors.account_of(member=request.member)


class ReceiptsApi(MemberLedgerApi):
    class Output(serializers.Serializer):
        receipts = ReceiptOutput(many=True)
        next = serializers.URLField(allow_null=True)

    @extend_schema(
        responses=Output,
        summary="My signed receipts, newest first",
        parameters=[
            LIMIT_PARAMETER,
            OpenApiParameter("before", number_schema(), description="Start before this receipt id."),
        ],
    )
    def get(self, request: Request) -> Response:
        limit = page_limit(request)
        before = query_number(request, "before")
        receipts, next_url = _page(
            request, selectors.receipts_page(account=self.account, before=before, limit=limit + 1), limit, "before"
        )
        return Response(self.Output({"receipts": receipts, "next": next_url}).data)


class BalanceApi(MemberLedgerApi):
    class Output(serializers.Serializer):
        accounts = AccountRowOutput(many=True)

    @extend_schema(responses=Output, summary="My trustlines with balances replayed from the ledger")
    def get(self, request: Request) -> Response:
        return Response(self.Output({"accounts": selectors.balance_rows(account=self.account)}).data)


class ReceiptMalformed(ApplicationError):
    code = "receipt_malformed"


class VerifyApi(MemberLedgerApi):
    class Input(InputSerializer):
        receipt = ReceiptInput()

    class Output(serializers.Serializer):
        receipt_id = serializers.IntegerField()
        valid = serializers.BooleanField()

    @extend_schema(request=Input, responses=Output, summary="Check a receipt against the ledger and both keys")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        if not data.is_valid():
            raise ReceiptMalformed("A receipt is {text, member_signature, server_signature}, all strings.")
        receipt = data.validated_data["receipt"]
        try:
            receipt_id, valid = selectors.receipt_verify(
                community=request.community,
                text=receipt.text,
                member_signature=receipt.member_signature,
                server_signature=receipt.server_signature,
            )
        except ValueError as exc:
            raise ReceiptMalformed(f"This is not a receipt: {exc}") from None
        return Response(self.Output({"receipt_id": receipt_id, "valid": valid}).data)
