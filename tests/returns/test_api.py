"""The returns API (/api/v1/returns/): the portal's scoping, its decisions through the services,
and the API's one error body."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission

from payouts.models import JournalEntry, Payout
from returns.models import ReturnEvent, ReturnRequest
from returns.services import return_request_accept, return_request_refuse, return_shipment_add
from returns.signals import return_step_recorded
from tests.returns.factories import requested_return
from tests.sellers.factories import SellerMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
LIST = "/api/v1/returns/"


@pytest.fixture(autouse=True)
def _pinned_clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def steps():
    """The return steps announced to the notifications app, in order."""
    seen = []

    def receiver(sender, step, **kwargs):
        seen.append(step)

    return_step_recorded.connect(receiver, weak=False)
    yield seen
    return_step_recorded.disconnect(receiver)


def url(request, action: str = "") -> str:
    return f"{LIST}{request.pk}/{action + '/' if action else ''}"


def shipped(request):
    request = return_request_accept(request=request, actor=None)
    return return_shipment_add(request=request, tracking_number="6A12345678901", actor=None)


# --- Reads -----------------------------------------------------------------------------------


def test_returns_list_shows_a_seller_its_own_returns_only(seller, seller_api):
    # given a return of the token's seller and one of another seller
    mine = requested_return(seller=seller)
    requested_return()
    # when the seller lists returns
    response = seller_api.get(LIST)
    # then only its own is there, in the pagination envelope
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], [r["id"] for r in body["results"]]) == (1, [mine.pk])


def test_returns_list_shows_the_marketplace_every_return(seller, marketplace_api):
    # given returns of two sellers
    first, second = requested_return(seller=seller), requested_return()
    # when the marketplace lists them
    body = marketplace_api.get(LIST).json()
    # then both are there, newest first
    assert [r["id"] for r in body["results"]] == [second.pk, first.pk]


def test_returns_list_refuses_anonymous_callers(client):
    requested_return()
    response = client.get(LIST)
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_returns_list_filters_by_status_order_reference_and_requested_range(
    seller, seller_api, time_machine
):
    # given three returns of the seller, requested a day apart, one of them refused
    time_machine.move_to(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False)
    early = requested_return(seller=seller)
    time_machine.move_to(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False)
    middle = requested_return(seller=seller)
    return_request_refuse(request=middle, actor=None, reason="Article porté")
    time_machine.move_to(datetime(2026, 3, 3, 12, 0, tzinfo=UTC), tick=False)
    late = requested_return(seller=seller)

    def ids(**params):
        response = seller_api.get(LIST, params)
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    # then each filter narrows the list, the range's end excluded
    assert ids(status="refused") == [middle.pk]
    assert ids(status="requested") == [late.pk, early.pk]
    assert ids(order_reference=late.order.reference) == [late.pk]
    assert ids(requested_from="2026-03-02T12:00:00Z") == [late.pk, middle.pk]
    assert ids(requested_from="2026-03-01T00:00:00Z", requested_to="2026-03-02T12:00:00Z") == [
        early.pk
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"requested_from": "yesterday"}, "requested_from"),
        ({"requested_from": "2026-03-02T00:00:00Z", "requested_to": "2026-03-01T00:00:00Z"},
         "requested_to"),
        ({"limit": "-1"}, "limit"),
    ],
)  # fmt: skip
def test_returns_list_refuses_a_bad_filter_with_the_error_body(seller_api, params, field):
    response = seller_api.get(LIST, params)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["errors"])) == ("invalid", [field])
    assert body["message"] == body["errors"][field][0]


def test_returns_list_queries_do_not_grow_with_the_rows(
    seller, seller_api, django_assert_max_num_queries
):
    # given many returns of the seller, one with its return parcel
    for _ in range(5):
        requested_return(seller=seller)
    shipped(requested_return(seller=seller))
    # then listing them takes a fixed number of queries (token, count, rows, items)
    with django_assert_max_num_queries(6):
        response = seller_api.get(LIST)
    assert response.json()["count"] == 6


def test_return_detail_shows_the_request_items_money_parcel_and_steps(seller, seller_api):
    # given a return of one lamp (15.00 EUR) accepted and sent back
    request = shipped(requested_return(seller=seller))
    # when the seller reads it
    response = seller_api.get(url(request))
    # then the whole story is there
    assert response.status_code == 200
    body = response.json()
    lamp = request.items.get().order_item
    assert {k: body[k] for k in ("id", "reference", "order", "order_reference", "status",
                                 "reason", "resolution", "refund_amount", "currency",
                                 "refused_reason", "items", "policy_version",
                                 "photo_count")} == {
        "id": request.pk, "reference": request.reference, "order": request.order_id,
        "order_reference": request.order.reference, "status": "shipped",
        "reason": "wrong_size", "resolution": "refund", "refund_amount": 1500,
        "currency": request.currency, "refused_reason": None,
        "items": [{"order_item": lamp.pk, "sku": "LAMP-1", "name": "Lampe Arco",
                   "unit_amount": 1500, "quantity": 1, "condition": "like_new"}],
        "policy_version": request.policy.version, "photo_count": 0,
    }  # fmt: skip
    parcel = body["return_shipment"]
    assert (parcel["id"], parcel["tracking_number"], parcel["carrier"]) == (
        request.return_shipment_id, "6A12345678901", "laposte",
    )  # fmt: skip
    assert parcel["events"] == []
    assert [(s["from_status"], s["to_status"]) for s in body["steps"]] == [
        ("", "requested"), ("requested", "accepted"), ("accepted", "shipped"),
    ]  # fmt: skip
    assert body["requested_at"] == "2026-03-10T10:00:00+01:00"
    assert body["decided_at"] == "2026-03-10T10:00:00+01:00"
    assert body["received_at"] is None


def test_return_detail_of_another_seller_is_not_found(seller_api):
    # given another seller's return
    theirs = requested_return()
    # when the seller asks for it
    response = seller_api.get(url(theirs))
    # then it does not exist for this seller: the API's error body, no hint
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": f"No return {theirs.pk}."}


def test_return_detail_unknown_id_is_not_found(marketplace_api):
    response = marketplace_api.get(f"{LIST}999999/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_return_detail_is_readable_by_the_marketplace_and_permitted_staff(client, seller):
    # given a return, a marketplace token and a staff user allowed to view returns
    request = requested_return(seller=seller)
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_returnrequest"))
    no_perm = UserFactory(is_staff=True)
    # then the permitted staff session reads it, a staff session without the permission not
    client.force_login(staff)
    assert client.get(url(request)).status_code == 200
    client.force_login(no_perm)
    assert client.get(url(request)).status_code == 403


def test_return_detail_refuses_anonymous_callers(client):
    assert client.get(url(requested_return())).status_code == 401


# --- Decisions -------------------------------------------------------------------------------


def test_return_accept_moves_it_audits_and_announces(seller, seller_api, steps):
    # given a requested return of the seller
    request = requested_return(seller=seller)
    steps.clear()
    # when the seller's system accepts it
    response = seller_api.post(url(request, "accept"))
    # then it is accepted, the step is audited with the token and announced
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    request.refresh_from_db()
    assert (request.status, request.decided_at) == ("accepted", NOW)
    event = ReturnEvent.objects.filter(request=request).latest("id")
    assert (event.from_status, event.to_status) == ("requested", "accepted")
    assert event.actor_label.startswith("token:")
    assert [(s.request_id, s.status) for s in steps] == [(request.pk, "accepted")]


def test_return_accept_twice_changes_nothing(seller, seller_api, steps):
    request = requested_return(seller=seller)
    seller_api.post(url(request, "accept"))
    steps.clear()
    response = seller_api.post(url(request, "accept"))
    assert (response.status_code, response.json()["status"]) == (200, "accepted")
    assert ReturnEvent.objects.filter(request=request, to_status="accepted").count() == 1
    assert steps == []


def test_return_accept_by_a_seller_member_session(client, steps):
    # given a seller's member signed in to the portal, and a return of that seller
    member = SellerMemberFactory()
    request = requested_return(seller=member.seller)
    client.force_login(member.user)
    # when the member accepts it through the API
    response = client.post(url(request, "accept"))
    # then the audit names the member
    assert response.status_code == 200
    assert ReturnEvent.objects.filter(request=request).latest("id").actor_label == (
        member.user.username
    )


def test_return_actions_on_another_sellers_return_are_not_found(other_seller_api, seller):
    # given a requested return of another seller
    request = requested_return(seller=seller)
    for action, data in (("accept", {}), ("refuse", {"reason": "Non"}), ("received", {})):
        # when this seller tries to decide on it
        response = other_seller_api.post(url(request, action), data)
        # then it does not exist for it, and nothing moved
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    request.refresh_from_db()
    assert request.status == "requested"


def test_return_actions_are_the_sellers_not_the_marketplace_tokens(marketplace_api, seller):
    # given a requested return
    request = requested_return(seller=seller)
    for action, data in (("accept", {}), ("refuse", {"reason": "Non"}), ("received", {})):
        # when the marketplace token tries to decide on it
        response = marketplace_api.post(url(request, action), data)
        # then it may not: the decision is the seller's, as in the portal
        assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == "requested"


def test_return_actions_refuse_anonymous_callers(client):
    request = requested_return()
    for action in ("accept", "refuse", "received"):
        assert client.post(url(request, action)).status_code == 401
    request.refresh_from_db()
    assert request.status == "requested"


def test_return_refuse_without_a_reason_is_refused_and_changes_nothing(seller, seller_api):
    request = requested_return(seller=seller)
    for data in ({}, {"reason": "   "}):
        response = seller_api.post(url(request, "refuse"), data, format="json")
        assert response.status_code == 400
        body = response.json()
        assert (body["code"], list(body["errors"])) == ("invalid", ["reason"])
        assert body["message"] == "Say why the return is refused: the buyer reads it."
    request.refresh_from_db()
    assert (request.status, request.refused_reason) == ("requested", "")


def test_return_refuse_tells_the_buyer_and_lifts_the_hold(seller, seller_api, steps):
    # given a requested return holding the order's payout
    request = requested_return(seller=seller)
    assert Payout.objects.get(order=request.order).hold_reason == "return"
    steps.clear()
    # when the seller refuses it with a reason
    response = seller_api.post(url(request, "refuse"), {"reason": "Article porté"}, format="json")
    # then it is refused with that reason, audited, announced, and the hold is lifted
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["refused_reason"]) == (
        "refused", "Article porté",
    )  # fmt: skip
    event = ReturnEvent.objects.filter(request=request).latest("id")
    assert (event.to_status, event.note) == ("refused", "Article porté")
    assert Payout.objects.get(order=request.order).hold_reason == ""
    assert [s.status for s in steps] == ["refused"]


def test_return_refuse_once_accepted_is_an_invalid_transition(seller, seller_api):
    request = return_request_accept(request=requested_return(seller=seller), actor=None)
    response = seller_api.post(url(request, "refuse"), {"reason": "Non"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_transition",
        "message": "Cannot refuse it: the return is accepted, waiting for the parcel.",
    }
    request.refresh_from_db()
    assert request.status == "accepted"


def test_return_received_refunds_audits_and_announces(seller, seller_api, steps):
    # given a return of one lamp (15.00) on its way back
    request = shipped(requested_return(seller=seller))
    steps.clear()
    # when the seller marks it received
    response = seller_api.post(url(request, "received"))
    # then it is received, refunded through the ledger, audited and announced
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["received_at"]) == (
        "received", "2026-03-10T10:00:00+01:00",
    )  # fmt: skip
    entry = JournalEntry.objects.get(payout__order=request.order, kind="return_refund")
    assert entry.reference == request.reference
    event = ReturnEvent.objects.filter(request=request).latest("id")
    assert (event.from_status, event.to_status, event.note) == (
        "shipped", "received", "refunded 1500",
    )  # fmt: skip
    assert [s.status for s in steps] == ["received"]


def test_return_received_before_the_parcel_is_an_invalid_transition(seller, seller_api, steps):
    request = requested_return(seller=seller)
    steps.clear()
    response = seller_api.post(url(request, "received"))
    assert (response.status_code, response.json()["code"]) == (400, "invalid_transition")
    request.refresh_from_db()
    assert request.status == ReturnRequest.Status.REQUESTED
    assert not JournalEntry.objects.filter(payout__order=request.order, kind="return_refund")
    assert steps == []


def test_returns_schema_documents_every_response(client):
    # the schema lists each operation's success, 400/401/403/404/429 with their bodies
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert set(paths[LIST]["get"]["responses"]) == {"200", "400", "401", "403", "429"}
    for action in ("accept", "refuse", "received"):
        responses = paths[f"{LIST}{{return_id}}/{action}/"]["post"]["responses"]
        assert set(responses) == {"200", "400", "401", "403", "404", "429"}
        content = {code: r["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                   for code, r in responses.items()}  # fmt: skip
        assert content == {"200": "ReturnDetailOutput", "400": "ErrorOutput",
                           "401": "RefusalOutput", "403": "RefusalOutput",
                           "404": "ErrorOutput", "429": "ErrorOutput"}  # fmt: skip
    detail = paths[f"{LIST}{{return_id}}/"]["get"]["responses"]
    assert set(detail) == {"200", "401", "403", "404", "429"}


def test_returns_list_past_the_quota_answers_429_with_the_error_body(seller_api, settings):
    # given a quota of one request per window
    settings.API_RATE_LIMIT_REQUESTS = 1
    assert seller_api.get(LIST).status_code == 200
    # when the caller asks again in the same window
    response = seller_api.get(LIST)
    # then it is refused with the documented body and told when to retry
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert "Retry-After" in response
