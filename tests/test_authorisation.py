"""Authorisation matrix: every page and API endpoint that exists, for every role, allowed or
denied as the product says — including another seller's object ids.

Roles: anonymous, seller A's user, seller B's user, finance (group "finance lead"), CS agent
(group "cs agent"), marketplace admin (superuser); a row that does not name a role denies it.
For the API: no token, seller A's token, seller B's token, marketplace token.
"""

import pytest
from rest_framework.test import APIClient

from core.services import api_token_create
from payouts.services import payout_open_for_order
from sellers.models import TrackingUpload
from tests.returns.factories import requested_return
from tests.sellers.factories import SellerMemberFactory, UserFactory
from tests.support.roles import role_group
from tests.tracking.factories import ShipmentExceptionFactory, ShipmentFactory

pytestmark = pytest.mark.django_db

ALLOWED, DENIED, HIDDEN = "allowed", "denied", "hidden"  # hidden: 404, as if it did not exist


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the return's photo
    member_a, member_b = SellerMemberFactory(), SellerMemberFactory()
    shipment_a = ShipmentFactory(order__seller=member_a.seller)
    shipment_b = ShipmentFactory(order__seller=member_b.seller)
    payout_a, _ = payout_open_for_order(order=shipment_a.order, actor=None)
    return_a = requested_return(seller=member_a.seller, photo=True)
    finance = UserFactory(is_staff=True)
    finance.groups.add(role_group("finance lead"))
    cs = UserFactory(is_staff=True)
    cs.groups.add(role_group("cs agent"))
    exception_a = ShipmentExceptionFactory(shipment=shipment_a)
    users = {
        "anonymous": None,
        "seller_a": member_a.user,
        "seller_b": member_b.user,
        "finance": finance,
        "cs": cs,
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
            "payout_a": payout_a, "exception_a": exception_a, "upload_a": upload_a,
            "return_a": return_a, "photo_a": return_a.photos.get()}  # fmt: skip


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
    "/seller/returns/": dict(anonymous=DENIED, seller_a=ALLOWED, seller_b=ALLOWED,
                             finance=DENIED, admin=DENIED),
    "/seller/returns/policy/": dict(anonymous=DENIED, seller_a=ALLOWED, seller_b=ALLOWED,
                                    finance=DENIED, admin=DENIED),
    "/seller/returns/stats/": dict(anonymous=DENIED, seller_a=ALLOWED, seller_b=ALLOWED,
                                   finance=DENIED, admin=DENIED),
    "/seller/returns/{return_a.id}/": dict(anonymous=DENIED, seller_a=ALLOWED, seller_b=HIDDEN,
                                           finance=DENIED, admin=DENIED),
    "/seller/returns/{return_a.id}/photos/{photo_a.id}/": dict(
        anonymous=DENIED, seller_a=ALLOWED, seller_b=HIDDEN, finance=DENIED, admin=DENIED),
    "/admin/returns/returnrequest/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED,
                                          finance=DENIED, admin=ALLOWED),
    # seller portal dashboards and upload: the member's own seller only (no seller id in URLs)
    "/seller/performance/?destination=FR-69": SELLER_ONLY,
    "/seller/performance/?format=csv": SELLER_ONLY,
    "/seller/sla/": SELLER_ONLY,
    "/seller/sla/delivery_rate/": SELLER_ONLY,
    "/seller/sla/on_time_delivery_rate_protected/": SELLER_ONLY,
    "/seller/protection/": SELLER_ONLY,
    "/seller/protection/?format=csv": SELLER_ONLY,
    "/seller/recommendations/?destination=FR-69": SELLER_ONLY,
    "/seller/upload/": SELLER_ONLY,
    "/seller/upload/{upload_a.id}/": dict(anonymous=DENIED, seller_a=ALLOWED, seller_b=HIDDEN,
                                          finance=DENIED, admin=DENIED),
    # marketplace staff of every team (finance, CS) see how sellers stand
    "/marketplace/sla/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED, finance=ALLOWED,
                              cs=ALLOWED, admin=ALLOWED),
    "/finance/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED, finance=ALLOWED,
                      admin=ALLOWED),
    "/finance/payouts/{payout_a.id}/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED,
                                            finance=ALLOWED, admin=ALLOWED),
    "/finance/export.csv": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED,
                                finance=ALLOWED, admin=ALLOWED),
    # the courier-claim queue: finance in its console, CS in theirs
    "/finance/courier-claims/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED,
                                     finance=ALLOWED, cs=DENIED, admin=ALLOWED),
    "/cs/courier-claims/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED,
                                finance=DENIED, cs=ALLOWED, admin=ALLOWED),
    "/admin/tracking/shipment/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED,
                                      finance=DENIED, admin=ALLOWED),
    "/admin/tracking/rawpayload/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED,
                                        finance=DENIED, admin=ALLOWED),
    # the buyer's link is public by design: the token is the credential
    "/t/{a.order.public_token}/": dict(anonymous=ALLOWED, seller_a=ALLOWED, seller_b=ALLOWED,
                                       finance=ALLOWED, admin=ALLOWED, cs=ALLOWED),
    "/t/s/{a.public_token}/": dict(anonymous=ALLOWED, seller_a=ALLOWED, seller_b=ALLOWED,
                                   finance=ALLOWED, admin=ALLOWED, cs=ALLOWED),
    # the CS console: CS agents and superusers only
    "/cs/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED, finance=DENIED,
                 cs=ALLOWED, admin=ALLOWED),
    "/cs/?q={a.order.buyer_email}": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED,
                                         finance=DENIED, cs=ALLOWED, admin=ALLOWED),
    "/cs/shipments/{a.id}/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED,
                                  finance=DENIED, cs=ALLOWED, admin=ALLOWED),
    "/cs/exceptions/": dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED, finance=DENIED,
                            cs=ALLOWED, admin=ALLOWED),
    "/t/{return_a.order.public_token}/return/": dict(anonymous=ALLOWED, seller_a=ALLOWED,
                                                     seller_b=ALLOWED, finance=ALLOWED,
                                                     admin=ALLOWED, cs=ALLOWED),
}  # fmt: skip

# Writes of the CS console (POST): the same roles; a refused one changes nothing.
CS_POSTS = {
    "/cs/shipments/{a.id}/notes/": {"body": "called the buyer"},
    "/cs/shipments/{a.id}/resync/": {},
    "/cs/shipments/{a.id}/carrier/": {"carrier": "chronopost"},
    "/cs/exceptions/{exception_a.id}/assign/": {"assignee": "me"},
    "/cs/exceptions/{exception_a.id}/resolve/": {"resolution": "handled"},
}
CS_POST_ROLES = dict(anonymous=DENIED, seller_a=DENIED, seller_b=DENIED, finance=DENIED)

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
    # the CRM API: every seller's customers, so the marketplace's token only
    ("get", "/api/v1/cs/search?q={a.tracking_number}"): dict(
        no_token=DENIED, token_a=DENIED, token_b=DENIED, marketplace=ALLOWED),
    ("get", "/api/v1/cs/shipments/{a.id}/"): dict(no_token=DENIED, token_a=DENIED,
                                                 token_b=DENIED, marketplace=ALLOWED),
    ("get", "/api/v1/cs/shipments/{a.id}/notes/"): dict(no_token=DENIED, token_a=DENIED,
                                                       token_b=DENIED, marketplace=ALLOWED),
    ("post", "/api/v1/cs/shipments/{a.id}/notes/"): dict(no_token=DENIED, token_a=DENIED,
                                                        token_b=DENIED, marketplace=ALLOWED),
    ("get", "/api/v1/cs/exceptions/"): dict(no_token=DENIED, token_a=DENIED, token_b=DENIED,
                                            marketplace=ALLOWED),
    ("get", "/api/v1/cs/courier-claims/"): dict(no_token=DENIED, token_a=DENIED, token_b=DENIED,
                                                marketplace=ALLOWED),
    # returns: the marketplace reads every return, only the return's seller decides
    ("get", "/api/v1/returns/"): dict(no_token=DENIED, token_a=ALLOWED, token_b=ALLOWED,
                                      marketplace=ALLOWED),
    ("get", "/api/v1/returns/{return_a.id}/"): dict(no_token=DENIED, token_a=ALLOWED,
                                                   token_b=HIDDEN, marketplace=ALLOWED),
    ("post", "/api/v1/returns/{return_a.id}/accept/"): dict(no_token=DENIED, token_a=ALLOWED,
                                                           token_b=HIDDEN, marketplace=DENIED),
}  # fmt: skip


@pytest.mark.parametrize(("url", "expected"), list(PAGES.items()), ids=list(PAGES))
def test_pages_allow_exactly_the_roles_they_serve(client, world, url, expected):
    for role, user in world["users"].items():
        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.get(url.format(**world))
        wanted = expected.get(role, DENIED)
        assert outcome(response.status_code) == wanted, (role, url, response.status_code)


@pytest.mark.parametrize(("url", "data"), list(CS_POSTS.items()), ids=list(CS_POSTS))
def test_cs_console_actions_refuse_everyone_but_cs_agents(client, world, url, data):
    from tracking.models import ShipmentAudit

    for role in CS_POST_ROLES:
        client.logout()
        if world["users"][role] is not None:
            client.force_login(world["users"][role])
        response = client.post(url.format(**world), data)
        assert outcome(response.status_code) == DENIED, (role, url, response.status_code)
    assert not ShipmentAudit.objects.exists()
    # and an agent's action goes through (a redirect back to the page) and is audited
    client.force_login(world["users"]["cs"])
    response = client.post(url.format(**world), data)
    assert response.status_code == 302 and "/admin/login" not in response["Location"]
    assert ShipmentAudit.objects.count() == 1


@pytest.mark.parametrize(("call", "expected"), list(API.items()), ids=[u for _, u in API])
def test_api_allows_exactly_the_scopes_it_serves(world, call, expected):
    method, url = call
    for scope, key in world["tokens"].items():
        client = APIClient()
        if key:
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        data = {"body": "from the CRM"} if method == "post" else None
        response = getattr(client, method)(url.format(**world), data, format="json")
        assert outcome(response.status_code) == expected[scope], (scope, url, response.status_code)


def test_seller_api_lists_never_include_the_other_sellers_rows(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world['tokens']['token_b']}")
    shipments = client.get("/api/v1/shipments/").json()["results"]
    orders = client.get("/api/v1/orders/").json()["results"]
    assert [s["id"] for s in shipments] == [world["b"].id]
    assert [o["id"] for o in orders] == [world["b"].order_id]


# The seller portal's return actions (POST): only the return's own seller may act; every other
# role is sent to log in (anonymous), refused (staff, not a seller member) or told it does not
# exist (another seller), and the return stays as it was.
RETURN_ACTIONS = ["accept", "refuse", "tracking", "received"]
RETURN_ACTION_REFUSED = dict(anonymous=302, seller_b=404, finance=403, admin=403)


@pytest.mark.parametrize("action", RETURN_ACTIONS)
def test_return_actions_are_only_for_the_returns_seller(client, world, action):
    request = world["return_a"]
    url = f"/seller/returns/{request.id}/{action}/"
    for role, expected in RETURN_ACTION_REFUSED.items():
        client.logout()
        if world["users"][role] is not None:
            client.force_login(world["users"][role])
        response = client.post(url, {"reason": "no", "tracking_number": "6A12345678901"})
        assert response.status_code == expected, (role, url, response.status_code)
        if role == "anonymous":
            assert "/login/" in response["Location"]
        request.refresh_from_db()
        assert request.status == "requested", (role, url)
    client.force_login(world["users"]["seller_a"])
    response = client.post(url, {"reason": "Used item", "tracking_number": "6A12345678901"})
    assert response.status_code == 302 and "/login/" not in response["Location"]


# The API through a browser session (issue 14, item 3): the role's explicit permissions decide,
# never is_staff alone ("staff": a staff login without any permission or group).
API_SESSIONS = {
    ("get", "/api/v1/payouts/"): dict(seller_a=ALLOWED, seller_b=ALLOWED, finance=ALLOWED,
                                      admin=ALLOWED),
    ("get", "/api/v1/payouts/orders/{a.order_id}/"): dict(seller_a=ALLOWED, seller_b=HIDDEN,
                                                         finance=ALLOWED, admin=ALLOWED),
    ("get", "/api/v1/orders/"): dict(seller_a=ALLOWED, seller_b=ALLOWED, admin=ALLOWED),
    ("get", "/api/v1/shipments/"): dict(seller_a=ALLOWED, seller_b=ALLOWED, cs=ALLOWED,
                                        admin=ALLOWED),
    ("get", "/api/v1/shipments/{a.id}/"): dict(seller_a=ALLOWED, seller_b=HIDDEN, cs=ALLOWED,
                                              admin=ALLOWED),
    ("post", "/api/v1/shipments/{a.id}/resync/"): dict(seller_a=ALLOWED, seller_b=HIDDEN,
                                                      cs=ALLOWED, admin=ALLOWED),
    ("get", "/api/v1/cs/shipments/{a.id}/"): dict(cs=ALLOWED, admin=ALLOWED),
    ("get", "/api/v1/cs/exceptions/"): dict(cs=ALLOWED, admin=ALLOWED),
    ("get", "/api/v1/cs/courier-claims/"): dict(cs=ALLOWED, admin=ALLOWED),
    ("get", "/api/v1/sellers/sla?seller={a.seller_id}"): dict(seller_a=ALLOWED, admin=ALLOWED),
    ("get", "/api/v1/returns/"): dict(seller_a=ALLOWED, seller_b=ALLOWED, admin=ALLOWED),
    ("get", "/api/v1/returns/{return_a.id}/"): dict(seller_a=ALLOWED, seller_b=HIDDEN,
                                                   admin=ALLOWED),
    # a decision is a seller member's, never staff's (the portal's rule): admin included
    ("post", "/api/v1/returns/{return_a.id}/accept/"): dict(seller_a=ALLOWED, seller_b=HIDDEN),
}  # fmt: skip


@pytest.mark.parametrize(
    ("call", "expected"), list(API_SESSIONS.items()), ids=[u for _, u in API_SESSIONS]
)
def test_api_sessions_allow_exactly_the_roles_whose_permissions_name_it(world, call, expected):
    method, url = call
    users = {**world["users"], "staff": UserFactory(is_staff=True)}
    for role, user in users.items():
        client = APIClient()
        if user is not None:
            client.force_login(user)
        response = getattr(client, method)(url.format(**world), None, format="json")
        wanted = expected.get(role, DENIED)
        assert outcome(response.status_code) == wanted, (role, url, response.status_code)
