from tests.auth import ALICE_ID, BOB_ID


def test_it_returns_the_callers_profile(alice_client):
    response = alice_client.get("/api/me")
    assert response.status_code == 200
    assert response.json() == {"id": ALICE_ID, "email": "alice@example.com", "name": "Alice"}


def test_bob_sees_his_own_profile_not_alices(alice, bob_client):
    assert bob_client.get("/api/me/").json()["id"] == BOB_ID


def test_it_requires_a_token(client, db):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_it_allows_only_get(alice_client):
    for method in ["post", "put", "patch", "delete"]:
        assert getattr(alice_client, method)("/api/me").status_code == 405, method
