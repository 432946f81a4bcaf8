"""Input fields and output shapes shared by the money API and pages."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bank.api_helpers import InputSerializer, TextField
from trust.models import Payment
from trust.money import format_amount, parse_amount


class AmountField(TextField):
    """A positive amount as a decimal string ("12.5"), parsed into micro-units."""

    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=32, **kwargs)

    def to_internal_value(self, data) -> int:
        try:
            return parse_amount(data, allow_zero=False)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: int) -> str:
        return format_amount(value)


class LimitField(AmountField):
    """A credit limit: like an amount, but zero is allowed."""

    def to_internal_value(self, data) -> int:
        try:
            return parse_amount(data, allow_zero=True)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


class CounterpartInput(InputSerializer):
    username = TextField(max_length=32)
    server = TextField(max_length=253, required=False, allow_blank=True)


class PaymentInput(CounterpartInput):
    amount = AmountField()
    memo = TextField(max_length=255, required=False, allow_blank=True, trim_whitespace=False)
    tag = TextField(max_length=48, required=False, allow_blank=True, trim_whitespace=False)


@extend_schema_field(OpenApiTypes.STR)
class MoneyField(serializers.Field):
    """Micro-units out as a decimal string with 6 places."""

    def to_representation(self, value: int) -> str:
        return format_amount(value)


class AccountRowOutput(serializers.Serializer):
    username = serializers.CharField()
    server = serializers.CharField()
    balance = MoneyField()
    limit_out = MoneyField()
    limit_in = MoneyField()


class PaymentOutput(serializers.ModelSerializer):
    payer = serializers.CharField(source="payer.name")
    payee = serializers.CharField(source="payee.name")
    amount = MoneyField()
    tax = MoneyField()
    fees = MoneyField()
    payer_status = serializers.CharField(source="get_payer_status_display")
    payee_status = serializers.CharField(source="get_payee_status_display")
    paths = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = [
            "id", "kind", "state", "payer", "payee", "amount", "tax", "fees", "memo", "tag", "payer_status",
            "payee_status", "hashlock", "deadline", "created_at", "settled_at", "cancel_reason", "related", "paths",
        ]

    def get_paths(self, payment: Payment) -> list[list[str]]:
        """The payment's paths as account names, payer first (tax legs not included)."""
        paths: dict[int, list[str]] = {}
        for leg in payment.legs.all():
            if leg.purpose == leg.Purpose.PAYMENT:
                names = paths.setdefault(leg.path, [leg.sender.name])
                names.append(leg.receiver.name)
        return [paths[index] for index in sorted(paths)]
