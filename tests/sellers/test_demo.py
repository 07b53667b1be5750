import pytest

from devtools.demo.marketplace import seed_demo
from tracking.models import Shipment

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_covers_every_emulated_courier():
    first = seed_demo()
    second = seed_demo()
    assert first["shipments_created"] > 20
    assert second["shipments_created"] == 0
    carriers = set(Shipment.objects.values_list("carrier", flat=True))
    assert {"laposte", "dhl", "other"} <= carriers


def test_seed_demo_opens_a_payout_per_order_and_a_finance_login():
    from django.contrib.auth import get_user_model

    from payouts.models import Payout
    from sellers.models import Order

    seed_demo()
    # the dashboards' historical orders ("HIST-…") were settled long ago: no open payout
    assert Payout.objects.count() == Order.objects.exclude(reference__startswith="HIST-").count()
    assert Payout.objects.filter(buyer_confirmed_at__isnull=False).exists()
    finance = get_user_model().objects.get(username="finance")
    assert finance.has_perm("payouts.release_payout")


def test_seed_demo_gives_the_cs_console_a_login_exceptions_history_and_estimates():
    from django.contrib.auth import get_user_model

    from tracking.models import DeliveryEstimate, ShipmentException
    from tracking.services.edd import edd_accuracy

    first = seed_demo()
    second = seed_demo()
    agent = get_user_model().objects.get(username="cs")
    assert agent.is_staff and agent.has_perm("tracking.use_cs_console")
    assert first["trouble_parcels"] == 6 and second["trouble_parcels"] == 0
    kinds = set(ShipmentException.objects.filter(resolved_at=None).values_list("kind", flat=True))
    assert {"stuck", "failed_attempt", "address_issue", "customs", "delayed",
            "no_first_scan"} <= kinds  # fmt: skip
    assert DeliveryEstimate.objects.filter(source="predicted").exists()
    # the one history (the dashboards' parcels) is what the estimates learn from
    accuracy = edd_accuracy()
    assert accuracy.tested_on > 300 and 0.5 <= accuracy.within_window <= 1


def test_seed_demo_history_reads_like_a_courier_timeline_in_the_cs_console():
    # given the demo seeded
    from tracking.models import TrackingEvent

    seed_demo()
    # then a delivered parcel of the history has its courier's codes, words and places
    delivered = (
        Shipment.objects.filter(order__reference__startswith="HIST-", status="delivered")
        .order_by("id")
        .first()
    )
    events = list(
        TrackingEvent.objects.filter(shipment=delivered)
        .order_by("occurred_at")
        .values_list("status", "carrier_code", "city", "postcode")
    )
    origin = delivered.seller.origin_postcode
    destination = delivered.order.destination_postcode
    assert events[0] == ("info_received", "PC1", "Lyon", origin)
    assert events[1][:2] == ("in_transit", "ET1") and events[1][2] and events[1][3] == ""
    assert events[-1][:2] == ("delivered", "DI1") and events[-1][3] == destination
    assert all(city for _status, _code, city, _postcode in events)


def test_seed_demo_gives_the_dashboards_history_to_show(django_capture_on_commit_callbacks):
    # given the demo seeded (its rollups are built on commit)
    from core.access import Scope
    from sellers import selectors
    from sellers.models import Seller

    with django_capture_on_commit_callbacks(execute=True):
        first = seed_demo()
    assert first["history_created"] == 1300
    assert seed_demo()["history_created"] == 0
    # then the seller's dashboards show several couriers and a valid tracking rate below target
    atelier = Seller.objects.get(slug="atelier-lumiere")
    scope, period = Scope.for_seller(atelier.id), selectors.Period.last_days(120)
    couriers = selectors.courier_performance(scope=scope, seller_id=None, period=period)
    assert len(couriers) >= 5 and sum(c.seller.shipments for c in couriers) >= 1000
    sla = {f.metric: f for f in selectors.seller_sla(scope=scope, seller_id=None, period=period)}
    assert sla["valid_tracking_rate"].meets_target is False
    best = selectors.courier_recommendation(
        scope=scope, origin_region="69", destination=("FR", "75"), service_level="standard"
    ).best
    assert best is not None


def test_seed_demo_has_protected_and_unprotected_orders_of_each_kind():
    from payouts.models import CourierClaim, Payout
    from sellers.models import Order, OrderProtection

    # given the demo seeded (twice: idempotent)
    first = seed_demo()
    assert seed_demo()["protection_orders_created"] == 0
    assert first["protection_orders_created"] == 9
    # then every order has its judgement, and the PROT-… orders show each kind
    assert OrderProtection.objects.count() == Order.objects.count()
    prot = {p.order.reference: (p.protected, p.reasons)
            for p in OrderProtection.objects.filter(order__reference__startswith="PROT-")
            .select_related("order")}  # fmt: skip
    assert prot == {
        "PROT-ONTIME": (True, []),
        "PROT-COURIER-LATE": (True, []),
        "PROT-CLAIM": (True, []),
        "PROT-OTHER-URL": (True, []),
        "PROT-CONFIRMED-LATE": (False, ["confirmed_late"]),
        "PROT-NO-SCAN": (False, ["not_scanned"]),
        "PROT-WRONG-COURIER": (False, ["courier_mismatch"]),
        "PROT-HANDED-LATE": (False, ["handed_over_late"]),
        "PROT-HANDED-LATE-CLAIM": (False, ["handed_over_late"]),
    }
    # and the history has both protected and unprotected orders for the dashboards
    history = OrderProtection.objects.filter(order__reference__startswith="HIST-")
    assert history.filter(protected=True).exists() and history.filter(protected=False).exists()
    # and the protected order's "not received" claim went to the courier, the other one holds
    (claim,) = CourierClaim.objects.all()
    assert claim.order.reference == "PROT-CLAIM"
    assert Payout.objects.get(order=claim.order).status == "held"
    held = Payout.objects.get(order__reference="PROT-HANDED-LATE-CLAIM")
    assert (held.status, held.hold_reason) == ("on_hold", "claim")
