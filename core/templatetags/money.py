"""``{{ micro|amount }}``: micro-units as a person reads them, exact, with at least two decimals."""

from django import template

from core.money import format_amount

register = template.Library()


@register.filter
def amount(micro: int) -> str:
    whole, fraction = format_amount(micro).split(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"
