import pytest
from rest_framework.test import APIClient

from core.services import api_token_create
from tests.sellers.factories import SellerFactory


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


@pytest.fixture
def sandbox(settings):
    """The sandbox courier on a free local port, with every adapter pointed at it."""
    from devtools.sandbox.server import make_app, run_in_thread

    with run_in_thread(make_app(step_seconds=3600, seed=7)) as handle:
        settings.CARRIERS = {
            slug: {**config, "base_url": f"{handle.url}/{slug}"}
            for slug, config in settings.CARRIERS.items()
        }
        yield handle


@pytest.fixture
def carrier_client():
    """A courier HTTP client without waits, so fault tests run in milliseconds."""
    from tracking.carriers.http import CarrierHttpClient

    return CarrierHttpClient(
        timeout_seconds=2,
        max_attempts=2,
        backoff_seconds=0,
        requests_per_second=0,
        sleep=lambda seconds: None,
    )
