from django import template

from core.money import format_money

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """``{{ payout.net_amount|money:payout.currency }}``: minor units in the page's language."""
    return format_money(amount, currency)
