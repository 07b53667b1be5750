import pytest

from sellers.demo import seed_demo
from tracking.models import Shipment

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_covers_every_emulated_courier():
    first = seed_demo()
    second = seed_demo()
    assert first["shipments_created"] > 20
    assert second["shipments_created"] == 0
    carriers = set(Shipment.objects.values_list("carrier", flat=True))
    assert {"laposte", "dhl", "other"} <= carriers
