"""Issue 14, item 4: an approved proof of delivery cannot be replaced by the seller.

Replayed through HTTP: the seller uploads a proof, finance approves it in the admin, and the
seller uploads another. That used to reset the review to pending and replace the file, the
date and the signatory. Now the approved POD stays as it was; the new upload is a version
waiting for its own review, and every version (who, when, which file) is kept.
"""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from payouts.rules import parcel_proven
from payouts.services.lifecycle import parcel_facts_by_order
from sellers.models import Order
from tests.sellers.factories import SellerMemberFactory, UserFactory
from tests.support.roles import role_group
from tests.tracking.factories import ShipmentFactory
from tracking.models import ProofOfDelivery

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n" + b"0" * 64 + b"\n%%EOF\n"  # header and trailer: checked at upload
FIRST = "2026-11-20T15:30:00+01:00"
LATER = "2026-11-27T09:00:00+01:00"


@pytest.fixture
def parcel(settings, tmp_path):
    """A parcel of a courier Parcelle cannot query, ordered before the deliveries above."""
    settings.MEDIA_ROOT = tmp_path
    member = SellerMemberFactory()
    shipment = ShipmentFactory(order__seller=member.seller, carrier="other",
                               carrier_name="Colis Privé", next_sync_at=None)  # fmt: skip
    Order.objects.filter(pk=shipment.order_id).update(created_at="2026-11-01T00:00:00Z")
    api = APIClient()
    api.force_authenticate(member.user)
    return {"shipment": shipment, "api": api, "user": member.user}


@pytest.fixture
def finance(client):
    user = UserFactory(is_staff=True)
    user.groups.add(role_group("finance"))
    # the admin's POD pages, where finance reviews uploads
    user.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_proofofdelivery", "change_proofofdelivery"]))  # fmt: skip
    client.force_login(user)
    return user


def upload(parcel, name: str, delivered_at: str, signed_by: str):
    response = parcel["api"].post(
        f"/api/v1/shipments/{parcel['shipment'].id}/pod/",
        {"file": SimpleUploadedFile(name, PDF, content_type="application/pdf"),
         "delivered_at": delivered_at, "signed_by": signed_by},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    return ProofOfDelivery.objects.get(shipment=parcel["shipment"])


def admin_review(client, pod, action: str):
    response = client.post("/admin/tracking/proofofdelivery/",
                           {"action": action, "_selected_action": [pod.id]})  # fmt: skip
    assert response.status_code == 302


def test_upload_after_approval_leaves_the_approved_pod_as_it_was(client, parcel, finance):
    # given the seller's proof, approved by finance
    pod = upload(parcel, "receipt.pdf", FIRST, "C. Martin")
    admin_review(client, pod, "approve_uploads")
    approved = ProofOfDelivery.objects.get(pk=pod.pk)
    assert approved.review == "approved"
    # when the seller uploads another file, date and signatory
    after = upload(parcel, "other.pdf", LATER, "Somebody Else")
    # then the approved POD is unchanged and the parcel still proves its delivery
    kept = ("review", "reviewed_by_id", "reviewed_at", "delivered_at", "signed_by")
    assert {f: getattr(after, f) for f in kept} == {f: getattr(approved, f) for f in kept}
    assert after.uploaded_file.name == approved.uploaded_file.name
    [facts] = parcel_facts_by_order([parcel["shipment"].order_id], lock=False)[
        parcel["shipment"].order_id
    ]
    assert parcel_proven(facts)
    # and the new upload waits as version 2, beside the approved version 1
    versions = list(after.versions.order_by("number").values_list(
        "number", "review", "signed_by", "uploaded_by_id", "reviewed_by_id"))  # fmt: skip
    assert versions == [
        (1, "approved", "C. Martin", parcel["user"].id, finance.id),
        (2, "pending", "Somebody Else", parcel["user"].id, None),
    ]
    assert "other.pdf" in after.versions.get(number=2).uploaded_file.name


def test_finance_rejecting_the_later_version_keeps_the_approved_one(client, parcel, finance):
    pod = upload(parcel, "receipt.pdf", FIRST, "C. Martin")
    admin_review(client, pod, "approve_uploads")
    upload(parcel, "other.pdf", LATER, "Somebody Else")
    # when finance rejects the new version
    admin_review(client, pod, "reject_uploads")
    # then the POD is still the approved first version
    pod.refresh_from_db()
    assert (pod.review, pod.signed_by) == ("approved", "C. Martin")
    assert list(pod.versions.order_by("number").values_list("review", flat=True)) == [
        "approved", "rejected",
    ]  # fmt: skip


def test_finance_approving_the_later_version_makes_it_the_pod(client, parcel, finance):
    pod = upload(parcel, "receipt.pdf", FIRST, "C. Martin")
    admin_review(client, pod, "approve_uploads")
    upload(parcel, "other.pdf", LATER, "Somebody Else")
    admin_review(client, pod, "approve_uploads")
    pod.refresh_from_db()
    assert (pod.review, pod.signed_by) == ("approved", "Somebody Else")
    assert pod.uploaded_file.name == pod.versions.get(number=2).uploaded_file.name


def test_uploads_before_any_review_supersede_each_other_and_are_all_kept(parcel):
    upload(parcel, "a.pdf", FIRST, "A")
    pod = upload(parcel, "b.pdf", LATER, "B")
    assert (pod.review, pod.signed_by) == ("pending", "B")
    assert list(pod.versions.order_by("number").values_list("review", flat=True)) == [
        "superseded", "pending",
    ]  # fmt: skip


def test_admin_shows_the_history_and_cannot_edit_an_approved_pod(client, parcel, finance):
    pod = upload(parcel, "receipt.pdf", FIRST, "C. Martin")
    admin_review(client, pod, "approve_uploads")
    upload(parcel, "other.pdf", LATER, "Somebody Else")
    page = client.get(f"/admin/tracking/proofofdelivery/{pod.id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "other.pdf" in html and "receipt.pdf" in html and parcel["user"].username in html
    # a hand-made change of the approved proof through the admin form changes nothing
    client.post(f"/admin/tracking/proofofdelivery/{pod.id}/change/", {
        "shipment": pod.shipment_id, "delivered_at_0": "2026-11-28", "delivered_at_1": "10:00",
        "signed_by": "Forged", "source": "seller_upload",
        "versions-TOTAL_FORMS": 0, "versions-INITIAL_FORMS": 0,
    })  # fmt: skip
    pod.refresh_from_db()
    assert pod.signed_by == "C. Martin"


def test_migration_keeps_existing_uploads_as_their_first_version(parcel):
    pod = upload(parcel, "receipt.pdf", FIRST, "C. Martin")
    pod.versions.all().delete()  # as before the migration
    migration = importlib.import_module("tracking.migrations.0009_pod_upload_versions")
    migration.versions_from_existing_uploads(apps, None)
    version = pod.versions.get()
    assert (version.number, version.review, version.signed_by, version.uploaded_file.name) == (
        1, "pending", "C. Martin", pod.uploaded_file.name,
    )  # fmt: skip
