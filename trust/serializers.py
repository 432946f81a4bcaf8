"""Input fields and output shapes shared by the money API and pages."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import InputSerializer, TextField
from core.money import format_amount, parse_amount
from trust.models import Payment

# Longer than any amount parse_amount accepts (13 digits, a point, 6 places).
AMOUNT_TEXT_MAX = 32
# What parse_amount reads (above zero for amounts; a limit may be zero).
AMOUNT_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,6})?$"


@extend_schema_field(OpenApiTypes.STR)
class MoneyField(serializers.Field):
    """Micro-units out as a decimal string with 6 places."""

    def to_representation(self, value: int) -> str:
        return format_amount(value)


@extend_schema_field({"type": "string", "pattern": AMOUNT_PATTERN, "maxLength": AMOUNT_TEXT_MAX, "example": "12.50"})
class AmountField(MoneyField):
    """A positive amount in as a decimal string ("12.5"), parsed into micro-units.

    Not a CharField: its length validator would run on the parsed integer.
    """

    allow_zero = False

    def to_internal_value(self, data) -> int:
        if isinstance(data, str) and len(data) > AMOUNT_TEXT_MAX:
            raise serializers.ValidationError(f"Amounts are at most {AMOUNT_TEXT_MAX} characters.")
        try:
            return parse_amount(data, allow_zero=self.allow_zero)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


class LimitField(AmountField):
    """A credit limit: like an amount, but zero is allowed."""

    allow_zero = True


class Utf8TextField(TextField):
    """Text limited in UTF-8 bytes (the design's limit for memos and tags), not in characters."""

    def __init__(self, *, max_bytes: int, **kwargs) -> None:
        super().__init__(max_length=max_bytes, **kwargs)  # characters never outnumber bytes
        self.max_bytes = max_bytes

    def to_internal_value(self, data) -> str:
        text = super().to_internal_value(data)
        if len(text.encode()) > self.max_bytes:
            raise serializers.ValidationError(f"This is at most {self.max_bytes} bytes of UTF-8.")
        return text


def _max_length(field: str) -> int:
    return Payment._meta.get_field(field).max_length


class CounterpartInput(InputSerializer):
    username = TextField(max_length=32)
    server = TextField(max_length=253, required=False, allow_blank=True)


class PaymentInput(CounterpartInput):
    amount = AmountField()
    memo = Utf8TextField(max_bytes=_max_length("memo"), required=False, allow_blank=True, trim_whitespace=False)
    tag = Utf8TextField(max_bytes=_max_length("tag"), required=False, allow_blank=True, trim_whitespace=False)


class AccountRowOutput(serializers.Serializer):
    username = serializers.CharField()
    server = serializers.CharField()
    balance = MoneyField()
    limit_out = MoneyField()
    limit_in = MoneyField()
    sync = serializers.ChoiceField(
        choices=["ok", "pending"], help_text="pending: the other instance has not acknowledged the last change yet"
    )


class PaymentOutput(serializers.ModelSerializer):
    payer = serializers.CharField(source="payer.name")
    payee = serializers.CharField(source="payee.name")
    amount = MoneyField()
    tax = MoneyField()
    fees = MoneyField()
    payer_status = serializers.CharField(source="get_payer_status_display")
    payee_status = serializers.CharField(source="get_payee_status_display")
    preimage = serializers.SerializerMethodField()
    paths = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = [
            "id",
            "kind",
            "state",
            "payer",
            "payee",
            "amount",
            "tax",
            "fees",
            "memo",
            "tag",
            "payer_status",
            "payee_status",
            "hashlock",
            "preimage",
            "deadline",
            "created_at",
            "settled_at",
            "cancel_reason",
            "related",
            "paths",
        ]

    def get_preimage(self, payment: Payment) -> str | None:
        """Revealed once the payment has settled (proof of payment); until then it unlocks the payment."""
        return payment.preimage if payment.state == Payment.State.FINALIZED else None

    def get_paths(self, payment: Payment) -> list[list[str]]:
        """The payment's paths as account names, payer first (tax legs not included)."""
        paths: dict[int, list[str]] = {}
        for leg in payment.legs.all():
            if leg.purpose == leg.Purpose.PAYMENT:
                names = paths.setdefault(leg.path, [leg.sender.name])
                names.append(leg.receiver.name)
        return [paths[index] for index in sorted(paths)]
