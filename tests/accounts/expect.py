"""What every rejected token must look like, whichever key it was checked with."""

from tests.auth import SECRET


def assert_rejected(response, code: str):
    """A 401 in the API's error shape, with the RFC 6750 challenge, the exact code and no secret."""
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="api"')
    assert 'error="invalid_token"' in challenge
    assert SECRET not in response.content.decode() and SECRET not in challenge
