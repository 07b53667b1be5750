"""The buyer tracking pages: /t/<order token>/, /t/s/<parcel token>/, /track/ (look-up)."""

import re
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.utils import translation

from sellers.models import SellerBranding
from tests.sellers.factories import OrderFactory
from tests.tracking.factories import ShipmentFactory, TrackingEventFactory
from tracking.buyer import wording
from tracking.buyer.http import style_hash
from tracking.carriers.base import CarrierEvent, Location, TrackingResult
from tracking.models import ProofOfDelivery
from tracking.services import ShipmentUpdate, events_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def event(shipment, when, status, substatus="", city="Corbas", country="FR", postcode="69960"):
    return TrackingEventFactory(
        shipment=shipment,
        occurred_at=when,
        status=status,
        substatus=substatus,
        city=city,
        postcode=postcode,
        country=country,
    )


def set_state(shipment, status, substatus="", **fields):
    for name, value in {"status": status, "substatus": substatus, **fields}.items():
        setattr(shipment, name, value)
    shipment.save()
    return shipment


def page(client, url, **headers):
    response = client.get(url, **headers)
    return response, response.content.decode()


@pytest.fixture
def order():
    return OrderFactory(
        reference="CMD-2026-0042",
        buyer_name="Camille Martin",
        buyer_email="camille.martin@example.fr",
        buyer_phone="+33612345678",
        buyer_locale="fr",
        destination_postcode="69003",
    )


@pytest.fixture
def moving_parcel(order):
    shipment = ShipmentFactory(order=order, tracking_number="6A00000000001")
    event(shipment, at(23, 9), "info_received", city="Wissous")
    event(shipment, at(24, 6), "in_transit", city="Corbas")
    return set_state(
        shipment,
        "in_transit",
        last_event_at=at(24, 6),
        estimated_delivery_at=at(26, 8),
        estimated_delivery_end_at=at(26, 12),
    )


@pytest.fixture
def delivered_parcel(order):
    shipment = ShipmentFactory(order=order, tracking_number="6A00000000002")
    event(shipment, at(22, 9), "in_transit")
    event(shipment, at(23, 7), "out_for_delivery", city="Lyon", postcode="69003")
    delivered = event(
        shipment, at(23, 11), "delivered", "delivered.signed", city="Lyon", postcode="69003"
    )
    ProofOfDelivery.objects.create(
        shipment=shipment,
        delivered_at=delivered.occurred_at,
        signed_by="Camille Martin",
        location_type="neighbour",
        source_event=delivered,
    )
    return set_state(
        shipment, "delivered", "delivered.signed", delivered_at=at(23, 11), next_sync_at=None
    )


# --- Content ----------------------------------------------------------------------------------


def test_order_page_shows_every_parcel_with_status_progress_eta_and_timeline(
    client, order, moving_parcel, delivered_parcel
):
    # given an order with a parcel on its way and a delivered one
    # when the buyer opens the order link
    response, html = page(client, f"/t/{order.public_token}/")

    # then both parcels are there, each with its status in plain words and its courier link
    assert response.status_code == 200
    assert "Commande CMD-2026-0042" in html
    assert "Colis 1 sur 2" in html and "Colis 2 sur 2" in html
    assert "Votre colis est en route." in html
    assert "Votre colis a été livré." in html
    assert html.count("https://www.laposte.fr/outils/suivre-vos-envois?code=6A0000000000") == 2
    assert "La Poste / Colissimo" in html
    # the estimate as a window of hours, in Paris time (08:00 UTC = 09:00 in November)
    assert "jeudi 26 novembre, entre 09:00 et 13:00" in html
    # the progress bar: in transit is the current step, earlier ones done
    moving = html.split("Colis 2 sur 2")[0]
    assert re.search(r'step step-done"[^>]*><span class="step-label">Enregistré', moving)
    assert re.search(r'step step-current" aria-current="step"><span[^>]*>En transit', moving)
    assert re.search(r'step step-todo"><span class="step-label">Livré', moving)
    # the timeline newest first, places localised, no postcode
    timeline = moving.split(">Historique</h3>")[1]
    assert timeline.index("En transit</span>") < timeline.index("Le transporteur a reçu")
    assert "Corbas, France" in moving and "69960" not in html


def test_order_page_never_shows_the_buyers_personal_data(client, order, delivered_parcel):
    # given a delivered parcel signed by the buyer, whose name the courier sent in full
    # when the page is shown
    _response, html = page(client, f"/t/{order.public_token}/")

    # then none of the order's personal fields appear, the signatory only as initials
    for value in (
        order.buyer_name,
        "Camille",
        "Martin",
        order.buyer_email,
        order.buyer_phone,
        "612345678",
        order.destination_postcode,
    ):
        assert value not in html, value
    assert "<dd>C. M.</dd>" in html
    assert "Remis à un voisin" in html  # where it was left (POD location type)


def test_shipment_page_shows_only_that_parcel(client, order, moving_parcel, delivered_parcel):
    # when the buyer opens the link of one parcel
    response, html = page(client, f"/t/s/{delivered_parcel.public_token}/")

    # then that parcel alone is shown
    assert response.status_code == 200
    assert "6A00000000002" in html and "6A00000000001" not in html
    assert "Votre colis" in html and "Colis 1 sur" not in html
    assert "Preuve de livraison" in html


@pytest.mark.parametrize(
    ("status", "substatus", "headline", "advice"),
    [
        (
            "failed_attempt",
            "failed_attempt.recipient_absent",
            "mais personne n&#x27;était présent",
            "Cherchez l&#x27;avis de passage",
        ),
        (
            "exception",
            "exception.address_issue",
            "problème avec l&#x27;adresse de livraison",
            "avec votre adresse complète",
        ),
        ("exception", "exception.lost", "ne retrouve pas votre colis", "ouvrira une enquête"),
        ("exception", "exception.damaged", "comme endommagé", "un remplacement"),
        ("exception", "exception.customs", "retenu en douane", "des droits, des taxes"),
        ("exception", "exception.delayed", "a du retard", "Vous n&#x27;avez rien à faire"),
        (
            "exception",
            "exception.returning_to_sender",
            "en cours de retour vers le vendeur",
            "le renvoie au vendeur",
        ),
        (
            "exception",
            "exception.returned_to_sender",
            "a été retourné au vendeur",
            "Le vendeur a récupéré votre colis",
        ),
        ("expired", "", "aucune nouvelle depuis plusieurs semaines", "demander une enquête"),
    ],
)
def test_page_says_what_happened_and_what_to_do_on_an_exception(
    client, order, status, substatus, headline, advice
):
    # given a parcel in trouble, and a seller with a contact page
    SellerBranding.objects.create(
        seller=order.seller, contact_url="https://boutique.example/contact"
    )
    shipment = ShipmentFactory(order=order)
    event(shipment, at(22, 9), "in_transit")
    event(shipment, at(23, 9), status, substatus)
    set_state(shipment, status, substatus, estimated_delivery_at=at(26, 8))

    # when the page is shown
    _response, html = page(client, f"/t/{order.public_token}/")

    # then it says what happened and what to do, and marks the step where it went wrong
    assert headline in html
    assert "Que faire" in html and advice in html
    if status in ("exception", "expired") and substatus != "exception.delayed":
        assert 'step step-problem" aria-current="step"' in html
        assert 'href="https://boutique.example/contact"' in html
    # no estimate is promised for a parcel going back or lost from view
    if substatus.startswith("exception.return") or status == "expired":
        assert "Livraison estimée" not in html


def test_parcel_waiting_at_a_pickup_point_says_where_to_collect_it(client, order):
    shipment = ShipmentFactory(order=order)
    event(shipment, at(24, 15), "available_for_pickup", city="VILLEURBANNE")
    set_state(shipment, "available_for_pickup")

    _response, html = page(client, f"/t/{order.public_token}/")

    assert "Votre colis est disponible au retrait." in html
    assert "Où le retirer</strong> Villeurbanne, France" in html
    assert "pièce d&#x27;identité" in html


def test_other_courier_shows_its_name_and_its_own_tracking_link(client, order):
    ShipmentFactory(
        order=order,
        carrier="other",
        carrier_name="Coursier Express Lyon",
        carrier_tracking_url="https://coursier.example/suivi/ABC123",
        tracking_number="ABC123",
    )

    _response, html = page(client, f"/t/{order.public_token}/")

    assert "Coursier Express Lyon" in html
    assert 'href="https://coursier.example/suivi/ABC123"' in html


# --- Languages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "cookie", "buyer_locale", "accept", "expected"),
    [
        ("?lang=de", "es", "it", "en", "de"),  # the URL first
        ("", "es", "it", "en", "es"),  # then the switcher's cookie
        ("", "", "it-IT", "en", "it"),  # then the order's locale
        ("", "", "pt", "en-GB,en;q=0.9", "en"),  # then the browser
        ("", "", "pt", "", "fr"),  # then French
        ("?lang=xx", "zz", "pt", "de", "de"),  # unsupported values are passed over
    ],
)
def test_page_language_follows_url_then_cookie_then_order_then_browser_then_french(
    client, order, moving_parcel, query, cookie, buyer_locale, accept, expected
):
    order.buyer_locale = buyer_locale
    order.save()
    if cookie:
        client.cookies["django_language"] = cookie
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}

    response, html = page(client, f"/t/{order.public_token}/{query}", **headers)

    assert response["Content-Language"] == expected
    assert f'<html lang="{expected}">' in html
    on_its_way = {
        "fr": "Votre colis est en route.",
        "en": "Your parcel is on its way.",
        "de": "Ihr Paket ist unterwegs.",
        "es": "Tu paquete está en camino.",
        "it": "Il tuo pacco è in viaggio.",
    }
    assert on_its_way[expected] in html


def test_dates_are_localised_in_the_page_language_and_paris_time(client, order, moving_parcel):
    _response, german = page(client, f"/t/{order.public_token}/?lang=de")
    _response, english = page(client, f"/t/{order.public_token}/?lang=en")

    # 06:00 UTC on 24 November is 07:00 in Paris
    assert "24. November 2026, 07:00" in german
    assert "Donnerstag, 26. November, zwischen 09:00 und 13:00" in german
    assert "Nov. 24, 2026, 7 a.m." in english
    assert "Thursday, November 26, between 9 a.m. and 1 p.m." in english


def test_language_switcher_keeps_the_choice_in_a_cookie_and_goes_back(client, order):
    path = f"/t/{order.public_token}/"

    response = client.get("/track/language/", {"language": "it", "next": path})

    assert response.status_code == 303
    assert response["Location"] == path
    assert response.cookies["django_language"].value == "it"
    assert client.get(path)["Content-Language"] == "it"


def test_language_switcher_never_redirects_elsewhere(client):
    response = client.get("/track/language/", {"language": "de", "next": "https://evil.example/"})

    assert response["Location"] == "/track/"


def test_every_page_string_is_translated_in_every_language():
    # given every sentence the page builds in Python
    strings = [
        *wording.STATUS_LABELS.values(),
        *wording.SUBSTATUS_LABELS.values(),
        *wording.HEADLINES.values(),
        *wording.SUBSTATUS_HEADLINES.values(),
        *wording.ADVICE.values(),
        *wording.DELIVERY_PLACES.values(),
        *wording.STEP_LABELS,
    ]
    with translation.override("en"):
        english = [str(s) for s in strings]
    for language in ("fr", "de", "es", "it"):
        # then the compiled catalogue of each language has them all, translated
        with translation.override(language):
            translated = [str(s) for s in strings]
        untranslated = [e for e, t in zip(english, translated, strict=True) if e == t]
        assert untranslated == [], language


# --- Live updates -----------------------------------------------------------------------------


def test_moving_parcel_page_polls_for_news_and_settled_one_does_not(
    client, order, moving_parcel, delivered_parcel, settings
):
    settings.TRACKING_PAGE_POLL_SECONDS = 45

    _response, moving = page(client, f"/t/{order.public_token}/")
    _response, settled = page(client, f"/t/s/{delivered_parcel.public_token}/")

    live_url = f"/t/{order.public_token}/live/?lang=fr"
    assert f'hx-get="{live_url}" hx-trigger="every 45s"' in moving
    assert "hx-trigger" not in settled
    assert 'src="/static/vendor/htmx.min.js"' in moving


def test_live_partial_is_the_parcels_part_only_and_shows_a_new_event(client, order, moving_parcel):
    # given the page was seen once (and cached)
    page(client, f"/t/{order.public_token}/live/?lang=en")

    # when the courier reports the parcel out for delivery
    events_ingest(
        updates=[
            ShipmentUpdate(
                shipment_id=moving_parcel.id,
                result=TrackingResult(
                    tracking_number=moving_parcel.tracking_number,
                    events=(
                        CarrierEvent(
                            occurred_at=at(25, 7),
                            status="out_for_delivery",
                            substatus=None,
                            code="MD2",
                            message="En cours de livraison",
                            location=Location(city="Lyon", postcode="69003", country="FR"),
                        ),
                    ),
                ),
            )
        ]
    )

    # then the partial (no page around it) shows the news at once: the cache key moved on
    response, html = page(client, f"/t/{order.public_token}/live/?lang=en")
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="parcels"')
    assert "<html" not in html
    assert "Your parcel is out for delivery today." in html
    timeline = html.split(">History</h3>")[1]
    assert timeline.index("Out for delivery</span>") < timeline.index("In transit</span>")


# --- Fast and safe ----------------------------------------------------------------------------


def test_order_page_with_three_parcels_takes_a_handful_of_queries(
    client, order, django_assert_max_num_queries, django_assert_num_queries
):
    # given an order with three parcels, each with events (one delivered with POD)
    for n in range(3):
        shipment = ShipmentFactory(order=order)
        for hours in range(5):
            event(shipment, at(20 + n, 6 + hours), "in_transit")
    url = f"/t/{order.public_token}/"

    # when the page is rendered the first time: version, order, parcels + POD, events
    with django_assert_max_num_queries(4):
        assert client.get(url).status_code == 200
    # and then from the cache: the version only
    with django_assert_num_queries(1):
        assert client.get(url).status_code == 200


def test_shipment_page_takes_three_queries_then_one(
    client, delivered_parcel, django_assert_max_num_queries, django_assert_num_queries
):
    url = f"/t/s/{delivered_parcel.public_token}/"
    with django_assert_max_num_queries(3):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(1):
        assert client.get(url).status_code == 200


def test_cached_page_changes_when_a_parcel_is_removed(
    client, order, moving_parcel, delivered_parcel
):
    # given the order page seen (and cached) with two parcels
    _response, before = page(client, f"/t/{order.public_token}/")
    assert "Colis 2 sur 2" in before

    # when the parcel changed less recently goes away (the latest updated_at stays the same)
    assert moving_parcel.updated_at < delivered_parcel.updated_at
    moving_parcel.delete()

    # then the next view shows one parcel: the parcel count is part of the version
    _response, after = page(client, f"/t/{order.public_token}/")
    assert "Colis 2 sur 2" not in after and "Votre colis a été livré." in after


def test_page_carries_the_security_headers_and_noindex(client, order, moving_parcel):
    response, html = page(client, f"/t/{order.public_token}/")

    csp = response["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "<script>" not in html  # no inline script at all


def test_unknown_tokens_get_the_same_plain_404(client, order):
    # given an unknown order token and an unknown parcel token (and a real order's token used
    # as a parcel token)
    responses = [
        client.get("/t/not-a-real-token-aaaaaaaaaaaaaaaaaaaa/"),
        client.get("/t/s/not-a-real-token-aaaaaaaaaaaaaaaaaaaa/"),
        client.get(f"/t/s/{order.public_token}/"),
        client.get("/t/not-a-real-token-aaaaaaaaaaaaaaaaaaaa/live/"),
    ]

    # then all answer the same 404 page, with the same headers
    assert {r.status_code for r in responses} == {404}
    assert len({r.content.replace(b"/s/", b"/").split(b"<main")[1] for r in responses}) == 1
    assert all(r["Referrer-Policy"] == "same-origin" for r in responses)
    assert b"CMD-2026-0042" not in responses[2].content


def test_page_is_rate_limited_per_client_ip(client, order, settings):
    # given a limit of 3 requests a minute
    settings.TRACKING_PAGE_RATE_LIMIT = 3
    url = f"/t/{order.public_token}/"

    # when one address asks a fourth time, another address still gets through
    codes = [client.get(url, REMOTE_ADDR="203.0.113.7").status_code for _ in range(4)]
    other = client.get(url, REMOTE_ADDR="203.0.113.8")

    # then the fourth is refused with a Retry-After
    assert codes == [200, 200, 200, 429]
    limited = client.get(url, REMOTE_ADDR="203.0.113.7")
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert other.status_code == 200


def test_cached_page_changes_when_the_sellers_branding_changes(client, order, moving_parcel):
    _response, before = page(client, f"/t/{order.public_token}/")
    SellerBranding.objects.create(seller=order.seller, primary_color="#0B3D2E")

    _response, after = page(client, f"/t/{order.public_token}/")

    assert "--brand-primary:#1F4E79" in before
    assert "--brand-primary:#0B3D2E" in after


# --- Branding ---------------------------------------------------------------------------------


def test_branded_page_uses_the_sellers_colours_logo_message_and_links(client, order):
    # given a branded seller
    SellerBranding.objects.create(
        seller=order.seller,
        logo_url="https://cdn.boutique.example/logo.svg",
        primary_color="#0B3D2E",
        accent_color="#F5C542",
        message="Merci pour votre commande !",
        store_url="https://boutique.example/",
        contact_url="https://boutique.example/contact",
        returns_url="https://boutique.example/retours",
    )
    ShipmentFactory(order=order)

    response, html = page(client, f"/t/{order.public_token}/")

    # then its colours are CSS custom properties in an inline style that the CSP allows by hash
    css = ":root{--brand-primary:#0B3D2E;--brand-accent:#F5C542}"
    assert f"<style>{css}</style>" in html
    csp = response["Content-Security-Policy"]
    assert f"style-src 'self' {style_hash(css)};" in csp
    assert "img-src 'self' https://cdn.boutique.example;" in csp
    assert 'src="https://cdn.boutique.example/logo.svg"' in html
    assert 'referrerpolicy="no-referrer"' in html
    assert "Merci pour votre commande !" in html
    for link in ("https://boutique.example/", "/contact", "/retours"):
        assert link in html


def test_unbranded_seller_gets_the_default_look(client, order):
    ShipmentFactory(order=order)

    _response, html = page(client, f"/t/{order.public_token}/")

    assert ":root{--brand-primary:#1F4E79;--brand-accent:#F2A900}" in html
    assert f'<p class="brand-name">{order.seller.name}</p>' in html


# --- Look-up ----------------------------------------------------------------------------------


@pytest.mark.parametrize("contact", ["69 003", "69003", " CAMILLE.Martin@Example.fr "])
def test_lookup_finds_the_order_by_reference_and_postcode_or_email(client, order, contact):
    data = {"reference": " cmd-2026-0042 ", "postcode_or_email": contact}

    response = client.post("/track/", data)

    assert response.status_code == 303
    assert response["Location"] == f"/t/{order.public_token}/"


@pytest.mark.parametrize(
    ("reference", "contact"),
    [
        ("CMD-2026-0042", "75011"),  # right reference, wrong postcode
        ("CMD-2026-0042", "someone@example.fr"),  # right reference, wrong email
        ("CMD-9999-9999", "69003"),  # unknown reference
        ("6A00000000001", "69003"),  # a tracking number is not an order reference
    ],
)
def test_lookup_refuses_without_saying_which_part_was_wrong(
    client, order, moving_parcel, reference, contact
):
    response = client.post("/track/", {"reference": reference, "postcode_or_email": contact})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Nous n&#x27;avons trouvé aucune commande avec ces informations." in html
    assert order.public_token not in html and "CMD-2026-0042" not in html.split("<form")[0]


def test_lookup_attempts_are_rate_limited(client, order, settings):
    settings.TRACKING_LOOKUP_RATE_LIMIT = 2
    data = {"reference": "CMD-2026-0042", "postcode_or_email": "00000"}

    codes = [client.post("/track/", data).status_code for _ in range(3)]

    assert codes == [200, 200, 429]
    # even the right answer waits for the window to end
    right = client.post("/track/", {**data, "postcode_or_email": "69003"})
    assert right.status_code == 429


# --- Pure rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Camille Martin", "C. M."),
        ("M. DUPONT", "M. D."),
        ("VOISIN 2E ETG", "V. E."),
        ("jean-pierre de la tour", "J. P. D."),
        ("Éloïse", "É."),
        ("", ""),
    ],
)
def test_initials_keep_only_first_letters(name, expected):
    assert wording.initials(name) == expected


def test_delivered_parcel_progress_is_complete_and_failed_attempt_shows_at_delivery_step():
    with translation.override("en"):
        done = wording.progress_steps("delivered", "delivered.mailbox", 3, False)
        failed = wording.progress_steps("failed_attempt", "", 3, False)
        returned = wording.progress_steps("exception", "exception.returning_to_sender", 2, False)
    assert [s.state for s in done] == ["done"] * 5
    assert [s.state for s in failed] == ["done", "done", "done", "current", "todo"]
    assert [s.state for s in returned] == ["done", "done", "problem", "todo", "todo"]


def test_estimate_over_several_days_reads_as_a_range():
    with translation.override("fr"):
        text = wording.estimated_delivery_text(at(26, 8), at(28, 18))
    assert text == "entre le jeudi 26 novembre et le samedi 28 novembre"


def test_whole_day_estimate_reads_as_a_day():
    with translation.override("es"):
        text = wording.estimated_delivery_text(datetime(2026, 11, 25, 23, tzinfo=UTC), None)
    assert text == "jueves 26 de noviembre"


def test_old_event_time_is_shown_in_paris_summer_time(client, order):
    shipment = ShipmentFactory(order=order)
    event(shipment, datetime(2026, 7, 1, 10, 0, tzinfo=UTC), "in_transit")

    _response, html = page(client, f"/t/{order.public_token}/")

    assert "1 juillet 2026, 12:00" in html  # 10:00 UTC is 12:00 in Paris summer time
