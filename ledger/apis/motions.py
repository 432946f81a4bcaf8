"""The community API's ledger/ motions: audit, resolve, second, tickets and contest."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from bank.api_views import ApiView
from core.api import InputSerializer, TextField
from core.errors import NotFound
from core.numbers import MAX_ID
from ledger.models import Conflict, Ticket
from ledger.services import motions
from ledger.verification import Receipt

MAX_RECEIPT = 512


@extend_schema_field({"type": "string", "pattern": "^([0-9a-fA-F]{2})+$", "maxLength": 256})
class HexField(TextField):
    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=256, **kwargs)

    def to_internal_value(self, data) -> bytes:
        try:
            return bytes.fromhex(super().to_internal_value(data))
        except ValueError:
            raise serializers.ValidationError("Not a hex string.") from None


# UTC|SOURCE|DESTINATION|AMOUNT|LEDGER_HASH|RECEIPT_ID (ledger.formats)
@extend_schema_field({"type": "string", "pattern": r"^[^|]+(\|[^|]+){4}\|[0-9]{1,19}$", "maxLength": MAX_RECEIPT})
class ReceiptTextField(TextField):
    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=MAX_RECEIPT, trim_whitespace=False, **kwargs)


class ReceiptInput(InputSerializer):
    text = ReceiptTextField()
    member_signature = HexField()
    server_signature = HexField()

    def to_internal_value(self, data) -> Receipt:
        return Receipt(**super().to_internal_value(data))


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1, "maximum": MAX_ID}, {"type": "object"}]})
class ReceiptOrLineField(serializers.Field):
    """Another receipt, or the line number of a public record (line n is receipt n - 1)."""

    def to_internal_value(self, data) -> Receipt | int:
        if isinstance(data, bool):
            raise serializers.ValidationError("A receipt or a public record line number.")
        if isinstance(data, int):
            if data < 1:
                raise serializers.ValidationError("Public record lines are numbered from 1.")
            if data > MAX_ID:
                raise serializers.ValidationError(f"Public record lines are numbered up to {MAX_ID}.")
            return data
        receipt = ReceiptInput(data=data)
        receipt.is_valid(raise_exception=True)
        return receipt.validated_data


class ConflictOutput(serializers.Serializer):
    id = serializers.IntegerField()
    receipt_id = serializers.IntegerField(allow_null=True)
    code = serializers.CharField()
    description = serializers.CharField()
    options = serializers.ListField(child=serializers.DictField())
    resolved = serializers.SerializerMethodField()

    def get_resolved(self, conflict: Conflict) -> bool:
        return conflict.resolved_by_id is not None


class TicketOutput(serializers.Serializer):
    ticket = serializers.CharField(source="number")
    kind = serializers.CharField()
    state = serializers.CharField()
    progress = serializers.SerializerMethodField()
    conflicts = ConflictOutput(many=True, source="conflicts.all")

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_progress(self, ticket: Ticket) -> dict:
        return {"percent": ticket.progress, "entries_checked": ticket.entries_checked}


def _ticket_response(ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
    return Response(TicketOutput(ticket).data, status=code)


class AuditApi(ApiView):
    @extend_schema(request=None, responses={201: TicketOutput}, summary="Move an audit of the books (needs a second)")
    def post(self, request: Request) -> Response:
        InputSerializer(data=request.data).is_valid(raise_exception=True)  # takes no body: refuses one
        return _ticket_response(motions.audit_request(member=request.member), status.HTTP_201_CREATED)


class ResolveApi(ApiView):
    class Input(InputSerializer):
        conflict_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        option_id = TextField(max_length=32)

    @extend_schema(
        request=Input, responses={201: TicketOutput}, summary="Move a conflict's resolution (needs a second)"
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = motions.resolve_request(member=request.member, **data.validated_data)
        return _ticket_response(ticket, status.HTTP_201_CREATED)


class SecondApi(ApiView):
    class Input(InputSerializer):
        ticket = TextField(max_length=32)

    @extend_schema(request=Input, responses=TicketOutput, summary="Second another member's ticket; it then runs")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = motions.ticket_second(member=request.member, number=data.validated_data["ticket"])
        ticket.refresh_from_db()  # an eager worker may have run it already
        return _ticket_response(ticket)


class TicketApi(ApiView):
    @extend_schema(responses=TicketOutput, summary="A ticket's state, progress and conflicts")
    def get(self, request: Request, number: str) -> Response:
        ticket = Ticket.objects.filter(community_id=request.member.community_id, number=number).first()
        if ticket is None:
            raise NotFound("There is no such ticket in this community.", code="ticket_not_found")
        return _ticket_response(ticket)


class ContestApi(ApiView):
    class Input(InputSerializer):
        receipt = ReceiptInput()
        other = ReceiptOrLineField()

    class Output(serializers.Serializer):
        conflicts = ConflictOutput(many=True)

    @extend_schema(request=Input, responses=Output, summary="Check a receipt against another or a public record")
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        conflicts = motions.contest(member=request.member, **data.validated_data)
        return Response(self.Output({"conflicts": conflicts}).data)
