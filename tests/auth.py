"""Tokens and clients for the suite's personas, signed the way Better Auth signs them."""

from typing import Any

import jwt
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import development_token_claims

SECRET = "the-test-suites-better-auth-secret-long-enough-for-hs512-0123456789abcdef"
ORIGIN = "http://localhost:3000"

ALICE_ID = "aLiCe0000000000000000000000000001"
BOB_ID = "b0b00000000000000000000000000002"


def claims_for(user_id: str, **overrides: Any) -> dict[str, Any]:
    """Better Auth style claims for a user; an override of None drops that claim."""
    claims = development_token_claims(user_id=user_id, email=f"{user_id}@example.com", name="Some One")
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def sign(claims: dict[str, Any], key: str = SECRET, algorithm: str = "HS256", headers: dict | None = None) -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def client_with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def client_for(user: User) -> APIClient:
    return client_with_token(sign(claims_for(user.better_auth_id, email=user.email, name=user.name)))
