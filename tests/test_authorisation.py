"""Authorisation matrix: every page and API endpoint that exists, for every role, allowed or
denied as the product says — including another seller's object ids.

Roles: anonymous, seller A's user, seller B's user, finance (group "finance lead"), marketplace
admin (superuser); for the API: no token, seller A's token, seller B's token, marketplace token.
"""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from core.services import api_token_create
from payouts.services import payout_open_for_order
from sellers.models import TrackingUpload
from tests.sellers.factories import SellerMemberFactory, UserFactory
from tests.tracking.factories import ShipmentFactory

pytestmark = pytest.mark.django_db

ALLOWED, DENIED, HIDDEN = "allowed", "denied", "hidden"  # hidden: 404, as if it did not exist


@pytest.fixture
def world():
    member_a, member_b = SellerMemberFactory(), SellerMemberFactory()
    shipment_a = ShipmentFactory(order__seller=member_a.seller)
    shipment_b = ShipmentFactory(order__seller=member_b.seller)
    payout_a, _ = payout_open_for_order(order=shipment_a.order, actor=None)
    finance = UserFactory(is_staff=True)
    finance.groups.add(Group.objects.get(name="finance lead"))
    users = {
        "anonymous": None,
        "seller_a": member_a.user,
        "seller_b": member_b.user,
        "finance": finance,
        "admin": UserFactory(is_staff=True, is_superuser=True),
    }
    tokens = {
        "no_token": None,
        "token_a": api_token_create(name="a", seller=member_a.seller)[1],
        "token_b": api_token_create(name="b", seller=member_b.seller)[1],
        "marketplace": api_token_create(name="m")[1],
    }
    upload_a = TrackingUpload.objects.create(seller=member_a.seller, content="order")
    return {"users": users, "tokens": tokens, "a": shipment_a, "b": shipment_b,
            "payout_a": payout_a, "upload_a": upload_a}  # fmt: skip


def outcome(status_code: int) -> str:
    if status_code in (200, 201, 202):
        return ALLOWED
    if status_code == 404:
        return HIDDEN
    if status_code in (401, 403) or status_code == 302:  # 302: sent to a login page
        return DENIED
    raise AssertionError(f"unexpected status {status_code}")


SELLER_ONLY = dict(anonymous=DENIED, seller_a=ALLOWED, seller_b=ALLOWED, finance=DENIED,
                   admin=DENIED)  # fmt: skip
PAGES = {
    # url (formatted with the world) -> expected outcome per role
    "/seller/branding/": dict(anonymous=DENIED, seller_a=ALLOWED, seller_b=ALLOWED,
                              finance=DENIED, admin=DENIED),
    "/seller/notifications/": dict(anonymous=DENIED, seller_a=ALLOWED, seller_b=ALLOWED,
                                   finance=DENIED, admin=DENIED),
    # seller portal dashboards and upload: the member's own seller only (no seller id in URLs)
    "/seller/performance/?destination=FR-69": SELLER_ONLY,
    "/seller/performance/?format=csv": SELLER_ONLY,
    "/seller/sla/": SELLER_ONLY,
    "/seller/sla/delivery_rate/": SELLER_ONLY,
    "/seller/recommendations/?destination=FR-69": SELLER_ONLY,
    "/seller/upload/": SELLER_ONLY,
    "/seller/upload/{upload_a.id}/": dict(anonymous=DENIED, seller_a=ALLOWED, seller_b=HIDDEN,
                                          finance=DENIED, admin=DENIED),
    "/marketplace/sla/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED, finance=ALLOWED,
                              admin=ALLOWED),
    "/finance/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED, finance=ALLOWED,
                      admin=ALLOWED),
    "/finance/payouts/{payout_a.id}/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED,
                                            finance=ALLOWED, admin=ALLOWED),
    "/finance/export.csv": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED,
                                finance=ALLOWED, admin=ALLOWED),
    "/admin/tracking/shipment/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED,
                                      finance=DENIED, admin=ALLOWED),
    "/admin/tracking/rawpayload/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED,
                                        finance=DENIED, admin=ALLOWED),
    # the buyer's link is public by design: the token is the credential
    "/t/{a.order.public_token}/": dict(anonymous=ALLOWED, seller_a=ALLOWED, seller_b=ALLOWED,
                                       finance=ALLOWED, admin=ALLOWED),
    "/t/s/{a.public_token}/": dict(anonymous=ALLOWED, seller_a=ALLOWED, seller_b=ALLOWED,
                                   finance=ALLOWED, admin=ALLOWED),
}  # fmt: skip

API = {
    ("get", "/api/v1/shipments/{a.id}/"): dict(no_token=DENIED, token_a=ALLOWED, token_b=HIDDEN,
                                              marketplace=ALLOWED),
    ("post", "/api/v1/shipments/{a.id}/resync/"): dict(no_token=DENIED, token_a=ALLOWED,
                                                      token_b=HIDDEN, marketplace=ALLOWED),
    ("get", "/api/v1/orders/{a.order_id}/tracking/"): dict(no_token=DENIED, token_a=ALLOWED,
                                                          token_b=HIDDEN, marketplace=ALLOWED),
    ("get", "/api/v1/shipments/"): dict(no_token=DENIED, token_a=ALLOWED, token_b=ALLOWED,
                                        marketplace=ALLOWED),
    ("get", "/api/v1/sellers/recommendations?destination=FR-75"): dict(
        no_token=DENIED, token_a=ALLOWED, token_b=ALLOWED, marketplace=ALLOWED),
    ("get", "/api/v1/sellers/performance?seller={a.seller_id}"): dict(
        no_token=DENIED, token_a=ALLOWED, token_b=DENIED, marketplace=ALLOWED),
    ("get", "/api/v1/sellers/sla?seller={a.seller_id}"): dict(
        no_token=DENIED, token_a=ALLOWED, token_b=DENIED, marketplace=ALLOWED),
    ("get", "/api/v1/carriers/"): dict(no_token=DENIED, token_a=ALLOWED, token_b=ALLOWED,
                                       marketplace=ALLOWED),
    ("get", "/api/v1/payouts/orders/{a.order_id}/"): dict(no_token=DENIED, token_a=ALLOWED,
                                                         token_b=HIDDEN, marketplace=ALLOWED),
    ("post", "/api/v1/payouts/orders/{a.order_id}/receipt-confirmed/"): dict(
        no_token=DENIED, token_a=DENIED, token_b=DENIED, marketplace=ALLOWED),
}  # fmt: skip


@pytest.mark.parametrize(("url", "expected"), list(PAGES.items()), ids=list(PAGES))
def test_pages_allow_exactly_the_roles_they_serve(client, world, url, expected):
    for role, user in world["users"].items():
        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.get(url.format(**world))
        assert outcome(response.status_code) == expected[role], (role, url, response.status_code)


@pytest.mark.parametrize(("call", "expected"), list(API.items()), ids=[u for _, u in API])
def test_api_allows_exactly_the_scopes_it_serves(world, call, expected):
    method, url = call
    for scope, key in world["tokens"].items():
        client = APIClient()
        if key:
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        response = getattr(client, method)(url.format(**world), format="json")
        assert outcome(response.status_code) == expected[scope], (scope, url, response.status_code)


def test_seller_api_lists_never_include_the_other_sellers_rows(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world['tokens']['token_b']}")
    shipments = client.get("/api/v1/shipments/").json()["results"]
    orders = client.get("/api/v1/orders/").json()["results"]
    assert [s["id"] for s in shipments] == [world["b"].id]
    assert [o["id"] for o in orders] == [world["b"].order_id]
