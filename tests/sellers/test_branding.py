"""Seller branding of the buyer tracking page: the service's rules and the staff admin page."""

import pytest
from django.db import IntegrityError

from core.errors import ApplicationError
from sellers.models import SellerBranding
from sellers.services import contrast_ratio, seller_branding_update
from tests.sellers.factories import SellerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_contrast_ratio_matches_wcag_reference_values():
    assert contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    # #767676 is the lightest grey that passes AA on white; #777777 just fails
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#FFFFFF") < 4.5


def test_branding_update_stores_normalised_values_and_who_changed_them():
    # given a seller and a staff member
    seller, staff = SellerFactory(), UserFactory()

    # when the branding is set
    branding = seller_branding_update(
        seller=seller,
        logo_url=" https://cdn.boutique.example/logo.svg ",
        primary_color="#0b3d2e",
        accent_color="#f5c542",
        message="  Merci !  ",
        store_url="https://boutique.example/",
        contact_url="https://boutique.example/contact",
        returns_url="https://boutique.example/retours",
        actor=staff,
    )

    # then it is stored trimmed, colours upper case, with its author
    branding.refresh_from_db()
    assert (branding.primary_color, branding.accent_color) == ("#0B3D2E", "#F5C542")
    assert branding.logo_url == "https://cdn.boutique.example/logo.svg"
    assert branding.message == "Merci !"
    assert branding.updated_by == staff


def test_branding_update_twice_keeps_one_row_and_empty_means_default():
    seller = SellerFactory()
    seller_branding_update(seller=seller, primary_color="#0B3D2E", actor=None)

    branding = seller_branding_update(seller=seller, actor=None)

    assert SellerBranding.objects.filter(seller=seller).count() == 1
    assert branding.primary_color == ""
    assert branding.primary == SellerBranding.DEFAULT_PRIMARY_COLOR


def test_primary_colour_too_light_for_white_text_is_refused_with_ratio_and_minimum():
    with pytest.raises(ApplicationError) as refused:
        seller_branding_update(seller=SellerFactory(), primary_color="#FFCC00", actor=None)

    assert refused.value.field == "primary_color"
    assert refused.value.code == "invalid_branding"
    assert "1.51:1" in refused.value.message  # yellow behind white text
    assert "at least 4.5:1" in refused.value.message
    assert not SellerBranding.objects.exists()


def test_ratio_is_rounded_down_so_a_near_miss_never_reads_as_passing():
    # #777777 on white is 4.478:1: the message must not say 4.48 >= 4.5 nor round to 4.5
    with pytest.raises(ApplicationError) as refused:
        seller_branding_update(seller=SellerFactory(), primary_color="#777777", actor=None)

    assert "4.47:1" in refused.value.message


def test_accent_colour_too_dark_for_dark_text_is_refused():
    with pytest.raises(ApplicationError) as refused:
        seller_branding_update(seller=SellerFactory(), accent_color="#1F4E79", actor=None)

    assert refused.value.field == "accent_color"
    assert "#111111" in refused.value.message and "at least 4.5:1" in refused.value.message


@pytest.mark.parametrize("color", ["1F4E79", "#1F4E7", "#GGGGGG", "navy", "#1F4E79; x"])
def test_colour_not_written_as_hex_is_refused(color):
    with pytest.raises(ApplicationError) as refused:
        seller_branding_update(seller=SellerFactory(), primary_color=color, actor=None)

    assert "#RRGGBB" in refused.value.message


@pytest.mark.parametrize(
    "url",
    ["http://boutique.example/logo.png", "javascript:alert(1)", "//cdn.example/x.png", "logo"],
)
@pytest.mark.parametrize("field", ["logo_url", "store_url", "contact_url", "returns_url"])
def test_links_must_be_https(field, url):
    with pytest.raises(ApplicationError) as refused:
        seller_branding_update(seller=SellerFactory(), actor=None, **{field: url})

    assert refused.value.field == field
    assert "https://" in refused.value.message


def test_message_longer_than_280_characters_is_refused():
    with pytest.raises(ApplicationError) as refused:
        seller_branding_update(seller=SellerFactory(), message="x" * 281, actor=None)

    assert refused.value.field == "message"


def test_database_refuses_a_colour_that_bypassed_the_service():
    with pytest.raises(IntegrityError):
        SellerBranding.objects.create(seller=SellerFactory(), primary_color="red;}")


def test_staff_sets_branding_in_the_admin_through_the_service(admin_client, admin_user):
    seller = SellerFactory()

    response = admin_client.post(
        "/admin/sellers/sellerbranding/add/",
        {
            "seller": seller.pk,
            "primary_color": "#0B3D2E",
            "accent_color": "",
            "message": "Merci !",
            "logo_url": "",
            "store_url": "",
            "contact_url": "",
            "returns_url": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    branding = SellerBranding.objects.get(seller=seller)
    assert branding.primary_color == "#0B3D2E"
    assert branding.updated_by == admin_user


def test_admin_shows_the_contrast_error_at_the_field(admin_client):
    seller = SellerFactory()

    response = admin_client.post(
        "/admin/sellers/sellerbranding/add/",
        {"seller": seller.pk, "primary_color": "#FFCC00", "logo_url": "http://x.example/l.png"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "1.51:1" in html and "at least 4.5:1" in html
    assert "https://" in html
    assert not SellerBranding.objects.exists()


def test_admin_lists_and_opens_brandings(admin_client):
    branding = seller_branding_update(seller=SellerFactory(), primary_color="#0B3D2E", actor=None)

    listing = admin_client.get("/admin/sellers/sellerbranding/")
    change = admin_client.get(f"/admin/sellers/sellerbranding/{branding.pk}/change/")

    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [branding]
    assert "#0B3D2E" in listing.content.decode()
    assert change.status_code == 200
    assert change.context["original"] == branding
    assert change.context["adminform"].form["primary_color"].value() == "#0B3D2E"
