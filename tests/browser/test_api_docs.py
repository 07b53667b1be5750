"""Issue 14 item 11 and issue 17 item 2, in a real browser: the API docs work offline and under
the CSP.

Before, Swagger UI came from a CDN at ``@latest`` (blank without the internet, and a third
party's script on the staff sessions' origin). Every request leaving the test server is
aborted here: the page must still render the operations, expand one, and send a request from
"Try it out" (connect-src), with no request to another host and no CSP violation, whether
Chromium reports it as a ``securitypolicyviolation`` event or in the console. ReDoc is not
served (SpectacularRedocView is not routed), so only Swagger UI is driven."""

import pytest
from django.conf import settings

from tests.support.browser import DESKTOP, screenshot
from tests.tracking.factories import ShipmentFactory, cs_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Recorded in the page before any of its scripts run, so no violation is missed.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def test_api_docs_render_offline_with_no_csp_violation(browser, live_server, client):
    # given a CS agent's browser, cut off from everything but the test server, and a parcel
    shipment = ShipmentFactory()
    client.force_login(cs_agent(username="lea"))
    context = browser.new_context(viewport=DESKTOP)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    errors, outside = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def offline(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", offline)

    # when it opens the docs and expands the shipment list
    response = page.goto(f"{live_server.url}/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for(timeout=15_000)
    operation = page.locator("#operations-v1-shipments_list")
    operation.locator(".opblock-summary").click()
    operation.locator(".parameters-container").wait_for(timeout=15_000)
    # "Try it out" sends the request from the page, which the CSP's connect-src must allow
    operation.locator(".try-out__btn").click()
    operation.locator(".execute").click()
    answer = operation.locator(".live-responses-table tbody .response-col_status")
    answer.wait_for(timeout=15_000)
    screenshot(page, "api-docs-offline")

    # then Swagger UI rendered every operation, the cursor paging parameters among them, under
    # the back-office policy, and nothing left for another host or broke the policy
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "Parcelle API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 10
    assert page.locator("#operations-v1-events_list").count() == 1
    parameters = operation.locator(".parameters-container").inner_text()
    assert "cursor" in parameters and "limit" in parameters
    assert answer.inner_text().split()[0] == "200"
    body = operation.locator(".live-responses-table tbody .response-col_description").inner_text()
    assert '"next": null' in body and f'"id": {shipment.id}' in body  # a cursor page
    assert outside == []
    assert page.evaluate("window.__cspViolations") == []
    assert errors == []
    context.close()
