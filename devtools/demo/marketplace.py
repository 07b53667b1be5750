"""The demo seed `make run` plays (`manage.py seed_demo`): one marketplace, one story.

Two sellers, their logins and API keys; their past (devtools.demo.history: four months of
finished parcels for the dashboards, the CS history and the estimates); their present: live
parcels on the sandbox courier, a returnable order (devtools.demo.returns) and parcels in every
CS exception queue (devtools.demo.cs); delivery performance protection's orders of each kind
(devtools.demo.protection).

Idempotent and quick: every row is looked up by its natural key before being created, so
seeding twice changes nothing. The live parcels' tracking numbers are chosen so that the
sandbox courier plays every kind of journey (delivered, failed attempt, pickup point, address
problem, return, stuck).
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from core.models import ApiToken
from devtools.demo.cs import seed_cs_demo
from devtools.demo.history import seed_history
from devtools.demo.protection import seed_protection_demo
from devtools.demo.returns import (
    DEMO_RETURN_ORDER,
    DEMO_RETURN_POSTCODE,
    demo_return_number,
    seed_returns_demo,
)
from devtools.sandbox.journeys import SCENARIOS
from devtools.sandbox.numbers import number_for_scenario, sandbox_carriers
from payouts.services import payout_open_for_order, payout_receipt_confirm
from sellers.models import Order, Seller, SellerMember
from sellers.rollups import rollups_refresh
from sellers.services import order_create
from tracking.carriers import ADAPTER_CLASSES
from tracking.models import OTHER_CARRIER
from tracking.services import shipment_register

DEMO_PASSWORD = "parcelle-demo"  # noqa: S105 - published demo login, demo database only
# Fixed demo API keys so the README can show curl examples; the demo database only.
DEMO_MARKETPLACE_KEY = "pcl_demo_marketplace_key"  # noqa: S105
DEMO_SELLER_KEY = "pcl_demo_seller_atelier_key"  # noqa: S105


def demo_logins() -> dict[str, str]:
    """What `make run` prints: who logs in where, and the return story's numbers."""
    return {
        "marketplace admin": f"admin / {DEMO_PASSWORD}",
        "finance (lead)": f"finance / {DEMO_PASSWORD}  (finance console: /finance/)",
        "seller user": f"atelier / {DEMO_PASSWORD}",
        "cs agent": f"cs / {DEMO_PASSWORD}  (CS console: /cs/)",
        "API marketplace": f"Authorization: Token {DEMO_MARKETPLACE_KEY}",
        "API seller": f"Authorization: Token {DEMO_SELLER_KEY}",
        "buyer return": f"/track/ order {DEMO_RETURN_ORDER} + postcode {DEMO_RETURN_POSTCODE}, "
        f"return parcel {demo_return_number()}",
    }


SELLERS = [("atelier-lumiere", "Atelier Lumière"), ("maison-verte", "Maison Verte")]
ORDERS_PER_SELLER = 12
CITIES = [
    ("69003", "Lyon"),
    ("75011", "Paris"),
    ("13001", "Marseille"),
    ("33000", "Bordeaux"),
    ("59000", "Lille"),
    ("44000", "Nantes"),
]


@transaction.atomic
def seed_demo() -> dict[str, int]:
    users = get_user_model()
    admin = users.objects.filter(username="admin").first()
    if admin is None:
        users.objects.create_superuser("admin", "admin@parcelle.example", DEMO_PASSWORD)
    sellers = []
    for slug, name in SELLERS:
        seller, _ = Seller.objects.get_or_create(slug=slug, defaults={"name": name})
        sellers.append(seller)
    if not users.objects.filter(username="finance").exists():
        finance = users.objects.create_user(
            "finance", "finance@parcelle.example", DEMO_PASSWORD, is_staff=True
        )
        finance.groups.add(*Group.objects.filter(name__in=["finance", "finance lead"]))
    if not users.objects.filter(username="atelier").exists():
        user = users.objects.create_user("atelier", "atelier@example.fr", DEMO_PASSWORD)
        SellerMember.objects.create(user=user, seller=sellers[0])
    if not users.objects.filter(username="cs").exists():
        agent = users.objects.create_user("cs", "cs@parcelle.example", DEMO_PASSWORD, is_staff=True)
        agent.groups.add(*Group.objects.filter(name="cs agent"))
    _demo_token("Demo marketplace", None, DEMO_MARKETPLACE_KEY)
    _demo_token("Demo Atelier Lumière", sellers[0], DEMO_SELLER_KEY)

    scenarios = sorted(SCENARIOS)
    # Every courier that has an adapter and a sandbox twin gets parcels in the demo.
    carriers = [slug for slug in sandbox_carriers() if slug in ADAPTER_CLASSES]
    registered = 0
    for seller_index, seller in enumerate(sellers):
        for n in range(ORDERS_PER_SELLER):
            reference = f"{seller.slug[:3].upper()}-{2026_1100 + n}"
            postcode, city = CITIES[n % len(CITIES)]
            order = Order.objects.filter(seller=seller, reference=reference).first()
            if order is None:
                order = order_create(
                    seller=seller,
                    reference=reference,
                    total_amount=1990 + 1000 * n,
                    buyer_name=f"Client {city} {n}",
                    buyer_email=f"client{n}@example.fr",
                    buyer_locale=["fr", "en", "de", "es", "it"][n % 5],
                    destination_postcode=postcode,
                    destination_country="FR",
                    promised_delivery_date=timezone.localdate() + timedelta(days=3),
                    # one line (what a buyer may return), 4.90 of the total being shipping
                    items=[{"sku": f"{seller.slug[:3].upper()}-{n % 4 + 1}",
                            "name": ["Lampe", "Vase", "Coussin", "Plaid"][n % 4],
                            "quantity": 1, "unit_amount": 1500 + 1000 * n}],
                )  # fmt: skip
            # The buyer paid: the money waits in escrow until every parcel is proven delivered;
            # a third of the buyers confirm receipt, so their payouts need no claim window.
            payout, _ = payout_open_for_order(order=order, actor=None)
            if n % 3 == 0 and payout.buyer_confirmed_at is None:
                payout_receipt_confirm(payout=payout, actor=None)
            parcels = 2 if n % 4 == 0 else 1  # some orders ship in two parcels
            for parcel in range(parcels):
                carrier = carriers[(n + parcel + seller_index * 5) % len(carriers)]
                scenario = scenarios[(n + parcel * 3 + seller_index) % len(scenarios)]
                number = number_for_scenario(carrier, scenario, index=seller_index * 100 + n)
                _shipment, created = shipment_register(
                    order=order, carrier=carrier, tracking_number=number
                )
                registered += created
    # A courier Parcelle cannot query: shown everywhere, delivered once finance approves a POD.
    order = Order.objects.get(
        seller=sellers[1], reference=f"{sellers[1].slug[:3].upper()}-20261100"
    )
    _shipment, created = shipment_register(
        order=order, carrier=OTHER_CARRIER, tracking_number="CP0012345678",
        carrier_name="Colis Privé", carrier_tracking_url="https://www.colisprive.com/moncolis/",
    )  # fmt: skip
    registered += created
    # The past: four months of finished parcels (bulk-created) for the dashboards, the CS
    # console's history and the delivery estimates (seeded before the CS part, whose estimates
    # learn from it); the dashboards' rollups are built on commit, once: a re-seed leaves
    # later changes to the rollups schedule (a whole rebuild would cost half a minute).
    history = seed_history(sellers)
    # Delivery performance protection: an order of each kind, then every order judged (before
    # the rollups, which count the protected lateness).
    protection = seed_protection_demo(sellers[0])
    if history or protection:
        transaction.on_commit(rollups_refresh)
    # Returns: a delivered order of Atelier Lumière whose buyer can return an item.
    seed_returns_demo(sellers[0])
    # The CS console's queues: parcels in trouble, then the exception job and the estimates.
    cs = seed_cs_demo(sellers)
    return {"sellers": len(sellers), "shipments_created": registered, "history_created": history,
            "protection_orders_created": protection, **cs}  # fmt: skip


def _demo_token(name: str, seller, key: str) -> None:
    ApiToken.objects.get_or_create(
        key_hash=ApiToken.hash_key(key),
        defaults={"name": name, "seller": seller, "key_prefix": key[:12]},
    )
