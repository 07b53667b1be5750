from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services
from notifications.content import branding_for, render_buyer_email
from notifications.models import Notification
from sellers.models import SellerBranding
from tests.sellers.factories import OrderFactory
from tests.support.ingest import courier_says, scan
from tests.tracking.factories import ShipmentFactory

AFTER_WINDOW = timedelta(seconds=121)


def parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


@pytest.mark.django_db
def test_buyer_email_arrives_over_smtp_in_the_buyers_language(smtp_server):
    # given a German-speaking buyer whose parcel is out for delivery
    order = OrderFactory(buyer_locale="de-DE", buyer_name="Lena Vogel")
    shipment = ShipmentFactory(order=order, seller=order.seller, carrier="dhl")
    courier_says(shipment, scan("out_for_delivery"))
    # when the sweeper sends it through the real SMTP server
    services.outbox_sweep(now=timezone.now() + AFTER_WINDOW)
    # then one message arrived, to the buyer, in German, with both parts and the links
    assert len(smtp_server) == 1
    recipients, message = smtp_server[0]
    assert recipients == [order.buyer_email]
    assert message["To"] == order.buyer_email
    assert message["Subject"] == f"{order.seller.name}: Ihr Paket wird heute zugestellt"
    assert message["Content-Language"] == "de"
    text, html = parts(message)
    assert "Hallo Lena Vogel," in text
    assert "Es sollte Sie heute erreichen." in text
    assert f"Paket {shipment.tracking_number} mit DHL" in text
    assert f"http://127.0.0.1:8000/t/s/{shipment.public_token}/" in text
    assert f'href="http://127.0.0.1:8000/t/{order.public_token}/"' in html
    assert "Meine Bestellung verfolgen" in html
    assert '<html lang="de">' in html
    assert Notification.objects.get(channel="email").state == "sent"


@pytest.mark.parametrize(
    ("locale", "subject_end", "button"),
    [
        ("fr", "Votre colis a été livré", "Suivre ma commande"),
        ("en", "Your parcel has been delivered", "Track my order"),
        ("de", "Ihr Paket wurde zugestellt", "Meine Bestellung verfolgen"),
        ("es", "Tu paquete ha sido entregado", "Seguir mi pedido"),
        ("it", "Il tuo pacco è stato consegnato", "Segui il mio ordine"),
        ("pt-BR", "Votre colis a été livré", "Suivre ma commande"),  # not ours: marketplace's
    ],
)
@pytest.mark.django_db
def test_buyer_email_is_written_in_each_supported_language(locale, subject_end, button):
    # given a delivered parcel of a buyer in this locale
    shipment = ShipmentFactory(order__buyer_locale=locale)
    courier_says(shipment, scan("delivered"))
    # when the email is rendered
    note = Notification.objects.get(channel="email")
    rendered = render_buyer_email(order=shipment.order, notifications=[note], locale=note.locale)
    # then its subject and button are in that language
    assert rendered.subject.endswith(subject_end)
    assert button in rendered.html


@pytest.mark.django_db
def test_email_uses_the_sellers_branding_when_there_is_one():
    # given a seller with branding, one value of which is not a colour (an unsaved row: the
    # database would refuse that accent, the email must not trust it either)
    shipment = ShipmentFactory()
    seller = shipment.seller
    seller.branding = SellerBranding(
        seller=seller,
        logo_url="https://cdn.example/boutique.png",
        primary_color="#aa0033",
        accent_color="javascript:alert(1)",  # not a colour: ignored
        message="Merci pour votre confiance !",
    )
    courier_says(shipment, scan("delivered"))
    note = Notification.objects.get(channel="email")
    order = shipment.order
    order.seller = seller
    # when rendered
    html = render_buyer_email(order=order, notifications=[note], locale="fr").html
    # then its colours, logo and message are used, and nothing unsafe got in
    assert 'src="https://cdn.example/boutique.png"' in html
    assert "background:#aa0033" in html
    assert "javascript" not in html
    assert "Merci pour votre confiance" in html
    # and a seller without branding gets the marketplace's look
    assert branding_for(ShipmentFactory().seller)["logo_url"] == ""
