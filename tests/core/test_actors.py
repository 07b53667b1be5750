"""Who did it (core.actors): one answer for every audit row writer."""

import pytest

from core.actors import BUYER, actor_parts, actor_user, require_perm
from core.api.authentication import ApiTokenUser
from core.errors import PermissionDenied
from core.services import api_token_create
from returns.models import ReturnEvent
from returns.services import ItemChoice, return_request_accept, return_request_create
from tests.returns.factories import delivered_order
from tests.sellers.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_actor_parts_names_the_system_the_buyer_a_user_and_a_token():
    # given each kind of actor
    user = UserFactory(username="lea")
    token, _key = api_token_create(name="CRM")
    token_user = ApiTokenUser(token)
    # then each gets its user row (or none) and its audit label
    assert actor_parts(None) == (None, "system")
    assert actor_parts(BUYER) == (None, "buyer")
    assert actor_parts(user) == (user, "lea")
    assert actor_parts(token_user) == (None, str(token_user))
    assert str(token_user).startswith("token:")
    assert [actor_user(a) for a in (None, BUYER, user, token_user)] == [None, None, user, None]


def test_require_perm_refuses_the_system_and_the_buyer():
    for actor in (None, BUYER):
        with pytest.raises(PermissionDenied):
            require_perm(actor, "payouts.override_pod_release", "no")


def test_return_request_audit_rows_name_the_buyer_then_the_seller_user():
    # given a delivered order, and the seller's member who reviews returns
    order, lamp, _shade = delivered_order(days_ago=2)
    member = UserFactory(username="atelier-staff")
    # when the buyer asks for a return through the token link and the member accepts it
    request = return_request_create(
        order=order,
        items=[ItemChoice(order_item_id=lamp.id, quantity=1, condition="like_new")],
        reason="wrong_size",
        resolution="refund",
    )
    return_request_accept(request=request, actor=member)
    # then the return's audit trail says who did each step, with the one labelling rule
    events = ReturnEvent.objects.filter(request=request).order_by("id")
    assert [(e.to_status, e.actor, e.actor_label) for e in events] == [
        ("requested", None, "buyer"),
        ("accepted", member, "atelier-staff"),
    ]
