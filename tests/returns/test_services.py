from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from core.errors import ApplicationError
from notifications.models import Notification, WebhookEndpoint, WebhookEvent
from payouts.models import Account, JournalEntry, JournalLine, Payout, PayoutEvent
from payouts.rules import commission_split
from payouts.services import ledger_check, payout_release, payout_return_refund
from returns import selectors
from returns.models import ReturnEvent, ReturnPolicy, ReturnRequest
from returns.services import (
    ItemChoice,
    PolicyValues,
    ReturnRefused,
    return_policy_set,
    return_receive,
    return_request_accept,
    return_request_cancel,
    return_request_create,
    return_request_refuse,
    return_shipment_add,
)
from tests.payouts.factories import finance_user
from tests.returns.factories import ALL_REASONS, ReturnPolicyFactory, delivered_order
from tests.sellers.factories import SellerFactory, UserFactory
from tests.support.images import photo
from tests.support.ingest import deliver_return_parcel
from tracking.models import Shipment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    # Refusals are written in the active language (the buyer's on the page): English here.
    with translation.override("en"):
        yield


PNG = photo("PNG")  # real images: uploads are decoded
JPEG = photo("JPEG")


def policy_values(**overrides) -> PolicyValues:
    values = {
        "accepts_returns": True, "window_days": 30, "allowed_reasons": list(ALL_REASONS),
        "allowed_conditions": ["unopened", "like_new"], "shipping_paid_by": "seller",
        "requires_description": False, "min_photos": 0, "resolutions": ["refund"],
    }  # fmt: skip
    return PolicyValues(**{**values, **overrides})


def one_lamp(lamp, quantity=1, condition="like_new"):
    return [ItemChoice(order_item_id=lamp.id, quantity=quantity, condition=condition)]


def request_for(order, lamp, **kwargs):
    fields = {"items": one_lamp(lamp), "reason": "wrong_size", "resolution": "refund", **kwargs}
    return return_request_create(order=order, **fields)


# --- Policies ---------------------------------------------------------------------------------


def test_return_policy_set_adds_versions_and_keeps_the_earlier_ones():
    # given a seller without a policy of its own
    seller, user = SellerFactory(), UserFactory()
    # when it saves its policy twice
    first = return_policy_set(seller=seller, values=policy_values(window_days=30), actor=user)
    second = return_policy_set(seller=seller, values=policy_values(window_days=10), actor=user)
    # then both versions exist, numbered, the first unchanged
    first.refresh_from_db()
    assert (first.version, first.window_days) == (1, 30)
    assert (second.version, second.window_days, second.created_by) == (2, 10, user)
    assert selectors.policy_current(seller_id=seller.id) == second


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"window_days": 0}, "window_days"),
        ({"window_days": 400}, "window_days"),
        ({"allowed_reasons": []}, "allowed_reasons"),
        ({"allowed_reasons": ["because"]}, "allowed_reasons"),
        ({"allowed_conditions": []}, "allowed_conditions"),
        ({"shipping_paid_by": "courier"}, "shipping_paid_by"),
        ({"min_photos": 6}, "min_photos"),
        ({"resolutions": []}, "resolutions"),
    ],
)
def test_return_policy_set_refuses_invalid_values_and_stores_nothing(overrides, field):
    # given a seller
    seller = SellerFactory()
    # when a policy with a bad value is saved
    with pytest.raises(ApplicationError) as refused:
        return_policy_set(seller=seller, values=policy_values(**overrides), actor=None)
    # then the field is named and no version exists
    assert (refused.value.code, refused.value.field) == ("invalid_policy", field)
    assert not ReturnPolicy.objects.filter(seller=seller).exists()


def test_policy_in_force_is_the_one_of_the_delivery_date_not_of_today():
    # given a seller whose policy was 30 days until yesterday, and is 7 days since
    seller, now = SellerFactory(), timezone.now()
    old = ReturnPolicyFactory(seller=seller, version=1, window_days=30,
                              effective_from=now - timedelta(days=60))  # fmt: skip
    new = ReturnPolicyFactory(seller=seller, version=2, window_days=7,
                              effective_from=now - timedelta(days=1))  # fmt: skip
    # when orders delivered before and after the change are judged
    # then each gets the policy in force at its delivery
    assert selectors.policy_in_force(seller_id=seller.id, at=now - timedelta(days=10)) == old
    assert selectors.policy_in_force(seller_id=seller.id, at=now) == new
    # and before its first own version, the marketplace default applies
    default = selectors.policy_in_force(seller_id=seller.id, at=now - timedelta(days=90))
    assert default.seller_id is None


def test_return_request_create_is_judged_by_the_policy_at_delivery():
    # given an order delivered 20 days ago under a 30-day policy, now 7 days
    seller, now = SellerFactory(), timezone.now()
    ReturnPolicyFactory(seller=seller, version=1, window_days=30,
                        effective_from=now - timedelta(days=60))  # fmt: skip
    ReturnPolicyFactory(seller=seller, version=2, window_days=7,
                        effective_from=now - timedelta(days=1))  # fmt: skip
    order, lamp, _shade = delivered_order(seller=seller, days_ago=20)
    # when the buyer asks for a return
    request = request_for(order, lamp)
    # then it is accepted for review under version 1
    assert (request.status, request.policy.version) == ("requested", 1)


# --- Requests ---------------------------------------------------------------------------------


def test_return_request_create_outside_the_window_says_when_it_ended():
    # given an order delivered 20 days ago under the marketplace default (14 days)
    order, lamp, _shade = delivered_order(days_ago=20)
    # when the buyer asks for a return
    with pytest.raises(ReturnRefused) as refused:
        request_for(order, lamp)
    # then the refusal says the window and its end, and nothing is stored
    assert refused.value.code == "outside_window"
    assert "within 14 days of delivery" in refused.value.message
    assert "ended on" in refused.value.message
    assert not ReturnRequest.objects.exists()
    assert Payout.objects.get(order=order).status != "on_hold"


def test_return_request_create_with_a_reason_the_seller_does_not_accept_is_refused():
    # given a seller who takes back defective items only
    seller = SellerFactory()
    return_policy_set(seller=seller, values=policy_values(allowed_reasons=["defective"]),
                      actor=None, now=timezone.now() - timedelta(days=30))  # fmt: skip
    order, lamp, _shade = delivered_order(seller=seller, days_ago=3)
    # when the buyer changed their mind
    with pytest.raises(ReturnRefused) as refused:
        request_for(order, lamp, reason="changed_mind")
    # then the refusal names the reason and what is accepted
    assert refused.value.code == "reason_not_allowed"
    assert "Changed my mind" in refused.value.message
    assert "Defective / does not work" in refused.value.message


@pytest.mark.parametrize(
    ("policy", "kwargs", "code"),
    [
        ({"accepts_returns": False}, {}, "return_refused"),
        ({}, {"items": "used"}, "condition_not_allowed"),
        ({"requires_description": True}, {}, "description_required"),
        ({"min_photos": 1}, {}, "photos_required"),
        ({"resolutions": ["exchange"]}, {}, "resolution_not_allowed"),
    ],
)
def test_return_request_create_enforces_every_rule_of_the_policy(policy, kwargs, code):
    # given a seller's policy with one demanding rule
    seller = SellerFactory()
    return_policy_set(seller=seller, values=policy_values(**policy), actor=None,
                      now=timezone.now() - timedelta(days=30))  # fmt: skip
    order, lamp, _shade = delivered_order(seller=seller)
    if "items" in kwargs:
        kwargs = {"items": one_lamp(lamp, condition=kwargs["items"])}
    # when a request breaks it
    with pytest.raises(ReturnRefused) as refused:
        request_for(order, lamp, **kwargs)
    # then it is refused with that rule's code
    assert refused.value.code == code


def test_return_request_create_before_delivery_is_refused():
    # given an order whose parcel is still on its way
    order, lamp, _shade = delivered_order()
    Shipment.objects.filter(order=order).update(status="in_transit", delivered_at=None)
    # when the buyer asks for a return
    with pytest.raises(ReturnRefused) as refused:
        request_for(order, lamp)
    # then it waits for the delivery
    assert refused.value.code == "not_delivered"


def test_return_request_create_refuses_more_units_than_bought_and_foreign_items():
    # given an order with 2 lamps, and another order's item
    order, lamp, _shade = delivered_order()
    _other, foreign, _ = delivered_order()
    # when the buyer asks for 3 lamps, or for an item of another order
    with pytest.raises(ApplicationError) as too_many:
        request_for(order, lamp, items=one_lamp(lamp, quantity=3))
    with pytest.raises(ApplicationError) as not_ours:
        request_for(order, lamp, items=one_lamp(foreign))
    # then both are refused
    assert too_many.value.code == "quantity_too_high"
    assert "at most 2" in too_many.value.message
    assert not_ours.value.message == "An item is not part of this order."


def test_return_request_create_validates_photo_type_and_size(settings, tmp_path):
    # given an order and photos: a text file named .jpg, and a too large PNG
    settings.MEDIA_ROOT = tmp_path
    order, lamp, _shade = delivered_order()
    fake = SimpleUploadedFile("photo.jpg", b"not an image at all", content_type="image/jpeg")
    huge = SimpleUploadedFile("big.png", PNG + b"\x00" * (5 * 1024 * 1024), "image/png")
    # when they are sent
    with pytest.raises(ApplicationError) as wrong_type:
        request_for(order, lamp, photos=[fake])
    with pytest.raises(ApplicationError) as too_big:
        request_for(order, lamp, photos=[huge])
    # then each is refused, and nothing stored
    assert (wrong_type.value.code, too_big.value.code) == ("unsupported_file", "file_too_large")
    assert not ReturnRequest.objects.exists()
    # and real photos are stored with their sniffed type
    request = request_for(
        order, lamp, photos=[SimpleUploadedFile("a.png", PNG), SimpleUploadedFile("b.jpg", JPEG)]
    )
    assert sorted(request.photos.values_list("content_type", flat=True)) == [
        "image/jpeg", "image/png",
    ]  # fmt: skip


def test_return_request_create_holds_the_payout_until_the_return_ends():
    # given a delivered order whose payout is eligible (buyer confirmed receipt earlier)
    order, lamp, _shade = delivered_order(days_ago=3)
    payout = Payout.objects.get(order=order)
    payout.buyer_confirmed_at = timezone.now() - timedelta(days=1)
    payout.save()
    finance = finance_user()
    # when the buyer asks for a return
    request = request_for(order, lamp)
    # then the payout is on hold for the return and cannot be released
    payout.refresh_from_db()
    assert (payout.status, payout.hold_reason, payout.return_reference) == (
        "on_hold", "return", request.reference,
    )  # fmt: skip
    with pytest.raises(ApplicationError) as refused:
        payout_release(payout=payout, actor=finance)
    assert refused.value.code == "payout_on_hold"
    assert "a return request is open" in refused.value.message
    # and when the seller refuses the return, the hold is lifted
    return_request_refuse(request=request, actor=None, reason="Worn, not as new")
    payout.refresh_from_db()
    assert (payout.status, payout.return_reference) == ("eligible", "")
    actions = list(payout.events.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == [PayoutEvent.Action.RETURN_OPENED, PayoutEvent.Action.RETURN_CLOSED]


def test_return_request_create_refuses_a_second_open_return_on_the_order():
    # given an open return
    order, lamp, shade = delivered_order()
    request_for(order, lamp)
    # when another one is asked for
    with pytest.raises(ReturnRefused) as refused:
        request_for(order, shade, items=one_lamp(shade))
    # then it waits for the first
    assert refused.value.code == "return_already_open"


def test_return_request_refuse_needs_a_reason_and_tells_the_buyer():
    # given a requested return
    order, lamp, _shade = delivered_order()
    request = request_for(order, lamp)
    # when the seller refuses without a reason, then with one
    with pytest.raises(ApplicationError):
        return_request_refuse(request=request, actor=None, reason="  ")
    refused = return_request_refuse(request=request, actor=None, reason="Used item")
    # then it is refused with the reason, and the step is audited and notified
    assert (refused.status, refused.refused_reason) == ("refused", "Used item")
    assert list(request.events.order_by("id").values_list("to_status", flat=True)) == [
        "requested", "refused",
    ]  # fmt: skip
    triggers = set(Notification.objects.filter(order=order).values_list("trigger", flat=True))
    assert {"return_requested", "return_refused"} <= triggers


def test_return_request_accept_only_from_requested():
    # given a refused return
    order, lamp, _shade = delivered_order()
    request = request_for(order, lamp)
    return_request_refuse(request=request, actor=None, reason="Used item")
    # when the seller tries to accept it
    with pytest.raises(ApplicationError) as refused:
        return_request_accept(request=request, actor=None)
    # then the transition is refused
    assert refused.value.code == "invalid_transition"


def test_return_request_cancel_lifts_the_hold():
    # given an accepted return
    order, lamp, _shade = delivered_order()
    request = return_request_accept(request=request_for(order, lamp), actor=None)
    # when the buyer cancels it
    return_request_cancel(request=request)
    # then the payout is no longer held for it
    payout = Payout.objects.get(order=order)
    assert (payout.return_reference, payout.hold_reason) == ("", "")


# --- The return parcel and the money ----------------------------------------------------------


def test_return_shipment_add_registers_a_return_parcel_that_never_proves_delivery():
    # given an accepted return
    order, lamp, _shade = delivered_order()
    request = return_request_accept(request=request_for(order, lamp), actor=None)
    # when the return tracking number is entered (courier detected from the number)
    request = return_shipment_add(request=request, tracking_number="6A12345678901", actor=None)
    # then it is a return parcel of the order, followed like any other
    parcel = request.return_shipment
    assert (request.status, parcel.direction, parcel.order_id) == ("shipped", "return", order.id)
    assert parcel.next_sync_at is not None
    from payouts.services.lifecycle import parcel_facts_by_order

    facts = parcel_facts_by_order([order.id], lock=False)[order.id]
    assert parcel.id not in {f.shipment_id for f in facts}


def test_return_shipment_add_refuses_an_unusable_number_and_keeps_the_request():
    # given an accepted return
    order, lamp, _shade = delivered_order()
    request = return_request_accept(request=request_for(order, lamp), actor=None)
    # when the number is not a tracking number
    with pytest.raises(ApplicationError):
        return_shipment_add(request=request, tracking_number="??", actor=None)
    # then the request stays accepted, without parcel
    request.refresh_from_db()
    assert (request.status, request.return_shipment_id) == ("accepted", None)


def test_return_parcel_delivered_refunds_the_returned_item_and_commission_on_the_rest(
    django_capture_on_commit_callbacks, django_q_sync
):
    # given an order of 50.00 (2 lamps at 15.00, a shade at 20.00), one lamp returned and sent
    order, lamp, _shade = delivered_order(days_ago=3)
    payout = Payout.objects.get(order=order)
    request = return_request_accept(request=request_for(order, lamp), actor=None)
    request = return_shipment_add(request=request, tracking_number="6A12345678901", actor=None)
    # when the courier reports the return parcel delivered back to the seller
    with django_capture_on_commit_callbacks(execute=True):
        deliver_return_parcel(request.return_shipment, timezone.now())
    # then the return is received and 15.00 refunded to the buyer through the ledger
    request.refresh_from_db()
    assert request.status == "received"
    payout.refresh_from_db()
    commission, net = commission_split(3500, payout.commission_rate)
    assert (payout.returned_amount, payout.commission_amount, payout.net_amount) == (
        1500, commission, net,
    )  # fmt: skip
    assert payout.return_reference == ""
    entry = JournalEntry.objects.get(payout=payout, kind="return_refund")
    lines = dict(entry.lines.values_list("account", "amount"))
    assert lines == {Account.ESCROW: 1500, Account.BUYER_REFUND_PAYABLE: -1500}
    assert entry.reference == request.reference
    # and the ledger balances, the escrow now holding what the buyer kept
    ledger_check()
    # and once released, the seller gets the net of 35.00 and the marketplace its commission
    payout.buyer_confirmed_at = timezone.now()
    payout.save()
    payout_release(payout=payout, actor=None)
    ledger_check()
    seller_line = JournalLine.objects.get(entry__payout=payout, entry__kind="release",
                                          account=Account.SELLER_PAYABLE)  # fmt: skip
    assert seller_line.amount == -net


def test_return_of_every_item_refunds_the_whole_payout():
    # given an order of exactly its items (50.00), everything returned
    order, lamp, shade = delivered_order()
    items = [ItemChoice(lamp.id, 2, "unopened"), ItemChoice(shade.id, 1, "unopened")]
    request = return_request_accept(request=request_for(order, lamp, items=items), actor=None)
    request = return_shipment_add(request=request, tracking_number="6A12345678901", actor=None)
    # when it is received
    return_receive(request=request, actor=None)
    # then the payout is refunded (final) and the ledger balances
    payout = Payout.objects.get(order=order)
    assert (payout.status, payout.returned_amount, payout.net_amount) == ("refunded", 5000, 0)
    ledger_check()


def test_return_after_release_takes_the_shares_back_from_seller_and_commission():
    # given a payout already released (a 30-day policy outlives the claim window)
    seller = SellerFactory()
    return_policy_set(seller=seller, values=policy_values(window_days=30), actor=None,
                      now=timezone.now() - timedelta(days=60))  # fmt: skip
    order, lamp, _shade = delivered_order(seller=seller, days_ago=20)
    payout = payout_release(payout=Payout.objects.get(order=order), actor=None)
    old_net, old_commission = payout.net_amount, payout.commission_amount
    request = return_request_accept(request=request_for(order, lamp), actor=None)
    request = return_shipment_add(request=request, tracking_number="6A12345678901", actor=None)
    # when the return is received
    return_receive(request=request, actor=None)
    # then the seller and the marketplace give back their shares of the 15.00
    payout.refresh_from_db()
    commission, net = commission_split(3500, payout.commission_rate)
    entry = JournalEntry.objects.get(payout=payout, kind="return_refund")
    lines = dict(entry.lines.values_list("account", "amount"))
    assert lines == {
        Account.SELLER_PAYABLE: old_net - net,
        Account.COMMISSION_REVENUE: old_commission - commission,
        Account.BUYER_REFUND_PAYABLE: -1500,
    }
    assert (payout.status, payout.net_amount) == ("released", net)
    ledger_check()


def test_payout_return_refund_is_idempotent_per_return_and_bounded():
    # given a refunded return
    order, lamp, _shade = delivered_order()
    request = return_request_accept(request=request_for(order, lamp), actor=None)
    request = return_shipment_add(request=request, tracking_number="6A12345678901", actor=None)
    return_receive(request=request, actor=None)
    # when the same refund is asked again, or a refund larger than what is left
    payout_return_refund(order_id=order.id, reference=request.reference, amount=1500, actor=None)
    return_receive(request=request, actor=None)
    with pytest.raises(ApplicationError) as too_much:
        payout_return_refund(order_id=order.id, reference="RET-other", amount=4000, actor=None)
    # then one entry exists and the ledger balances
    assert JournalEntry.objects.filter(payout__order=order, kind="return_refund").count() == 1
    assert too_much.value.code == "invalid_refund_amount"
    ledger_check()


def test_exchange_received_lifts_the_hold_without_refund():
    # given an exchange accepted and sent back
    order, lamp, _shade = delivered_order()
    request = request_for(order, lamp, resolution="exchange")
    request = return_request_accept(request=request, actor=None)
    request = return_shipment_add(request=request, tracking_number="6A12345678901", actor=None)
    # when it is received
    return_receive(request=request, actor=None)
    # then no money moves and the payout is free again
    payout = Payout.objects.get(order=order)
    assert not JournalEntry.objects.filter(payout=payout, kind="return_refund").exists()
    assert (payout.return_reference, payout.returned_amount) == ("", 0)
    assert ReturnEvent.objects.filter(request=request, note__startswith="exchange").exists()


def test_return_steps_notify_buyer_by_email_and_seller_by_webhook():
    # given a seller with a webhook endpoint for return events
    order, lamp, _shade = delivered_order()
    WebhookEndpoint.objects.create(seller=order.seller, name="ERP", url="https://erp.example/h",
                                   event_types=["return.updated"])  # fmt: skip
    # when the buyer requests and the seller accepts
    request = return_request_accept(request=request_for(order, lamp), actor=None)
    # then the buyer has one email per step and the seller one event per step
    emails = Notification.objects.filter(order=order, channel="email")
    assert sorted(emails.values_list("trigger", flat=True)) == [
        "return_accepted", "return_requested",
    ]  # fmt: skip
    events = WebhookEvent.objects.filter(type="return.updated", order=order)
    steps = sorted(e.payload["data"]["step"] for e in events)
    assert steps == ["return_accepted", "return_requested"]
    assert events.first().payload["data"]["return"]["reference"] == request.reference


def test_return_request_create_on_a_parcel_delivered_back_to_the_seller_is_refused(client):
    # given an order whose only parcel the courier delivered back to the seller
    order, lamp, _shade = delivered_order()
    Shipment.objects.filter(order=order).update(substatus="delivered.to_sender")
    # when the buyer asks for a return, then there is nothing delivered to return
    with pytest.raises(ReturnRefused) as refused:
        request_for(order, lamp)
    assert refused.value.code == "not_delivered"
    # and the tracking page does not offer it
    assert "/return/" not in client.get(f"/t/{order.public_token}/").content.decode()
