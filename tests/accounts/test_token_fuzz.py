"""Malformed tokens of every shape, generated: each is a JSON 401, never a 5xx.

Each of the three segments is drawn broken or whole, under a shared-secret or a JWKS header, and
signed tokens carry claims with NULs and lone surrogates.
"""

import contextlib
import json
import sys

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jwt.utils import base64url_encode

from accounts.tokens import UNSTORABLE_CHARACTERS
from tests.auth import claims_for, client_with_token, sign

pytestmark = pytest.mark.django_db

# Few examples per run, each a whole request: the test stays within a few seconds.
fuzz_settings = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HS_HEADER = {"alg": "HS256", "typ": "JWT"}
JWKS_HEADER = {"alg": "EdDSA", "kid": "key-1"}

awkward_text = st.lists(
    st.one_of(
        st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d", "\ufffd", "é", "😀", "\n", "[", "{", '"']),
        st.text(max_size=5),
    ),
    max_size=12,
).map("".join)


def json_bytes(value) -> bytes:
    # ensure_ascii writes lone surrogates as \\ud800 escapes, the way an attacker would.
    return json.dumps(value).encode()


def encoded(part: bytes) -> str:
    return base64url_encode(part).decode()


# Python's json module recurses once a level: about a thousand levels exhaust its stack.
depths = st.one_of(st.integers(1, 50), st.integers(900, 6000))
nested = st.builds(
    lambda opening, depth: opening * depth, st.sampled_from([b"[", b'{"a":', b'{"alg":"HS256","x":']), depths
)
not_base64 = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0xFF), max_size=40)


def segment(whole: bytes):
    """One segment: as it should be, or broken in one of the ways an attacker would try."""
    return st.one_of(
        st.just(encoded(whole)),
        nested.map(encoded),
        st.binary(max_size=300).map(encoded),  # random bytes, mostly not UTF-8
        st.binary(min_size=6000, max_size=9000).map(encoded),  # huge
        st.sampled_from([b"\xff\xfe{}", b'{"alg":"\xc3"}', b"null", b"[]", b'"x"', b"{", b"1e999999"]).map(encoded),
        awkward_text.map(lambda text: encoded(json_bytes({"alg": text, "kid": text, "sub": text}))),
        not_base64,
    )


@st.composite
def malformed_tokens(draw) -> str:
    header = draw(st.sampled_from([HS_HEADER, JWKS_HEADER]))
    parts = [
        draw(segment(json_bytes(header))),
        draw(segment(json_bytes(claims_for("fuzz0000000000000000000000000001")))),
        draw(segment(b"not the signature")),
    ]
    # Sometimes too few or too many segments.
    count = draw(st.sampled_from([3, 3, 3, 3, 0, 1, 2, 4, 5]))
    return ".".join((parts * 2)[:count])


@contextlib.contextmanager
def default_recursion_limit():
    """Hypothesis raises the recursion limit while it runs a test; a worker runs with Python's."""
    raised = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(raised)


@fuzz_settings
@given(raw=malformed_tokens())
@example(raw=encoded(b"[" * 2500) + ".e30.x")  # the shape that first found the header parser's recursion
def test_it_answers_every_malformed_token_with_a_json_401(raw, jwks_host):
    with default_recursion_limit():
        response = client_with_token(raw).get("/api/me")
    assert response.status_code == 401, ascii((raw[:200], response.content[:500]))
    assert response.json()["code"].startswith(("token_", "bad_authorization_header", "not_authenticated"))


@fuzz_settings
@given(subject=awkward_text, email=awkward_text, name=awkward_text, use_jwks=st.booleans())
@example(subject="\ud800\udfff", email="a\ud83d", name="\x00", use_jwks=False)  # a pair the JSON joins
def test_it_never_fails_on_the_text_of_a_signed_token(subject, email, name, use_jwks, jwks_host):
    subject = subject or "x"  # an empty subject is refused before any of this is reached
    claims = claims_for("ignored", sub=subject, email=email, name=name)
    token = jwks_host.sign(claims) if use_jwks else sign(claims)
    response = client_with_token(token).get("/api/me")
    # Failure messages in ascii(): a lone surrogate cannot cross to pytest-xdist's controller.
    assert response.status_code in (200, 401), ascii((subject, email, name, response.content[:500]))
    if response.status_code == 200:
        me = response.json()
        # What the server read: JSON joins a high and a low surrogate written in a row into one character.
        assert ascii(me["id"]) == ascii(json.loads(json.dumps(subject)))
        for field in ("email", "name"):
            assert not UNSTORABLE_CHARACTERS.search(me[field]), ascii((field, me[field]))
    else:
        assert response.json()["code"] == "token_invalid_claim", ascii((subject, response.content))
