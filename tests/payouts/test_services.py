"""The payout lifecycle, the release and the ledger, through the services."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, PermissionDenied
from payouts import services
from payouts.models import (
    AppendOnlyError,
    JournalEntry,
    JournalLine,
    Payout,
    PayoutEvent,
    SellerCommission,
)
from payouts.signals import PayoutReleased, payouts_released
from sellers.models import Order
from tests.payouts.factories import (
    DeliveredShipmentFactory,
    OrderFactory,
    UserFactory,
    proven_parcel,
)
from tests.tracking.factories import ShipmentFactory
from tracking.carriers.base import CarrierEvent, PodData, TrackingResult
from tracking.models import ProofOfDelivery
from tracking.services import ShipmentUpdate, events_ingest

pytestmark = pytest.mark.django_db


def lines_of(payout, kind):
    entry = payout.journal_entries.get(kind=kind)
    return sorted(entry.lines.values_list("account", "amount"))


def test_payout_open_for_order_holds_the_payment_in_escrow(settings):
    # given an order of 49.90 EUR and a marketplace commission of 12 %
    settings.PAYOUT_COMMISSION_RATE = "0.12"
    order = OrderFactory(total_amount=4990)
    # when the payment system reports the payment
    payout, created = services.payout_open_for_order(
        order=order, actor=None, payment_reference="PSP-42"
    )
    # then the payout is held, split 599 / 4391, with its payment entry and audit row
    assert created
    assert (payout.status, payout.commission_amount, payout.net_amount) == ("held", 599, 4391)
    assert lines_of(payout, "payment") == [("escrow", -4990), ("psp_clearing", 4990)]
    event = payout.events.get()
    assert (event.action, event.from_status, event.to_status) == ("opened", "", "held")


def test_payout_open_for_order_is_idempotent_and_checks_the_amount():
    order = OrderFactory(total_amount=1000)
    first, _ = services.payout_open_for_order(order=order, actor=None)
    again, created = services.payout_open_for_order(order=order, actor=None, amount=1000)
    assert (again.pk, created) == (first.pk, False)
    assert JournalEntry.objects.filter(payout=first).count() == 1
    with pytest.raises(ApplicationError) as error:
        services.payout_open_for_order(order=order, actor=None, amount=999)
    assert error.value.code == "amount_mismatch"


def test_payout_open_uses_the_seller_commission_override():
    order = OrderFactory(total_amount=10000)
    SellerCommission.objects.create(seller=order.seller, rate="0.0500")
    payout, _ = services.payout_open_for_order(order=order, actor=None)
    assert (payout.commission_amount, payout.net_amount) == (500, 9500)


def test_payout_with_no_shipment_is_never_eligible(open_payout):
    # given a paid order that has no parcel, and the buyer says it arrived
    payout = open_payout(parcels=0)
    services.payout_receipt_confirm(payout=payout, actor=None)
    # then it stays held, and neither the job nor finance can release it
    payout.refresh_from_db()
    assert payout.status == "held"
    assert services.payouts_release_due() == 0
    with pytest.raises(ApplicationError, match="no parcel"):
        services.payout_release(payout=payout, actor=None)


def test_payout_waits_for_the_claim_window_after_the_last_delivery(open_payout, settings):
    settings.PAYOUT_CLAIM_WINDOW_DAYS = 14
    # given a parcel delivered 3 days ago with the courier's proof
    payout = open_payout(days_ago=3)
    # then it is held until 14 days after the delivery
    assert payout.status == "held" and payout.pod_complete
    assert services.payouts_release_due() == 0
    # when the buyer confirms receipt
    payout = services.payout_receipt_confirm(payout=payout, actor=None)
    # then it is eligible and the job releases it
    assert payout.status == "eligible"
    assert services.payouts_release_due() == 1
    payout.refresh_from_db()
    assert payout.status == "released"


def test_payout_needs_proof_for_every_parcel(open_payout):
    # given an order with one proven parcel and one delivered without any POD
    order = OrderFactory()
    proven_parcel(order)
    DeliveredShipmentFactory(order=order)
    payout = open_payout(parcels=0, order=order)
    # then nothing can be released
    assert (payout.status, payout.pod_complete) == ("held", False)
    assert services.payouts_release_due() == 0


def test_payout_seller_upload_needs_finance_approval(open_payout, finance):
    # given a parcel whose only proof is a seller's upload waiting for review
    order = OrderFactory()
    shipment = ShipmentFactory(order=order, carrier="other", carrier_name="Coursier Local")
    pod = ProofOfDelivery.objects.create(
        shipment=shipment, delivered_at=timezone.now() - timedelta(days=20),
        source="seller_upload", review="pending",
    )  # fmt: skip
    pod.versions.create(number=1, uploaded_file="pod/receipt.pdf", delivered_at=pod.delivered_at)
    payout = open_payout(parcels=0, order=order)
    assert payout.status == "held"
    # when finance approves it (the approval records a delivery event)
    from tracking.services.pod import pod_review

    pod_review(pod=pod, approve=True, actor=finance)
    payout = services.payout_evaluate(payout=payout)
    # then the payout is eligible (delivered 20 days ago: window passed)
    assert payout.status == "eligible"


def test_shipment_delivery_reevaluates_the_payout_on_commit(
    open_payout, django_q_sync, django_capture_on_commit_callbacks
):
    # given a paid order (placed three weeks ago) whose parcel is still in transit
    order = OrderFactory()
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=21))
    shipment = ShipmentFactory(order=order, status="in_transit")
    payout = open_payout(parcels=0, order=order)
    assert not payout.pod_complete
    delivered_at = timezone.now() - timedelta(days=15)
    result = TrackingResult(
        shipment.tracking_number,
        events=(CarrierEvent(occurred_at=delivered_at, status="delivered",
                             substatus="delivered.signed", code="DI1", message="Livré"),),
        pod=PodData(delivered_at=delivered_at, signed_by="C. MARTIN", location_type="front_door"),
    )  # fmt: skip
    # when the courier's delivery with POD is ingested and committed
    with django_capture_on_commit_callbacks(execute=True):
        events_ingest(updates=[ShipmentUpdate(shipment.id, result)])
    # then the payout was re-evaluated by the job the signal enqueued
    payout.refresh_from_db()
    assert (payout.status, payout.pod_complete) == ("eligible", True)
    assert payout.events.filter(action="evaluated", to_status="eligible").exists()


def test_claim_holds_the_payout_until_closed(open_payout):
    payout = open_payout()
    assert payout.status == "eligible"
    payout = services.payout_claim_open(payout=payout, kind="claim", reference="CLM-1", actor=None)
    assert (payout.status, payout.hold_reason) == ("on_hold", "claim")
    assert services.payouts_release_due() == 0
    with pytest.raises(ApplicationError) as error:
        services.payout_claim_open(payout=payout, kind="claim", reference="CLM-2", actor=None)
    assert error.value.code == "claim_already_open"
    payout = services.payout_claim_close(payout=payout, reference="CLM-1", actor=None,
                                         resolution="seller replaced the item")  # fmt: skip
    assert payout.status == "eligible"
    assert list(payout.events.values_list("action", "from_status", "to_status").order_by("id")) == [
        ("opened", "", "eligible"),
        ("claim_opened", "eligible", "on_hold"),
        ("claim_closed", "on_hold", "eligible"),
    ]


def test_returning_parcel_puts_payout_on_hold(open_payout):
    order = OrderFactory()
    ShipmentFactory(order=order, status="exception", substatus="exception.returning_to_sender")
    payout = open_payout(parcels=1, order=order)
    assert (payout.status, payout.hold_reason) == ("on_hold", "return")


def test_finance_hold_needs_permission_and_reason(open_payout, finance):
    payout = open_payout()
    with pytest.raises(PermissionDenied):
        services.payout_hold(payout=payout, actor=UserFactory(), reason="KYC")
    with pytest.raises(ApplicationError):
        services.payout_hold(payout=payout, actor=finance, reason="  ")
    payout = services.payout_hold(payout=payout, actor=finance, reason="KYC check")
    assert (payout.status, payout.hold_reason) == ("on_hold", "finance")
    with pytest.raises(ApplicationError, match="on hold"):
        services.payout_release(payout=payout, actor=finance)
    payout = services.payout_unhold(payout=payout, actor=finance, reason="KYC done")
    assert payout.status == "eligible"
    held = payout.events.get(action="held")
    assert (held.actor, held.reason, held.from_status, held.to_status) == (
        finance,
        "KYC check — finance holds it",
        "eligible",
        "on_hold",
    )


def test_payout_release_posts_balanced_entries_and_announces_in_its_transaction(
    open_payout, finance
):
    # given an eligible payout of 49.90 at 12 %
    payout = open_payout(total_amount=4990)
    heard = []

    def receiver(sender, releases, **kwargs):
        heard.append((transaction.get_connection().in_atomic_block, releases))

    payouts_released.connect(receiver, dispatch_uid="test-release")
    try:
        # when finance releases it
        released = services.payout_release(payout=payout, actor=finance)
    finally:
        payouts_released.disconnect(dispatch_uid="test-release")
    # then escrow goes to the seller and the commission, and the signal carries the net amount,
    # sent inside the release's transaction (its receivers' rows commit with it)
    assert released.status == "released" and released.released_by == finance
    assert lines_of(released, "release") == [
        ("commission_revenue", -599),
        ("escrow", 4990),
        ("seller_payable", -4391),
    ]
    assert heard == [(True, [PayoutReleased(
        payout_id=payout.pk, order_id=payout.order_id, seller_id=payout.seller_id,
        net_amount=4391, currency="EUR", released_at=released.released_at,
    )])]  # fmt: skip


def test_payout_release_is_idempotent(open_payout, finance):
    payout = open_payout()
    services.payout_release(payout=payout, actor=finance)
    again = services.payout_release(payout=payout, actor=finance)
    assert again.status == "released"
    assert payout.journal_entries.filter(kind="release").count() == 1
    assert payout.events.filter(action="released").count() == 1


def test_payout_release_refuses_when_not_eligible(open_payout, finance):
    payout = open_payout(days_ago=2)
    with pytest.raises(ApplicationError) as error:
        services.payout_release(payout=payout, actor=finance)
    assert error.value.code == "not_eligible"
    assert not JournalEntry.objects.filter(kind="release").exists()


def test_override_release_needs_its_permission_and_a_reason_and_is_flagged(
    open_payout, finance, finance_lead
):
    # given a paid order whose parcel has no proof of delivery
    order = OrderFactory()
    ShipmentFactory(order=order, status="in_transit")
    payout = open_payout(parcels=0, order=order)
    # then plain finance cannot override, and the lead must say why
    with pytest.raises(PermissionDenied):
        services.payout_release(payout=payout, actor=finance, override=True, reason="ok")
    with pytest.raises(ApplicationError):
        services.payout_release(payout=payout, actor=finance_lead, override=True, reason=" ")
    # when the lead overrides with a reason
    payout = services.payout_release(
        payout=payout, actor=finance_lead, override=True, reason="Hand-delivered, signed slip"
    )
    # then it is released and the audit trail flags it
    assert payout.status == "released" and payout.released_with_override
    event = payout.events.get(action="override_released")
    assert (event.is_override, event.reason, event.actor) == (
        True,
        "Hand-delivered, signed slip",
        finance_lead,
    )


def test_refund_and_cancel_return_escrow_to_the_buyer(open_payout, finance):
    refunded = services.payout_refund(payout=open_payout(), actor=finance, reason="Returned")
    assert refunded.status == "refunded"
    assert lines_of(refunded, "refund")[0] == ("buyer_refund_payable", -refunded.gross_amount)
    cancelled = services.payout_cancel(payout=open_payout(), actor=None, reason="Order cancelled")
    assert cancelled.status == "cancelled"
    with pytest.raises(ApplicationError):
        services.payout_release(payout=cancelled, actor=finance)
    with pytest.raises(ApplicationError):
        services.payout_claim_open(payout=cancelled, kind="claim", reference="X", actor=None)


def test_payouts_release_due_is_safe_to_run_twice(open_payout, settings):
    # given more eligible payouts than one batch, and one still in its claim window
    settings.PAYOUT_CLAIM_WINDOW_DAYS = 14
    from payouts.services import release as release_module

    release_module_batch = release_module.AUTO_RELEASE_BATCH
    release_module.AUTO_RELEASE_BATCH = 2
    try:
        due = [open_payout() for _ in range(5)]
        waiting = open_payout(days_ago=1)
        # when the job runs twice
        first = services.payouts_release_due()
        second = services.payouts_release_due()
    finally:
        release_module.AUTO_RELEASE_BATCH = release_module_batch
    # then each due payout is released once, the waiting one not at all
    assert (first, second) == (5, 0)
    assert Payout.objects.filter(pk__in=[p.pk for p in due], status="released").count() == 5
    assert Payout.objects.get(pk=waiting.pk).status == "held"
    assert JournalEntry.objects.filter(kind="release").count() == 5


def test_ledger_rows_are_append_only(open_payout):
    payout = open_payout()
    entry = payout.journal_entries.get()
    line = entry.lines.first()
    with pytest.raises(AppendOnlyError):
        line.amount = 1
        line.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        JournalLine.objects.filter(pk=line.pk).update(amount=0)
    with pytest.raises(AppendOnlyError):
        PayoutEvent.objects.all().delete()


def test_journal_entry_reverse_posts_the_opposite(open_payout, finance):
    payout = open_payout()
    entry = payout.journal_entries.get(kind="payment")
    reversal = services.journal_entry_reverse(entry=entry, actor=finance, reason="Duplicate")
    assert sorted(reversal.lines.values_list("account", "amount")) == [
        ("escrow", payout.gross_amount),
        ("psp_clearing", -payout.gross_amount),
    ]
    with pytest.raises(ApplicationError):
        services.journal_entry_reverse(entry=entry, actor=finance, reason="again")


def test_check_ledger_command_passes_on_a_sound_ledger(open_payout, finance, capsys):
    services.payout_release(payout=open_payout(), actor=finance)
    open_payout(days_ago=1)
    services.payout_refund(payout=open_payout(), actor=finance, reason="Returned")
    call_command("payouts", "check_ledger")
    out = capsys.readouterr().out
    assert '"ok": true' in out and '"released": 1' in out


def test_check_ledger_command_fails_on_an_unbalanced_entry(open_payout, capsys):
    payout = open_payout()
    entry = payout.journal_entries.get()
    JournalLine.objects.bulk_create(
        [
            JournalLine(
                entry=entry, account="escrow", amount=-1, seller=payout.seller, currency="EUR"
            )
        ]
    )
    with pytest.raises(SystemExit) as exit_info:
        call_command("payouts", "check_ledger")
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"entry {entry.pk} does not balance" in err


def test_check_ledger_command_fails_on_a_release_without_entries(open_payout, capsys):
    payout = open_payout()
    Payout.objects.filter(pk=payout.pk).update(status="released", released_at=timezone.now())
    with pytest.raises(SystemExit):
        call_command("payouts", "check_ledger")
    assert f"payout {payout.pk} is released without its entries" in capsys.readouterr().err


def test_finance_groups_are_created_by_the_migration():
    from django.contrib.auth.models import Group

    finance = set(Group.objects.get(name="finance").permissions.values_list("codename", flat=True))
    lead = set(
        Group.objects.get(name="finance lead").permissions.values_list("codename", flat=True)
    )
    assert {"view_finance_console", "release_payout", "review_pod"} <= finance
    assert "override_pod_release" not in finance
    assert lead - finance == {"override_pod_release"}


# The release service's refusals, audit rows and batch bookkeeping, value by value (issue 22:
# `make mutate` found them untested).


def test_payout_release_writes_the_release_and_its_audit_row(open_payout, finance):
    # given an eligible payout, released at a pinned instant
    payout = open_payout(total_amount=4990)
    now = timezone.now().replace(microsecond=0)
    # when finance releases it by id
    released = services.payout_release(payout=payout.pk, actor=finance, now=now)
    # then the row says who and when, with no hold and no override
    released = Payout.objects.get(pk=payout.pk)
    assert (released.status, released.hold_reason, released.released_at) == ("released", "", now)
    assert (released.released_by, released.released_with_override) == (finance, False)
    event = released.events.get(action="released")
    assert (event.from_status, event.to_status, event.actor, event.actor_label) == (
        "eligible", "released", finance, finance.get_username(),
    )  # fmt: skip
    assert (event.reason, event.is_override, event.created_at) == ("", False, now)
    entry = released.journal_entries.get(kind="release")
    assert entry.memo == "Release"


def test_payout_release_refusals_say_why(open_payout, finance, finance_lead):
    # on hold: the reason of the hold, with its code
    held = open_payout()
    services.payout_claim_open(payout=held, kind="claim", reference="C-1", actor=None)
    with pytest.raises(ApplicationError) as error:
        services.payout_release(payout=held, actor=finance)
    assert (error.value.code, error.value.message) == (
        "payout_on_hold",
        "The payout is on hold: a claim is open.",
    )
    # even the override does not release an open claim
    with pytest.raises(ApplicationError) as error:
        services.payout_release(payout=held, actor=finance_lead, override=True, reason="Paid")
    assert error.value.code == "payout_on_hold"
    # not eligible yet: names what is missing
    early = open_payout(days_ago=2)
    with pytest.raises(ApplicationError) as error:
        services.payout_release(payout=early, actor=finance)
    assert error.value.message.startswith("Not eligible yet: every parcel proven; claim window ")
    # refunded: final, with the status in the code
    refunded = services.payout_refund(payout=open_payout(), actor=finance, reason="Returned")
    with pytest.raises(ApplicationError) as error:
        services.payout_release(payout=refunded, actor=finance)
    assert (error.value.code, error.value.message) == ("payout_refunded", "The payout is refunded.")


def test_payout_release_permissions_and_override_reason(open_payout, finance_lead):
    payout = open_payout(days_ago=2)
    nobody = UserFactory(is_staff=True)
    with pytest.raises(PermissionDenied, match="Releasing needs the release permission."):
        services.payout_release(payout=payout, actor=nobody)
    # the system (no actor) cannot override: an override is a person's decision
    with pytest.raises(PermissionDenied, match="needs the override permission"):
        services.payout_release(payout=payout, actor=None, override=True, reason="because")
    with pytest.raises(ApplicationError) as error:
        services.payout_release(payout=payout, actor=finance_lead, override=True, reason="  ")
    assert (error.value.message, error.value.field) == ("An override needs a written reason.",
                                                        "reason")  # fmt: skip
    # the system releases an eligible payout without any permission check
    assert services.payout_release(payout=open_payout(), actor=None).status == "released"


def test_override_release_is_recorded_as_such(open_payout, finance_lead):
    payout = open_payout(days_ago=2)
    released = services.payout_release(
        payout=payout, actor=finance_lead, override=True, reason="  Signed slip  "
    )
    assert released.released_with_override is True
    event = released.events.get(action="override_released")
    assert (event.reason, event.from_status, event.to_status) == ("Signed slip", "held",
                                                                  "released")  # fmt: skip
    entry = released.journal_entries.get(kind="release")
    assert entry.memo == "Override release without proof of delivery"


def test_payouts_release_due_writes_each_released_payout(open_payout):
    # given two due payouts, released by the job at a pinned instant
    due = [open_payout(), open_payout()]
    now = timezone.now().replace(microsecond=0)
    assert services.payouts_release_due(now=now) == 2
    # then every field of the release is stored (the job writes them in bulk)
    for payout in due:
        stored = Payout.objects.get(pk=payout.pk)
        assert (stored.status, stored.hold_reason, stored.released_at, stored.updated_at) == (
            "released", "", now, now,
        )  # fmt: skip
        assert (stored.released_by, stored.released_with_override) == (None, False)
        assert stored.pod_complete is True
        assert stored.last_delivered_at == payout.last_delivered_at
        assert stored.release_due_at == payout.release_due_at
        event = stored.events.get(action="released")
        assert (event.actor, event.actor_label, event.created_at) == (None, "system", now)


def test_payouts_release_due_stops_after_max_batches(open_payout):
    from payouts.services import release as release_module

    batch_size = release_module.AUTO_RELEASE_BATCH
    release_module.AUTO_RELEASE_BATCH = 2
    try:
        for _ in range(5):
            open_payout()
        # one batch of two, then two more, then the last one
        assert services.payouts_release_due(max_batches=1) == 2
        assert services.payouts_release_due(max_batches=2) == 3
        assert services.payouts_release_due() == 0
    finally:
        release_module.AUTO_RELEASE_BATCH = batch_size


def test_payouts_release_due_announces_only_the_released(open_payout):
    heard = []

    def receiver(sender, releases, **kwargs):
        heard.extend(r.payout_id for r in releases)

    due, early = open_payout(), open_payout(days_ago=2)
    payouts_released.connect(receiver, dispatch_uid="test-due")
    try:
        services.payouts_release_due()
    finally:
        payouts_released.disconnect(dispatch_uid="test-due")
    assert heard == [due.pk]
    assert Payout.objects.get(pk=early.pk).status == "held"


def test_release_batch_start_checks_the_selection(finance, django_capture_on_commit_callbacks):
    nobody = UserFactory(is_staff=True)
    with pytest.raises(PermissionDenied):
        services.release_batch_start(payout_ids=[1], actor=nobody)
    with pytest.raises(ApplicationError) as error:
        services.release_batch_start(payout_ids=[], actor=finance)
    assert (error.value.message, error.value.field) == ("Select at least one payout.", "payouts")
    from payouts.services.release import CONSOLE_BATCH_MAX

    with pytest.raises(ApplicationError) as error:
        services.release_batch_start(payout_ids=range(CONSOLE_BATCH_MAX + 1), actor=finance)
    assert error.value.message == f"Release at most {CONSOLE_BATCH_MAX} payouts at once."
    assert error.value.field == "payouts"
    # the largest batch allowed, and duplicates counted once, in id order
    with django_capture_on_commit_callbacks() as callbacks:
        batch = services.release_batch_start(payout_ids=["3", 1, 3, 2], actor=finance)
    assert (batch.payout_ids, batch.total, batch.state, batch.created_by) == (
        [1, 2, 3], 3, "queued", finance,
    )  # fmt: skip
    assert len(callbacks) == 1
    full = services.release_batch_start(payout_ids=range(CONSOLE_BATCH_MAX), actor=finance)
    assert full.total == CONSOLE_BATCH_MAX


def test_release_batch_run_counts_releases_and_refusals(open_payout, finance):
    ok, early = open_payout(), open_payout(days_ago=2)
    missing = early.pk + 1000
    batch = services.release_batch_start(payout_ids=[ok.pk, early.pk, missing], actor=finance)
    done = services.release_batch_run(batch_id=batch.pk)
    assert (done.state, done.released, done.failed, done.total) == ("finished", 1, 2, 3)
    assert done.finished_at is not None
    assert [e["payout"] for e in done.errors] == [early.pk, missing]
    assert done.errors[0]["message"].startswith("Not eligible yet: ")
    assert done.errors[1]["message"] == "Payout matching query does not exist."
    assert Payout.objects.get(pk=ok.pk).released_by == finance
    # run again: the released payout counts as released again, with no second entry
    again = services.release_batch_run(batch_id=batch.pk)
    assert (again.released, again.failed, len(again.errors)) == (1, 2, 2)
    assert JournalEntry.objects.filter(kind="release").count() == 1
