"""Issue 14, item 11, in a real browser: the API docs work offline and under the CSP.

Before, Swagger UI came from a CDN at ``@latest`` (blank without the internet, and a third
party's script on the staff sessions' origin). Every request leaving the test server is
aborted here: the page must still render, with no CSP violation in the console."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_offline_with_no_csp_violation(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
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
    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for(timeout=15_000)

    assert "Parcelle API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 10  # the operations are listed
    assert outside == []
    assert errors == []
    context.close()
