import json

import pytest

from tracking.carriers.base import CarrierAuthError, CarrierPayloadError, CarrierResponse
from tracking.carriers.oauth import OAuthToken, send_with_token, token_from_json


def answer(token: str, expires_in) -> CarrierResponse:
    body = json.dumps({"access_token": token, "expires_in": expires_in}).encode()
    return CarrierResponse("https://courier.test/token", 200, "application/json", body)


@pytest.mark.parametrize("expires_in", [3599, "14399", 60.5])
def test_token_from_json_accepts_numbers_and_numeric_strings(expires_in):
    assert token_from_json(answer("t", expires_in).body, "X") == ("t", float(expires_in))


@pytest.mark.parametrize(
    "body",
    [b"", b"[]", b'{"access_token": ""}', b'{"access_token": "t", "expires_in": "soon"}',
     b'{"access_token": "t", "expires_in": true}', b'{"access_token": "t", "expires_in": 0}',
     b'{"access_tok'],
)  # fmt: skip
def test_token_from_json_refuses_what_is_not_a_token(body):
    with pytest.raises(CarrierPayloadError):
        token_from_json(body, "X")


def test_oauth_token_is_reused_until_a_minute_before_expiry():
    # given a token endpoint handing out numbered tokens valid 600 s, and a fake clock
    issued = []
    now = [1000.0]

    def request(client):
        issued.append(f"t{len(issued) + 1}")
        return answer(issued[-1], 600)

    tokens = OAuthToken(courier="X", request=request, clock=lambda: now[0])
    # when / then
    assert tokens.get(None) == "t1"
    now[0] += 539
    assert tokens.get(None) == "t1"
    now[0] += 1  # 540 s: within the last minute
    assert tokens.get(None) == "t2"


def test_send_with_token_renews_a_refused_token_once():
    issued = []

    def request(client):
        issued.append(1)
        return answer(f"t{len(issued)}", 600)

    tokens = OAuthToken(courier="X", request=request)
    sent = []

    def send(token):
        sent.append(token)
        if token == "t1":
            raise CarrierAuthError("revoked early")
        return answer("ok", 1)

    send_with_token(tokens, None, send)
    assert sent == ["t1", "t2"]
    # a second refusal is the courier refusing us: it propagates
    with pytest.raises(CarrierAuthError):
        send_with_token(tokens, None, lambda token: (_ for _ in ()).throw(CarrierAuthError("no")))
