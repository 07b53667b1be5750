"""A test that needs Redis or Chromium skips on a developer's machine without it and fails in
CI (tests/support/services.py): a CI run cannot pass by skipping what it was meant to prove."""

import pytest
from _pytest.outcomes import Failed, Skipped

from tests.support.services import redis_client_or_skip, require_service

# Nothing listens on port 1: the connection is refused at once.
DOWN_REDIS = "redis://127.0.0.1:1/0"


@pytest.mark.parametrize("value", ["true", "1", "True"])
def test_require_service_fails_in_ci_when_the_service_is_missing(monkeypatch, value):
    # given CI
    monkeypatch.setenv("CI", value)
    # when / then
    with pytest.raises(Failed, match="CI: needs Chromium"):
        require_service("Chromium", available=False)
    with pytest.raises(Failed, match="CI: needs Redis"):
        redis_client_or_skip(DOWN_REDIS)


@pytest.mark.parametrize("value", [None, "", "0", "false"])
def test_require_service_skips_outside_ci_when_the_service_is_missing(monkeypatch, value):
    # given a developer's machine
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    # when / then
    with pytest.raises(Skipped, match="needs Redis"):
        redis_client_or_skip(DOWN_REDIS)


def test_require_service_goes_on_when_the_service_is_there(monkeypatch):
    # given CI and the service present, then nothing is raised
    monkeypatch.setenv("CI", "true")
    require_service("Chromium", available=True)
