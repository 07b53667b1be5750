from datetime import date

from django.db import IntegrityError, transaction

from core.errors import ApplicationError
from sellers.models import MAX_ORDER_AMOUNT, Order, Seller


@transaction.atomic
def order_create(
    *,
    seller: Seller,
    reference: str,
    total_amount: int,
    currency: str = "EUR",
    buyer_name: str = "",
    buyer_email: str = "",
    buyer_phone: str = "",
    buyer_locale: str = "fr",
    destination_postcode: str = "",
    destination_country: str = "FR",
    promised_delivery_date: date | None = None,
) -> Order:
    """Record a paid order. Raises ApplicationError when the seller already has this reference."""
    if not 0 <= total_amount <= MAX_ORDER_AMOUNT:
        raise ApplicationError(
            f"The amount must be between 0 and {MAX_ORDER_AMOUNT} minor units.",
            field="total_amount",
        )
    try:
        with transaction.atomic():
            return Order.objects.create(
                seller=seller,
                reference=reference.strip(),
                total_amount=total_amount,
                currency=currency.upper(),
                buyer_name=buyer_name,
                buyer_email=buyer_email,
                buyer_phone=buyer_phone,
                buyer_locale=buyer_locale,
                destination_postcode=destination_postcode.strip(),
                destination_country=destination_country.upper(),
                promised_delivery_date=promised_delivery_date,
            )
    except IntegrityError:
        raise ApplicationError(
            f"This seller already has an order {reference!r}.",
            code="duplicate_order",
            field="reference",
        ) from None
