from django import template

from payouts.exports import minor_to_decimal_text

register = template.Library()


@register.filter
def money(amount: int | None, currency: str = "") -> str:
    """Minor units to "49.90 EUR" (integers all the way: no float rounding)."""
    if amount is None:
        return ""
    return f"{minor_to_decimal_text(amount)} {currency}".strip()
