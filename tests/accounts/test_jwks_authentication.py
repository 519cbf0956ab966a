"""Better Auth JWKS tokens (EdDSA, ES*, RS*, PS*) on the API: what is accepted, what is refused, and how.

The JWKS host is faked in-process (``jwks_host``); ``fetches`` counts every request made to it.
"""

import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from jwt.utils import base64url_encode
from rest_framework.test import APIClient

from accounts import jwks
from accounts.models import User
from tests.accounts.expect import assert_rejected
from tests.accounts.fake_jwks import FakeJWKSHost, private_key
from tests.auth import ALICE_ID, claims_for, client_with_token, sign

pytestmark = pytest.mark.django_db

ME = "/api/me"
BETTER_AUTH_ALGORITHMS = ["EdDSA", "ES256", "ES512", "RS256", "PS256"]


def get_me(token: str):
    return client_with_token(token).get(ME)


def hmac_signed(claims: dict, secret: bytes, headers: dict) -> str:
    """An HS256 token signed by hand: PyJWT refuses public keys as HMAC secrets, attackers do not."""
    parts = [{"alg": "HS256", "typ": "JWT", **headers}, claims]
    signing_input = b".".join(base64url_encode(json.dumps(part).encode()) for part in parts)
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64url_encode(signature)).decode()


def warm_up(jwks_host: FakeJWKSHost) -> None:
    """One accepted request, so the key set is cached and counted as one fetch."""
    assert get_me(jwks_host.sign(claims_for(ALICE_ID))).status_code == 200
    assert jwks_host.fetches == 1


# --- accepted ---


@pytest.mark.parametrize("alg", BETTER_AUTH_ALGORITHMS)
def test_it_accepts_a_token_signed_with_each_better_auth_algorithm(jwks_host, alg):
    jwks_host.add_key(f"{alg}-key", alg)
    response = get_me(jwks_host.sign(claims_for(ALICE_ID), kid=f"{alg}-key"))
    assert response.status_code == 200, response.content
    assert response.json()["id"] == ALICE_ID


def test_it_provisions_alice_from_her_first_jwks_token(jwks_host):
    get_me(jwks_host.sign(claims_for(ALICE_ID, email="alice@example.com", name="Alice")))
    alice = User.objects.get(better_auth_id=ALICE_ID)
    assert (alice.email, alice.name) == ("alice@example.com", "Alice")


def test_it_fetches_the_key_set_once_for_many_requests(jwks_host):
    token = jwks_host.sign(claims_for(ALICE_ID))
    for _ in range(5):
        assert get_me(token).status_code == 200
    assert jwks_host.fetches == 1


def test_it_accepts_the_shared_secret_beside_the_jwks_without_fetching(jwks_host):
    assert get_me(sign(claims_for(ALICE_ID))).status_code == 200
    assert jwks_host.fetches == 0


def test_it_accepts_a_token_expired_within_the_leeway(jwks_host):
    now = int(time.time())
    assert get_me(jwks_host.sign(claims_for(ALICE_ID, iat=now - 900, exp=now - 10))).status_code == 200


def test_it_accepts_a_token_without_kid_when_the_set_holds_a_single_key(jwks_host):
    token = jwt.encode(claims_for(ALICE_ID), private_key("EdDSA", "key-1"), algorithm="EdDSA")
    assert get_me(token).status_code == 200


def test_it_rejects_a_token_without_kid_when_the_set_holds_several_keys(jwks_host):
    jwks_host.add_key("key-2")
    token = jwt.encode(claims_for(ALICE_ID), private_key("EdDSA", "key-1"), algorithm="EdDSA")
    assert_rejected(get_me(token), "token_unknown_key")


def test_it_verifies_against_a_static_key_set_without_fetching(better_auth_settings):
    host = FakeJWKSHost()
    host.add_key("key-1", "ES256")
    better_auth_settings.BETTER_AUTH = {**better_auth_settings.BETTER_AUTH, "JWKS": host.jwks()}
    assert get_me(host.sign(claims_for(ALICE_ID))).status_code == 200
    assert_rejected(get_me(host.sign(claims_for(ALICE_ID), headers={"kid": "key-9"})), "token_unknown_key")
    assert host.fetches == 0


# --- rotation and the cache ---


def test_it_accepts_a_rotated_key_and_the_old_one_while_both_are_published(jwks_host, clock):
    old_token = jwks_host.sign(claims_for(ALICE_ID))
    assert get_me(old_token).status_code == 200
    jwks_host.add_key("key-2")
    clock.advance(10)  # the refetch cooldown since the last fetch
    assert get_me(jwks_host.sign(claims_for(ALICE_ID), kid="key-2")).status_code == 200
    assert get_me(old_token).status_code == 200
    assert jwks_host.fetches == 2


def test_it_rejects_an_unknown_kid_after_one_refetch(jwks_host, clock):
    warm_up(jwks_host)
    jwks_host.add_key("key-9")
    token = jwks_host.sign(claims_for(ALICE_ID), kid="key-9")
    jwks_host.retire_key("key-9")
    clock.advance(10)
    assert_rejected(get_me(token), "token_unknown_key")
    assert jwks_host.fetches == 2


def test_it_refetches_at_most_once_per_cooldown_for_a_flood_of_unknown_kids(jwks_host, clock):
    warm_up(jwks_host)
    mallory_key = private_key("EdDSA", "mallory")
    for second in range(30):
        clock.advance(1)
        for n in range(10):
            token = jwt.encode(claims_for(ALICE_ID), mallory_key, algorithm="EdDSA", headers={"kid": f"{second}-{n}"})
            assert_rejected(get_me(token), "token_unknown_key")
    assert jwks_host.fetches == 1 + 3  # 300 made-up kids over 30 seconds, one fetch per 10 seconds


def test_it_keeps_accepting_cached_keys_while_the_host_is_down(jwks_host, clock):
    warm_up(jwks_host)
    jwks_host.down = True
    clock.advance(24 * 3600)  # long past the cache lifetime
    token = jwks_host.sign(claims_for(ALICE_ID))
    assert get_me(token).status_code == 200
    assert get_me(token).status_code == 200
    assert jwks_host.fetches == 2  # one retry, then the cooldown spares the dead host


def test_it_answers_503_with_retry_after_when_no_key_is_cached_and_the_host_is_down(jwks_host):
    jwks_host.down = True
    token = jwks_host.sign(claims_for(ALICE_ID))
    for _ in range(3):
        response = get_me(token)
        assert response.status_code == 503
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == "jwks_unavailable"
        assert response["Retry-After"] == "10"
    assert jwks_host.fetches == 1  # no request waits on the dead host again within the cooldown


def test_it_uses_keys_another_process_fetched(jwks_host):
    warm_up(jwks_host)
    jwks._key_sets.clear()  # a second worker: its own memory, the same shared cache
    assert get_me(jwks_host.sign(claims_for(ALICE_ID))).status_code == 200
    assert jwks_host.fetches == 1


# --- which key may verify which token ---


@pytest.mark.parametrize("key_alg", ["EdDSA", "RS256", "ES256"])
@pytest.mark.parametrize("encoding", ["PEM", "JWK"])
def test_it_rejects_hs256_signed_with_the_public_key(jwks_host, key_alg, encoding):
    jwks_host.add_key("public", key_alg)
    public_key = private_key(key_alg, "public").public_key()
    if encoding == "PEM":
        secret = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    else:
        secret = json.dumps(jwks_host.jwks()["keys"][-1]).encode()
    token = hmac_signed(claims_for(ALICE_ID), secret, {"kid": "public"})
    assert_rejected(get_me(token), "token_bad_signature")  # checked with the shared secret, never the key
    assert jwks_host.fetches == 0


def test_it_rejects_hs256_signed_with_the_public_key_when_shared_secrets_are_off(jwks_host, better_auth_settings):
    better_auth_settings.BETTER_AUTH = {**better_auth_settings.BETTER_AUTH, "HS_ALGORITHMS": []}
    secret = json.dumps(jwks_host.jwks()["keys"][0]).encode()
    assert_rejected(get_me(hmac_signed(claims_for(ALICE_ID), secret, {"kid": "key-1"})), "token_algorithm_not_allowed")
    assert jwks_host.fetches == 0


def test_it_rejects_a_token_signed_by_a_foreign_key_under_a_known_kid(jwks_host):
    forged = jwt.encode(
        claims_for(ALICE_ID), private_key("EdDSA", "mallory"), algorithm="EdDSA", headers={"kid": "key-1"}
    )
    assert_rejected(get_me(forged), "token_bad_signature")


def test_it_rejects_a_tampered_payload(jwks_host):
    header, _, signature = jwks_host.sign(claims_for(ALICE_ID)).split(".")
    _, forged_payload, _ = jwks_host.sign(claims_for("mallory00000000000000000000000003")).split(".")
    assert_rejected(get_me(f"{header}.{forged_payload}.{signature}"), "token_bad_signature")


@pytest.mark.parametrize(
    "key_alg, token_alg",
    [
        ("EdDSA", "RS256"),  # another key type
        ("RS256", "PS256"),  # the same RSA key, but not the algorithm it is published for
        ("ES512", "ES256"),  # another curve
    ],
)
def test_it_rejects_an_algorithm_the_key_is_not_published_for(jwks_host, key_alg, token_alg):
    jwks_host.add_key("the-key", key_alg)
    signer = private_key(token_alg, "the-key")
    token = jwt.encode(claims_for(ALICE_ID), signer, algorithm=token_alg, headers={"kid": "the-key"})
    assert_rejected(get_me(token), "token_key_mismatch")


def test_it_lets_the_curve_decide_when_a_key_declares_no_algorithm(jwks_host):
    jwks_host.add_key("p521", "ES512", declare_alg=False)
    token = jwt.encode(claims_for(ALICE_ID), private_key("ES256"), algorithm="ES256", headers={"kid": "p521"})
    assert_rejected(get_me(token), "token_key_mismatch")
    assert get_me(jwks_host.sign(claims_for(ALICE_ID), kid="p521")).status_code == 200


def test_it_rejects_an_unsigned_token_with_a_known_kid(jwks_host):
    token = jwt.encode(claims_for(ALICE_ID), None, algorithm="none", headers={"kid": "key-1"})
    assert_rejected(get_me(token), "token_algorithm_not_allowed")
    assert jwks_host.fetches == 0


def test_it_rejects_an_algorithm_left_out_of_the_settings(jwks_host, better_auth_settings):
    better_auth_settings.BETTER_AUTH = {**better_auth_settings.BETTER_AUTH, "JWKS_ALGORITHMS": ["EdDSA"]}
    jwks_host.add_key("es", "ES256")
    assert_rejected(get_me(jwks_host.sign(claims_for(ALICE_ID), kid="es")), "token_algorithm_not_allowed")
    assert jwks_host.fetches == 0


def test_it_refuses_jwks_tokens_when_the_jwks_is_switched_off(jwks_host, better_auth_settings):
    better_auth_settings.BETTER_AUTH = {**better_auth_settings.BETTER_AUTH, "JWKS_ALGORITHMS": []}
    assert_rejected(get_me(jwks_host.sign(claims_for(ALICE_ID))), "token_algorithm_not_allowed")
    assert get_me(sign(claims_for(ALICE_ID))).status_code == 200
    assert jwks_host.fetches == 0


def test_it_refuses_shared_secret_tokens_when_they_are_switched_off(jwks_host, better_auth_settings):
    better_auth_settings.BETTER_AUTH = {**better_auth_settings.BETTER_AUTH, "HS_ALGORITHMS": []}
    assert_rejected(get_me(sign(claims_for(ALICE_ID))), "token_algorithm_not_allowed")
    assert get_me(jwks_host.sign(claims_for(ALICE_ID))).status_code == 200


# --- claims ---


def test_it_rejects_an_expired_token(jwks_host):
    now = int(time.time())
    assert_rejected(get_me(jwks_host.sign(claims_for(ALICE_ID, iat=now - 3600, exp=now - 60))), "token_expired")


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_it_rejects_a_token_not_valid_yet(jwks_host, claim):
    now = int(time.time())
    token = jwks_host.sign(claims_for(ALICE_ID, **{claim: now + 600}, exp=now + 1200))
    assert_rejected(get_me(token), "token_not_yet_valid")


@pytest.mark.parametrize("issuer", ["https://evil.example", "http://localhost:300", "http://localhost:3000.evil"])
def test_it_rejects_a_wrong_issuer(jwks_host, issuer):
    assert_rejected(get_me(jwks_host.sign(claims_for(ALICE_ID, iss=issuer))), "token_invalid_issuer")


def test_it_rejects_a_wrong_audience(jwks_host):
    token = jwks_host.sign(claims_for(ALICE_ID, aud="https://other.example"))
    assert_rejected(get_me(token), "token_invalid_audience")


@pytest.mark.parametrize("claim", ["exp", "iat", "sub"])
def test_it_rejects_a_token_missing_a_required_claim(jwks_host, claim):
    assert_rejected(get_me(jwks_host.sign(claims_for(ALICE_ID, **{claim: None}))), "token_missing_claim")


# --- headers and shapes that never reach a key ---


@pytest.mark.parametrize(
    "headers",
    [
        {"crit": ["https://example.invalid/unknown"], "https://example.invalid/unknown": True},
        {"jku": "https://evil.example/jwks"},
        {"x5u": "https://evil.example/cert.pem"},
        {"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}},
        {"x5c": ["MIIB"]},
    ],
)
def test_it_rejects_headers_that_choose_their_own_key_or_processing_without_fetching(jwks_host, headers):
    assert_rejected(get_me(jwks_host.sign(claims_for(ALICE_ID), headers=headers)), "token_header_not_allowed")
    assert jwks_host.fetches == 0


def _malformed_tokens() -> dict[str, str]:
    header = base64url_encode(b'{"alg":"EdDSA","kid":"key-1"}').decode()
    payload = base64url_encode(json.dumps(claims_for(ALICE_ID)).encode()).decode()
    signature = base64url_encode(b"s" * 64).decode()
    return {
        "bad base64 payload": f"{header}.!!!not*base64!!!.{signature}",
        "non-JSON payload": f"{header}.{base64url_encode(b'not json').decode()}.{signature}",
        "payload not an object": f"{header}.{base64url_encode(b'[1, 2]').decode()}.{signature}",
        "two segments": f"{header}.{payload}",
        "four segments": f"{header}.{payload}.{signature}.{signature}",
        "100 KB": f"{header}.{'A' * 100_000}.{signature}",
        "Better Auth session token": "f3QZ2mTnq8cXbVYpL0wRk7sHd1uJ4eGa",
        "Better Auth session cookie": "f3QZ2mTnq8cXbVYpL0wRk7sHd1uJ4eGa.Jk3Zb9Q0y3vYh8m1pB5nS7cR2xW4tE6uA9oI0dF1gH8%3D",
    }


@pytest.mark.parametrize("raw", _malformed_tokens().values(), ids=_malformed_tokens().keys())
def test_it_rejects_a_malformed_token_without_fetching(jwks_host, raw):
    assert_rejected(get_me(raw), "token_malformed")
    assert jwks_host.fetches == 0


def test_it_ignores_a_jwks_token_in_the_query_string(jwks_host):
    token = jwks_host.sign(claims_for(ALICE_ID))
    response = APIClient().get(f"{ME}?token={token}&access_token={token}")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert jwks_host.fetches == 0
