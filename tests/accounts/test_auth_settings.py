"""`auth_settings`: every BETTER_AUTH key has one default, and a deployment sets only what it changes."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts.settings import DEFAULTS, auth_settings
from tests.auth import ALICE_ID, claims_for, client_with_token, sign

pytestmark = pytest.mark.django_db


def test_a_deployment_that_sets_one_key_gets_the_defaults_for_the_rest(better_auth_settings):
    better_auth_settings.BETTER_AUTH_URL = "http://localhost:3000"
    better_auth_settings.BETTER_AUTH = {"LEEWAY_SECONDS": 5}
    response = client_with_token(sign(claims_for(ALICE_ID))).get("/api/me")
    assert response.status_code == 200, response.content
    assert auth_settings.LEEWAY_SECONDS == 5
    assert auth_settings.USER_CACHE_SECONDS == DEFAULTS["USER_CACHE_SECONDS"] == 30


def test_every_key_has_a_default_and_three_follow_better_auth_url(better_auth_settings):
    better_auth_settings.BETTER_AUTH_URL = "https://app.example/base"
    better_auth_settings.BETTER_AUTH = {}
    values = {name: getattr(auth_settings, name) for name in DEFAULTS}
    assert values["JWKS_URL"] == "https://app.example/base/api/auth/jwks"
    assert (values["ISSUER"], values["AUDIENCE"]) == ("https://app.example", ["https://app.example"])
    assert all(value is not None for name, value in values.items() if name != "JWKS")


def test_an_empty_issuer_or_audience_turns_the_check_off(better_auth_settings):
    better_auth_settings.BETTER_AUTH = {"ISSUER": "", "AUDIENCE": []}
    assert (auth_settings.ISSUER, auth_settings.AUDIENCE) == ("", [])
    assert client_with_token(sign(claims_for(ALICE_ID, iss=None, aud=None))).get("/api/me").status_code == 200


def test_an_unknown_key_is_refused_by_name(better_auth_settings):
    better_auth_settings.BETTER_AUTH = {"LEEWAY": 5}
    with pytest.raises(ImproperlyConfigured, match="BETTER_AUTH has no setting LEEWAY"):
        auth_settings.LEEWAY_SECONDS  # noqa: B018
