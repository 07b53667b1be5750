"""Public links to the buyer tracking pages (served by the tracking page, see tracking/urls)."""

from django.conf import settings


def public_order_url(order) -> str:
    return f"{settings.PUBLIC_BASE_URL}/t/{order.public_token}/"


def public_shipment_url(shipment) -> str:
    return f"{settings.PUBLIC_BASE_URL}/t/s/{shipment.public_token}/"
