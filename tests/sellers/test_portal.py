import pytest

from sellers.models import SellerBranding
from tests.sellers.factories import SellerFactory, SellerMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/seller/branding/"
GOOD = {"primary_color": "#1F4E79", "accent_color": "#F2A900", "message": "Merci !",
        "store_url": "https://boutique.example"}  # fmt: skip


def test_portal_branding_seller_edits_their_own_branding(client):
    # given a member of one seller, and another seller with branding of its own
    member = SellerMemberFactory()
    other = SellerFactory()
    SellerBranding.objects.create(seller=other, primary_color="#000000")
    client.force_login(member.user)
    # when
    response = client.post(URL, GOOD)
    # then only the member's seller changed, through the service
    assert response.status_code == 302
    branding = SellerBranding.objects.get(seller=member.seller)
    assert (branding.primary_color, branding.message, branding.updated_by) == (
        "#1F4E79",
        "Merci !",
        member.user,
    )
    assert SellerBranding.objects.get(seller=other).primary_color == "#000000"
    assert b"Merci !" in client.get(URL).content


def test_portal_branding_refuses_unreadable_colours_at_the_field(client):
    member = SellerMemberFactory()
    client.force_login(member.user)
    response = client.post(URL, {**GOOD, "primary_color": "#FFFF00"})
    assert response.status_code == 200
    assert b"WCAG AA" in response.content
    assert not SellerBranding.objects.filter(seller=member.seller).exists()


def test_portal_branding_needs_a_seller_member(client):
    assert client.get(URL)["Location"].startswith("/seller/login/")
    client.force_login(UserFactory())
    assert client.get(URL).status_code == 403


def test_portal_login_takes_a_seller_to_the_portal(client):
    member = SellerMemberFactory()
    response = client.post("/seller/login/", {"username": member.user.username,
                                              "password": "correct-horse-battery"})  # fmt: skip
    assert response.status_code == 302
    assert client.get("/seller/", follow=True).redirect_chain[-1][0] == "/seller/performance/"


NOTIFICATIONS_URL = "/seller/notifications/"


def test_portal_notifications_seller_overrides_only_what_differs_from_the_default(client):
    # given the marketplace defaults (migration) and a seller's member
    from notifications.models import NotificationRule
    from notifications.selectors import rulebook_load
    from notifications.services import rule_keys

    member = SellerMemberFactory()
    other = SellerMemberFactory()
    client.force_login(member.user)
    defaults = rulebook_load(seller_ids=[])
    keep = {k for k in rule_keys() if defaults.defaults.get(k, False)}
    # when the seller switches SMS on for "delivered" and keeps everything else as it was
    wanted = keep | {("delivered", "buyer", "sms")}
    response = client.post(NOTIFICATIONS_URL, {f"{t}:{a}:{c}": "on" for t, a, c in wanted})
    # then exactly one override exists, and the rules say what the seller chose
    assert response.status_code == 302
    overrides = NotificationRule.objects.filter(seller=member.seller)
    assert list(overrides.values_list("trigger", "audience", "channel", "enabled")) == [
        ("delivered", "buyer", "sms", True)
    ]
    book = rulebook_load(seller_ids=[member.seller.id, other.seller.id])
    assert book.enabled(seller_id=member.seller.id, trigger="delivered", audience="buyer",
                        channel="sms")  # fmt: skip
    assert not NotificationRule.objects.filter(seller=other.seller).exists()
    page = client.get(NOTIFICATIONS_URL).content.decode()
    assert 'name="delivered:buyer:sms" aria-label' in page and "checked" in page


def test_portal_notifications_needs_a_seller_member(client):
    assert client.get(NOTIFICATIONS_URL)["Location"].startswith("/seller/login/")
    client.force_login(UserFactory())
    assert client.post(NOTIFICATIONS_URL, {}).status_code == 403
