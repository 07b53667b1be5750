from django import template

register = template.Library()


@register.filter
def pct(value) -> str:
    """0.9734 -> "97.3 %"; None (nothing to divide) -> "—"."""
    return "—" if value is None else f"{100 * value:.1f} %"


@register.filter
def days(value) -> str:
    return "—" if value is None else f"{value} d"


@register.filter
def hours(value) -> str:
    return "—" if value is None else f"{value:.1f} h"
