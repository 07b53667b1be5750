import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from core.services import api_token_create
from tests.sellers.factories import SellerFactory
from tracking.budgets import budgets_forget

# The shared toolkit's fixtures (tests/support/): carrier_client, sandbox, smtp_server,
# webhook_receiver. Listed as plugins so pytest rewrites their asserts; http before sandbox,
# which imports it.
pytest_plugins = [
    "tests.support.http",
    "tests.support.sandbox",
    "tests.support.mail",
    "tests.support.webhooks",
]


@pytest.fixture(autouse=True)
def courier_budgets_unspent():
    """Each test starts with every courier's request budget unspent (budgets outlive a batch
    job in a process: tracking/budgets.py)."""
    budgets_forget()
    yield
    budgets_forget()


@pytest.fixture(autouse=True)
def api_quotas_unspent():
    """Each test starts with every API caller's quota unspent: the counters live in the cache
    (core/api/throttling.py), and SQLite gives the next test's token the same id."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def seller(db):
    return SellerFactory()


@pytest.fixture
def other_seller(db):
    return SellerFactory()


def _token_client(seller=None) -> APIClient:
    _token, key = api_token_create(name="test", seller=seller)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def seller_api(seller) -> APIClient:
    """An API client holding a token scoped to ``seller``."""
    return _token_client(seller)


@pytest.fixture
def other_seller_api(other_seller) -> APIClient:
    return _token_client(other_seller)


@pytest.fixture
def marketplace_api(db) -> APIClient:
    """An API client holding a marketplace-wide token."""
    return _token_client(None)


@pytest.fixture
def django_q_sync(settings):
    """Run django-q2 tasks inline (the tests that need a real cluster start one)."""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    from django_q.conf import Conf

    previous, Conf.SYNC = Conf.SYNC, True
    yield
    Conf.SYNC = previous
