"""The courier's proof document kept with the POD (issue 16, item 6): fetched once at delivery
through the job system, stored with its type and hash, shown to finance, refused when garbage,
retried when the courier fails."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

import pytest
import responses
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import OrmQ

from devtools.sandbox.journeys import journey_for
from devtools.sandbox.numbers import number_for_scenario
from payouts.services import payout_open_for_order
from tests.sellers.factories import OrderFactory, SellerMemberFactory, UserFactory
from tests.support.http import carrier_http_client
from tests.support.ingest import courier_says, scan
from tests.support.roles import role_group
from tests.support.sandbox import JOURNEY_DONE
from tests.support.shared_data import read_carrier_sample
from tests.tracking.factories import ShipmentFactory
from tracking import carriers
from tracking.carriers import fedex, gls, postnl, royalmail, ups
from tracking.carriers.base import PodData
from tracking.carriers.documents import (
    DocumentNotAvailable,
    DocumentRefused,
    ProofDocument,
    validated,
)
from tracking.carriers.http import CarrierHttpClient
from tracking.models import PodEvidence, ProofOfDelivery, Shipment
from tracking.services import carrier_batch_sync
from tracking.services.evidence import (
    RETRY_FIRST,
    pod_evidence_fetch,
    pod_evidence_plan,
    pod_evidence_sweep,
)
from tracking.status import Status

pytestmark = pytest.mark.django_db

FETCH_JOB = "tracking.tasks.fetch_pod_evidence"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


class RecordingClient(CarrierHttpClient):
    """The test client, remembering the URL of every request it sends."""

    def __init__(self) -> None:
        base = carrier_http_client()
        super().__init__(
            timeout_seconds=base.timeout_seconds, max_attempts=1, backoff_seconds=0,
            requests_per_second=0, sleep=lambda _s: None,
        )  # fmt: skip
        self.urls: list[str] = []

    def request(self, method, url, **kwargs):
        self.urls.append(url)
        return super().request(method, url, **kwargs)


def evidence_jobs() -> list[tuple]:
    return [tuple(q.task["args"]) for q in OrmQ.objects.all() if q.task["func"] == FETCH_JOB]


def run_evidence_jobs() -> None:
    """What a worker does with the queued fetch jobs."""
    jobs = evidence_jobs()
    OrmQ.objects.all().delete()
    for args in jobs:
        import_string(FETCH_JOB)(*args)


def delivered_parcel(carrier: str, scenario: str) -> Shipment:
    """A parcel of ``carrier`` on its ``scenario`` journey, first seen by the sandbox (the
    journey starts), the buyer's postcode the journey's."""
    number = number_for_scenario(carrier, scenario)
    order = OrderFactory(destination_postcode=journey_for(carrier, number).destination.postcode)
    shipment = ShipmentFactory(order=order, carrier=carrier, tracking_number=number)
    client = carrier_http_client()
    carrier_batch_sync(carrier=carrier, shipment_ids=[shipment.id], client=client)
    return shipment


def sync_to_the_end(sandbox, shipment: Shipment, capture) -> None:
    sandbox.advance(JOURNEY_DONE)
    with capture(execute=True):
        carrier_batch_sync(
            carrier=shipment.carrier, shipment_ids=[shipment.id], client=carrier_http_client()
        )
    shipment.refresh_from_db()
    assert shipment.status == Status.DELIVERED


@pytest.mark.parametrize(
    ("carrier", "scenario", "kind", "content_type"),
    [
        ("fedex", "delivered_signed", "signature_proof_of_delivery", "application/pdf"),
        ("royalmail", "delivered_signed", "signature", "image/svg+xml"),
        ("postnl", "delivered_signed", "signature", "image/gif"),
        ("gls", "delivered_pickup_point", "delivery_info", "application/json"),
        ("ups", "delivered_signed", "signature", "image/gif"),
    ],
)
def test_pod_evidence_fetched_once_at_delivery_and_stored_with_type_and_hash(
    sandbox, django_capture_on_commit_callbacks, carrier, scenario, kind, content_type
):
    # given a parcel the courier delivers with a proof document
    shipment = delivered_parcel(carrier, scenario)
    OrmQ.objects.all().delete()
    # when the delivery commits
    sync_to_the_end(sandbox, shipment, django_capture_on_commit_callbacks)
    # then the fetch is a queued job (not done inline in the sync), with one pending row
    evidence = PodEvidence.objects.get(pod__shipment=shipment)
    assert (evidence.state, evidence.kind, evidence.carrier) == ("pending", kind, carrier)
    assert evidence_jobs() == [([evidence.id],)]
    # when a worker runs it
    run_evidence_jobs()
    # then the document is stored with its real type, size and hash
    evidence.refresh_from_db()
    content = evidence.file.read()
    assert evidence.state == "stored"
    assert evidence.content_type == content_type
    assert evidence.size == len(content) > 0
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    assert evidence.fetched_at is not None and evidence.attempts == 1
    assert shipment.tracking_number not in evidence.file.name  # the path says nothing
    stored = (evidence.file.name, evidence.sha256, evidence.fetched_at)
    # when the parcel is synced again, a second delivered event arrives, the job is redelivered
    # and the sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        carrier_batch_sync(
            carrier=carrier, shipment_ids=[shipment.id], client=carrier_http_client()
        )
        courier_says(shipment, scan(Status.DELIVERED, hours_ago=0.1, code="DL2"))
    assert evidence_jobs() == []
    import_string(FETCH_JOB)([evidence.id])
    sweeper = RecordingClient()
    pod_evidence_sweep(client=sweeper, now=timezone.now() + timedelta(days=1))
    # then nothing is fetched again and the stored document is untouched
    assert sweeper.urls == []
    evidence.refresh_from_db()
    assert (evidence.file.name, evidence.sha256, evidence.fetched_at) == stored
    assert PodEvidence.objects.filter(pod__shipment=shipment).count() == 1


def test_pod_evidence_not_planned_when_the_courier_documents_none(
    sandbox, django_capture_on_commit_callbacks
):
    # given a La Poste parcel (Suivi v2 has no proof document) and a FedEx one left in the
    # mailbox (no signature, so FedEx lists no image)
    laposte = delivered_parcel("laposte", "delivered_mailbox")
    mailbox = delivered_parcel("fedex", "delivered_mailbox")
    # when both are delivered
    sync_to_the_end(sandbox, laposte, django_capture_on_commit_callbacks)
    sync_to_the_end(sandbox, mailbox, django_capture_on_commit_callbacks)
    # then there is a POD, and nothing to fetch
    assert ProofOfDelivery.objects.filter(shipment__in=[laposte, mailbox]).count() == 2
    assert not PodEvidence.objects.exists()
    assert evidence_jobs() == []


def test_pod_evidence_courier_error_is_retried_by_the_sweep(
    sandbox, django_capture_on_commit_callbacks
):
    # given a delivered Royal Mail parcel whose fetch job was lost (its on-commit never ran)
    shipment = delivered_parcel("royalmail", "delivered_signed")
    sandbox.advance(JOURNEY_DONE)
    with django_capture_on_commit_callbacks(execute=False):
        carrier_batch_sync(
            carrier="royalmail", shipment_ids=[shipment.id], client=carrier_http_client()
        )
    evidence = PodEvidence.objects.get(pod__shipment=shipment)
    # when the sweep runs while Royal Mail answers 500
    sandbox.faults.set({"error_500": 1.0})
    now = timezone.now() + timedelta(minutes=1)
    outcome = pod_evidence_sweep(client=carrier_http_client(), now=now)
    # then the row waits for a later attempt, saying why, and nothing is stored
    evidence.refresh_from_db()
    assert outcome == {"pending": 1}
    assert (evidence.state, evidence.attempts, evidence.file.name) == ("pending", 1, "")
    assert "CarrierUnavailable" in evidence.last_error
    assert evidence.next_attempt_at == now + RETRY_FIRST
    # when the sweep runs before that time, then after it with the courier back
    early = pod_evidence_sweep(client=carrier_http_client(), now=now + timedelta(minutes=5))
    sandbox.faults.clear()
    later = pod_evidence_sweep(client=carrier_http_client(), now=now + RETRY_FIRST)
    # then only the second one asks, and the document is stored
    assert early == {}
    assert later == {"stored": 1}
    evidence.refresh_from_db()
    assert (evidence.state, evidence.attempts, evidence.last_error) == ("stored", 2, "")
    assert evidence.content_type == "image/svg+xml"


def test_pod_evidence_sweep_plans_a_pod_whose_receiver_never_ran(sandbox, carrier_client):
    # given a FedEx POD naming its signature proof, written without a delivery signal
    number = number_for_scenario("fedex", "delivered_signed")
    shipment = ShipmentFactory(carrier="fedex", tracking_number=number)
    carrier_batch_sync(carrier="fedex", shipment_ids=[shipment.id], client=carrier_client)
    sandbox.advance(JOURNEY_DONE)
    carrier_batch_sync(carrier="fedex", shipment_ids=[shipment.id], client=carrier_client)
    PodEvidence.objects.all().delete()
    # when the sweep runs
    outcome = pod_evidence_sweep(client=carrier_client)
    # then it found the POD and fetched its PDF
    assert outcome == {"stored": 1}
    assert PodEvidence.objects.get(pod__shipment=shipment).content_type == "application/pdf"


@responses.activate
def test_pod_evidence_garbage_document_is_refused_and_nothing_stored_is_lost(settings):
    # given a Royal Mail POD (signed) with a stored signature, and another one pending
    settings.CARRIERS = {
        **settings.CARRIERS,
        "royalmail": {"base_url": "https://rm.test", "client_id": "id", "client_secret": "s"},
    }
    pod = _carrier_pod("royalmail", "FQ087430672GB", documents=["signature"])
    [evidence_id] = pod_evidence_plan(shipment_ids=[pod.shipment_id])
    answer = {"mailPieces": {"signature": {"imageFormat": "image/png", "image": "bm90IGEgcG5n"}}}
    responses.get("https://rm.test/mailpieces/v2/FQ087430672GB/signature", json=answer)
    # when the courier answers with bytes that are no image
    state = pod_evidence_fetch(evidence_id=evidence_id, client=carrier_http_client())
    # then the document is refused with a clear reason, no file written, the POD unchanged
    evidence = PodEvidence.objects.get(pk=evidence_id)
    assert state == "pending"
    assert evidence.file.name == "" and evidence.sha256 == ""
    assert evidence.last_error.startswith("DocumentRefused: not a PDF nor a readable image")
    pod.refresh_from_db()
    assert (pod.signed_by, pod.documents) == ("ELLIOT", ["signature"])
    # when a stored document exists and the courier later serves garbage, nothing changes
    svg = "<svg xmlns='http://www.w3.org/2000/svg'><path d='M0 0 L9 9'/></svg>"
    responses.replace(
        responses.GET,
        "https://rm.test/mailpieces/v2/FQ087430672GB/signature",
        json={"mailPieces": {"signature": {"imageFormat": "image/svg+xml", "image": svg}}},
    )
    later = evidence.next_attempt_at
    assert pod_evidence_fetch(evidence_id=evidence_id, client=carrier_http_client(), now=later)
    evidence.refresh_from_db()
    stored = (evidence.file.name, evidence.sha256)
    assert evidence.state == "stored" and evidence.file.read() == svg.encode()
    responses.replace(
        responses.GET, "https://rm.test/mailpieces/v2/FQ087430672GB/signature", body=b"\x00"
    )
    assert pod_evidence_fetch(evidence_id=evidence_id, now=later + timedelta(days=1)) == "skipped"
    evidence.refresh_from_db()
    assert (evidence.file.name, evidence.sha256) == stored


def _carrier_pod(carrier: str, number: str, *, documents, location_type="") -> ProofOfDelivery:
    delivered_at = timezone.now() - timedelta(hours=1)
    shipment = ShipmentFactory(
        carrier=carrier, tracking_number=number, status="delivered", delivered_at=delivered_at,
        next_sync_at=None,
    )  # fmt: skip
    return ProofOfDelivery.objects.create(
        shipment=shipment, delivered_at=delivered_at, signed_by="ELLIOT",
        location_type=location_type, documents=documents,
    )  # fmt: skip


def _stored_evidence(media) -> PodEvidence:
    pod = _carrier_pod("postnl", "3SPRCL000000001", documents=["signature"])
    gif = base64.b64decode("R0lGODdhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=")
    evidence = PodEvidence(pod=pod, carrier="postnl", kind="signature")
    valid = validated(ProofDocument("signature", gif))
    evidence.file.save("x.gif", ContentFile(gif), save=False)
    evidence.content_type, evidence.size = valid.content_type, valid.size
    evidence.sha256 = valid.sha256
    evidence.state, evidence.fetched_at = "stored", timezone.now()
    evidence.save()
    return evidence


def test_pod_evidence_view_serves_finance_the_file_inline_and_safely(client, media):
    # given a stored signature and a finance user
    evidence = _stored_evidence(media)
    finance = UserFactory(is_staff=True)
    finance.groups.add(role_group("finance"))
    client.force_login(finance)
    # when finance opens its URL
    response = client.get(reverse("tracking:pod-evidence", args=[evidence.access_token]))
    # then the image comes back as stored, with its type, inline, never sniffed
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == evidence.file.open("rb").read()
    assert response["Content-Type"] == "image/gif"
    assert response["Content-Disposition"] == (
        'inline; filename="pod-postnl-3SPRCL000000001-signature.gif"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Cache-Control"] == "private, no-store"


def test_pod_evidence_view_is_404_for_anonymous_other_sellers_and_staff_without_rights(
    client, media
):
    # given a stored document of a parcel of one seller
    evidence = _stored_evidence(media)
    url = reverse("tracking:pod-evidence", args=[evidence.access_token])
    owner = SellerMemberFactory(seller=evidence.pod.shipment.seller).user
    stranger = SellerMemberFactory().user
    cs_staff = UserFactory(is_staff=True)  # staff without any POD permission
    # then anonymous visitors, another seller's users and staff without rights get a 404
    assert client.get(url).status_code == 404
    for user in (stranger, cs_staff):
        client.force_login(user)
        assert client.get(url).status_code == 404, user
    # and so does a guessed token, even for finance
    cs_staff.user_permissions.add(Permission.objects.get(codename="review_pod"))
    client.force_login(cs_staff)
    assert client.get(url.replace(evidence.access_token[:6], "AAAAAA")).status_code == 404
    # while the parcel's own seller and staff who review PODs see it
    assert client.get(url).status_code == 200
    client.force_login(owner)
    assert client.get(url).status_code == 200


def test_pod_evidence_view_is_404_while_the_document_is_not_stored(client, media):
    pod = _carrier_pod("fedex", "123456789012", documents=["signature_proof_of_delivery"])
    [evidence_id] = pod_evidence_plan(shipment_ids=[pod.shipment_id])
    evidence = PodEvidence.objects.get(pk=evidence_id)
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    url = reverse("tracking:pod-evidence", args=[evidence.access_token])
    assert client.get(url).status_code == 404


def test_finance_console_links_the_stored_document(client, media):
    # given a payout whose parcel has a stored courier signature
    evidence = _stored_evidence(media)
    payout, _created = payout_open_for_order(order=evidence.pod.shipment.order, actor=None)
    finance = UserFactory(is_staff=True)
    finance.groups.add(role_group("finance"))
    client.force_login(finance)
    # when finance opens the payout's POD viewer
    page = client.get(reverse("payouts:payout-detail", args=[payout.pk])).content.decode()
    # then it links the document
    assert reverse("tracking:pod-evidence", args=[evidence.access_token]) in page
    assert "image/gif" in page


# --- The couriers' documented shapes (other projects' samples, read where they are) ----------


def test_fedex_trackingdocuments_sample_is_a_pdf():
    document = fedex.proof_document_from_answer(
        read_carrier_sample("fedex_trackingdocuments_spod.json")
    )
    valid = validated(document)
    assert (valid.kind, valid.content_type) == ("signature_proof_of_delivery", "application/pdf")
    assert valid.content.startswith(b"%PDF-1.4")


def test_postnl_signature_sample_is_a_gif():
    valid = validated(
        postnl.signature_document(read_carrier_sample("postnl_shippingstatus_signature.json"))
    )
    assert (valid.kind, valid.content_type) == ("signature", "image/gif")


def test_royalmail_signature_sample_is_an_svg():
    valid = validated(
        royalmail.signature_document(read_carrier_sample("royalmail_tracking_v2_signature.json"))
    )
    assert (valid.kind, valid.content_type, valid.content) == (
        "signature", "image/svg+xml", b"<svg></svg>",
    )  # fmt: skip


def test_ups_signature_is_taken_from_the_answer_asked_with_return_signature():
    gif = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"

    def answer(information: dict) -> bytes:
        package = {"trackingNumber": "1Z999AA10123456784", "deliveryInformation": information}
        return json.dumps(
            {"trackResponse": {"shipment": [{"package": [package]}]}}
        ).encode()  # fmt: skip

    signed = answer({"receivedBy": "DUPONT", "signature": {"image": gif}})
    valid = validated(ups.signature_document(signed))
    assert (valid.kind, valid.content_type) == ("signature", "image/gif")
    # no signature in the answer (yet), or an error answer: ask again later
    with pytest.raises(DocumentNotAvailable):
        ups.signature_document(answer({"receivedBy": "DUPONT"}))
    with pytest.raises(DocumentNotAvailable):
        ups.signature_document(b'{"response": {"errors": [{"code": "151044"}]}}')
    with pytest.raises(DocumentRefused, match="not base64"):
        ups.signature_document(answer({"signature": {"image": "not base64!"}}))


def test_gls_deliveryinfo_sample_is_kept_as_the_json_record():
    body = read_carrier_sample("gls_track_and_trace_v1_deliveryinfo_parcelshop.json")
    valid = validated(gls.delivery_info_document(body))
    assert (valid.kind, valid.content_type) == ("delivery_info", "application/json")
    assert json.loads(valid.content)["parcelshopDelivery"]["parcelshopId"] == "2760188645"


@pytest.mark.parametrize(
    ("content", "declared", "reason"),
    [
        (b"", "", "empty"),
        (b"%PDF-1.4 then nothing", "application/pdf", "not a readable PDF"),
        (b"\x89PNG\r\n\x1a\n truncated", "", "not a PDF nor a readable image"),
        (b"GIF89a", "application/pdf", "not a PDF nor a readable image"),
        (b"<html><script>alert(1)</script></html>", "image/svg+xml", "not an SVG"),
        (b"<svg><unclosed></svg>", "image/svg+xml", "not a well-formed SVG"),
        (b"[1, 2]", "application/json", "not a JSON object"),
    ],
)
def test_validated_refuses_garbage_with_a_clear_reason(content, declared, reason):
    with pytest.raises(DocumentRefused, match=reason):
        validated(ProofDocument("signature", content, declared))


def test_courier_error_answers_are_not_available_not_garbage():
    with pytest.raises(DocumentNotAvailable):
        royalmail.signature_document(b'{"httpCode": "404", "moreInformation": "No signature"}')
    with pytest.raises(DocumentNotAvailable):
        postnl.signature_document(b'{"fault": {"faultstring": "No signature found"}}')
    with pytest.raises(DocumentNotAvailable):
        gls.delivery_info_document(b'{"errorCode": "E_404_02", "errorMessage": "No Delivery"}')
    with pytest.raises(DocumentNotAvailable):
        fedex.proof_document_from_answer(b'{"errors": [{"code": "X", "message": "none"}]}')
    assert (
        carriers.get_adapter("laposte").proof_document_kind(
            PodData(delivered_at=None, documents=("signature",))
        )
        is None
    )
