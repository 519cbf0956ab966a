"""Better Auth shared-secret tokens on the API: what is accepted and what is refused, and how."""

import time

import pytest
from jwt.utils import base64url_encode
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.expect import assert_rejected
from tests.auth import ALICE_ID, ORIGIN, claims_for, client_with_token, sign

pytestmark = pytest.mark.django_db

ME = "/api/me"


def get_me(token: str):
    return client_with_token(token).get(ME)


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_it_accepts_a_token_signed_with_the_shared_secret(algorithm):
    response = get_me(sign(claims_for(ALICE_ID), algorithm=algorithm))
    assert response.status_code == 200
    assert response.json()["id"] == ALICE_ID


def test_it_asks_for_a_token_when_there_is_none():
    response = APIClient().get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    # RFC 6750: no error attribute when the request carried no credentials.
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_it_matches_the_bearer_scheme_in_any_case(scheme):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {sign(claims_for(ALICE_ID))}")
    assert client.get(ME).status_code == 200


@pytest.mark.parametrize("header", ["Basic YWxpY2U6c2VjcmV0", "Token abc", "Bearer", "Bearer one two", "JWT x.y.z"])
def test_it_rejects_a_header_that_is_not_bearer_and_a_token(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_rejected(client.get(ME), "bad_authorization_header")


def test_it_treats_an_empty_header_as_no_credentials():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="  ")
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_it_ignores_a_token_in_the_query_string():
    token = sign(claims_for(ALICE_ID))
    response = APIClient().get(f"{ME}?token={token}&access_token={token}")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "raw",
    [
        "not-a-jwt",
        "a.b.c",
        "!!!.@@@.###",
        "eyJhbGciOiJIUzI1NiJ9.e30",  # two segments
        "session-token-value.c2lnbmF0dXJl",  # a Better Auth session cookie value
        "a.b.c.d",
        "x" * 100_000,
    ],
)
def test_it_rejects_a_malformed_token(raw):
    assert_rejected(get_me(raw), "token_malformed")


def segments(*parts: bytes) -> str:
    return ".".join(base64url_encode(part).decode() for part in parts)


HS_HEADER = b'{"alg":"HS256","typ":"JWT"}'
CLAIMS = b'{"sub":"x","iat":1,"exp":9999999999}'


@pytest.mark.parametrize(
    "raw",
    [
        segments(b"[" * 2500, CLAIMS, b"sig"),  # nesting deeper than Python's recursion limit
        segments(b'{"a":' * 1000 + b"1" + b"}" * 1000, CLAIMS, b"sig"),
        segments(HS_HEADER, b"[" * 4000, b"sig"),
        segments(HS_HEADER, b'{"sub":' * 1000 + b'"x"' + b"}" * 1000, b"sig"),
        segments(b"\xff\xfe{}", CLAIMS, b"sig"),  # not UTF-8
        segments(HS_HEADER, b'{"sub":"\xc3"}', b"sig"),
        segments(b'"alg"', CLAIMS, b"sig"),  # JSON, but not an object
        segments(HS_HEADER, b"[]", b"sig"),
        "eyJhbGciOiJIUzI1NiJ9.e30.\u00e9",  # not ASCII
        "e" * 5000 + "." + "e30" + "." + "x",  # a huge header segment
    ],
)
def test_it_rejects_a_token_whatever_shape_its_segments_have(raw):
    assert_rejected(get_me(raw), "token_malformed")


def test_it_rejects_an_expired_token():
    now = int(time.time())
    assert_rejected(get_me(sign(claims_for(ALICE_ID, iat=now - 3600, exp=now - 60))), "token_expired")


def test_it_accepts_a_token_expired_within_the_leeway():
    now = int(time.time())
    assert get_me(sign(claims_for(ALICE_ID, iat=now - 3600, exp=now - 10))).status_code == 200


def test_it_rejects_a_token_issued_in_the_future():
    now = int(time.time())
    assert_rejected(get_me(sign(claims_for(ALICE_ID, iat=now + 600, exp=now + 1200))), "token_not_yet_valid")


def test_it_rejects_a_token_signed_with_another_secret():
    token = sign(claims_for(ALICE_ID), key="another-secret-that-is-long-enough-for-any-hmac-0123456789abcdef")
    assert_rejected(get_me(token), "token_bad_signature")


def test_it_rejects_a_tampered_payload():
    header, _, signature = sign(claims_for(ALICE_ID)).split(".")
    _, forged_payload, _ = sign(claims_for("mallory00000000000000000000000003")).split(".")
    assert_rejected(get_me(f"{header}.{forged_payload}.{signature}"), "token_bad_signature")


@pytest.mark.parametrize("issuer", ["https://evil.example", "http://localhost:300", "http://localhost:3000.evil"])
def test_it_rejects_a_wrong_issuer(issuer):
    assert_rejected(get_me(sign(claims_for(ALICE_ID, iss=issuer))), "token_invalid_issuer")


def test_it_rejects_a_wrong_audience():
    assert_rejected(get_me(sign(claims_for(ALICE_ID, aud="https://other.example"))), "token_invalid_audience")


@pytest.mark.parametrize("claim", ["exp", "iat", "sub"])
def test_it_rejects_a_token_missing_a_required_claim(claim):
    assert_rejected(get_me(sign(claims_for(ALICE_ID, **{claim: None}))), "token_missing_claim")


@pytest.mark.parametrize("subject", [12345, "", "   ", "x" * 300, ["a"], "user\x00id", "user\ud800id", "\udc00"])
def test_it_rejects_a_subject_that_is_not_a_user_id(subject):
    assert_rejected(get_me(sign(claims_for(ALICE_ID, sub=subject))), "token_invalid_claim")
    assert not User.objects.exists()


def test_it_rejects_an_unsigned_token():
    token = sign(claims_for(ALICE_ID), key=None, algorithm="none")
    assert_rejected(get_me(token), "token_algorithm_not_allowed")


def test_it_rejects_an_algorithm_left_out_of_the_settings(better_auth_settings):
    better_auth_settings.BETTER_AUTH = {**better_auth_settings.BETTER_AUTH, "HS_ALGORITHMS": ["HS256"]}
    assert_rejected(get_me(sign(claims_for(ALICE_ID), algorithm="HS512")), "token_algorithm_not_allowed")


@pytest.mark.parametrize(
    "headers",
    [
        {"crit": ["exp"]},
        {"jku": "https://evil.example/jwks"},
        {"x5u": "https://evil.example/cert"},
        {"jwk": {"kty": "oct", "k": "c2VjcmV0"}},
    ],
)
def test_it_rejects_headers_that_choose_their_own_key_or_processing(headers):
    assert_rejected(get_me(sign(claims_for(ALICE_ID), headers=headers)), "token_header_not_allowed")


def test_it_skips_the_issuer_and_audience_checks_when_they_are_configured_off(better_auth_settings):
    better_auth_settings.BETTER_AUTH = {**better_auth_settings.BETTER_AUTH, "ISSUER": "", "AUDIENCE": []}
    token = sign(claims_for(ALICE_ID, iss=None, aud=None))
    assert get_me(token).status_code == 200


def test_it_accepts_one_of_several_configured_audiences(better_auth_settings):
    better_auth_settings.BETTER_AUTH = {
        **better_auth_settings.BETTER_AUTH,
        "AUDIENCE": ["https://app.example", ORIGIN],
    }
    assert get_me(sign(claims_for(ALICE_ID, aud="https://app.example"))).status_code == 200


def test_it_refuses_every_token_when_no_secret_is_configured(better_auth_settings):
    better_auth_settings.BETTER_AUTH_SECRET = ""
    assert_rejected(get_me(sign(claims_for(ALICE_ID))), "token_algorithm_not_allowed")


def test_it_answers_403_for_a_deactivated_user(alice):
    alice.is_active = False
    alice.save()
    response = get_me(sign(claims_for(ALICE_ID, email=alice.email, name=alice.name)))
    assert response.status_code == 403
    assert response.json()["code"] == "account_disabled"


def test_it_lets_a_reactivated_user_back_in(alice):
    alice.is_active = False
    alice.save()
    token = sign(claims_for(ALICE_ID, email=alice.email, name=alice.name))
    assert get_me(token).status_code == 403
    alice.is_active = True
    alice.save()
    assert get_me(token).status_code == 200


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize(
    "value",
    [10**309, 10**20, -(10**309), "1767225600", "now", True, [1], {"at": 1}],
    ids=["10^309", "10^20", "-10^309", "digits as a string", "a word", "true", "a list", "an object"],
)
def test_it_rejects_a_numeric_date_that_is_not_a_number_of_seconds(memories_on, claim, value):
    memories_on()  # the token memory reads exp too
    response = get_me(sign(claims_for(ALICE_ID, **{claim: value})))
    assert response.status_code == 401, response.content
    # PyJWT refuses some itself: as malformed, or as a date long past or far ahead.
    codes = {"token_invalid_claim", "token_malformed", "token_expired", "token_not_yet_valid"}
    assert response.json()["code"] in codes


@pytest.mark.parametrize("exp", [10**309, str(int(time.time()) + 3600)], ids=["10^309", "a future date as a string"])
def test_it_rejects_an_exp_that_is_no_number_of_seconds_with_its_own_code(memories_on, exp):
    memories_on()
    assert_rejected(get_me(sign(claims_for(ALICE_ID, exp=exp))), "token_invalid_claim")


@pytest.mark.parametrize("algorithm, shortest", [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_it_refuses_an_hs_algorithm_whose_hash_is_longer_than_the_secret(better_auth_settings, algorithm, shortest):
    """RFC 7518 3.2: the key of an HMAC is at least as long as its hash's output."""
    secret = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/"[:48] + "x" * 16
    for length, accepted in [(shortest - 1, False), (shortest, True)]:
        better_auth_settings.BETTER_AUTH_SECRET = secret[:length]
        response = get_me(sign(claims_for(ALICE_ID), key=secret[:length], algorithm=algorithm))
        if accepted:
            assert response.status_code == 200, response.content
        else:
            assert_rejected(response, "token_algorithm_not_allowed")
