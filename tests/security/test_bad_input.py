"""Issue 14, item 8: hostile bytes in URLs, filters and forms are a 400 or a 404, never a 500.

The NUL test walks the whole URLconf, so a route added later is covered without being listed.
On PostgreSQL (production) a NUL reached the driver and every ``/t/<token>/`` route answered 500;
it is now refused before any view runs, whatever the database."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.payouts.factories import finance_user
from tests.sellers.factories import UserFactory
from tests.tracking.factories import ShipmentExceptionFactory, cs_agent

pytestmark = pytest.mark.django_db

PLACEHOLDERS = {"str": "%00", "path": "%00", "slug": "x", "int": "1", "id": "1"}
CONVERTER = re.compile(r"<(?:(\w+):)?\w+>")


def _routes(patterns=None, prefix: str = ""):
    """Every path() route of the project as a string such as "t/<str:token>/"."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        pattern = entry.pattern
        if not hasattr(pattern, "_route"):
            continue  # a regex route (the admin's app index): nothing to substitute
        route = prefix + str(pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def _with_nul(route: str) -> str:
    """The route with a NUL in each str/path parameter, else in a query parameter."""
    url = "/" + CONVERTER.sub(lambda m: PLACEHOLDERS.get(m.group(1) or "str", "1"), route)
    return url if "%00" in url else url + "?q=%00&status=%00&next=%00"


ROUTES = sorted(set(_routes()))


def test_bad_input_the_walk_finds_the_public_token_routes():
    urls = {_with_nul(route) for route in ROUTES}
    for public in ("/t/%00/", "/t/%00/live/", "/t/s/%00/", "/t/s/%00/live/", "/t/%00/return/"):
        assert public in urls
    assert len(ROUTES) > 60  # the admin's too


def test_bad_input_a_nul_byte_in_any_url_is_a_400(client):
    # given a superuser, so that staff-only views run their code instead of refusing
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    client.raise_request_exception = False

    # when every route is asked for with a NUL in it
    answers = {route: client.get(_with_nul(route)).status_code for route in ROUTES}

    # then each is refused as a bad request (one loop: a login per route took minutes)
    assert {route: code for route, code in answers.items() if code != 400} == {}


def test_bad_input_a_nul_byte_in_a_form_field_is_a_400(client):
    client.raise_request_exception = False

    response = client.post(
        "/track/",
        "reference=A%00B&postcode_or_email=75001",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400


@pytest.mark.parametrize("action", ["assign", "resolve"])
def test_bad_input_a_cs_action_on_an_exception_that_does_not_exist_is_a_404(client, action):
    client.force_login(cs_agent())
    client.raise_request_exception = False

    response = client.post(f"/cs/exceptions/999999/{action}/", {"assignee": "me"})

    assert response.status_code == 404


@pytest.mark.parametrize("action", ["notes", "resync", "carrier"])
def test_bad_input_a_cs_action_on_a_shipment_that_does_not_exist_is_a_404(client, action):
    client.force_login(cs_agent())
    client.raise_request_exception = False

    response = client.post(f"/cs/shipments/999999/{action}/", {"body": "x", "carrier": "dhl"})

    assert response.status_code == 404


@pytest.mark.parametrize("assignee", ["²", "٣", "99999999999999999999"])
def test_bad_input_unicode_or_huge_digits_as_an_assignee_are_not_a_500(client, assignee):
    exception = ShipmentExceptionFactory()
    client.force_login(cs_agent())
    client.raise_request_exception = False

    response = client.post(f"/cs/exceptions/{exception.pk}/assign/", {"assignee": assignee})

    assert response.status_code == 302
    exception.refresh_from_db()
    assert exception.assigned_to_id is None


@pytest.mark.parametrize("payout", ["²", "99999999999999999999"])
def test_bad_input_unicode_or_huge_digits_in_a_payout_batch_are_not_a_500(client, payout):
    client.force_login(finance_user(lead=True))
    client.raise_request_exception = False

    response = client.post("/finance/batches/", {"payout": payout})

    assert response.status_code == 200


@pytest.mark.parametrize("value", ["%C2%B2", "%D9%A3", "99999999999999999999"])
@pytest.mark.parametrize("name", ["seller", "assignee", "order", "status"])
def test_bad_input_unicode_digits_in_api_filters_are_a_400_or_ignored(marketplace_api, name, value):
    marketplace_api.raise_request_exception = False
    for path in ("/api/v1/shipments/", "/api/v1/payouts/", "/api/v1/cs/exceptions/"):
        response = marketplace_api.get(f"{path}?{name}={value}")
        assert response.status_code in (200, 400), (path, response.status_code)
