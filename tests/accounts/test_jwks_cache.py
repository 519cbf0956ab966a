"""The JWKS cache and fetcher: how often Better Auth's key set is fetched, and what a bad answer does."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.jwks import JWKSCache, JWKSFetchError, JWKSUnavailable, StaticJWKS, fetch_jwks, usable_keys
from tests.accounts.fake_jwks import Clock, FakeJWKSHost, private_key, public_jwk

URL = "https://auth.example/api/auth/jwks"


def cache_for(host: FakeJWKSHost, clock: Clock, url: str = URL, **options) -> JWKSCache:
    settings = {"max_age": 600, "cooldown": 10, "timeout": 2, "max_bytes": 65536, **options}
    return JWKSCache(url, fetch=host.fetch, clock=clock, **settings)


@pytest.fixture
def host() -> FakeJWKSHost:
    host = FakeJWKSHost()
    host.add_key("key-1")
    return host


def test_it_fetches_once_and_then_answers_from_memory(host, clock):
    cache = cache_for(host, clock)
    assert cache.get("key-1")["kid"] == "key-1"
    clock.advance(599)
    assert cache.get("key-1")["kid"] == "key-1"
    assert host.fetches == 1


def test_it_refreshes_the_set_once_it_is_older_than_max_age(host, clock):
    cache = cache_for(host, clock)
    cache.get("key-1")
    host.retire_key("key-1")
    clock.advance(600)
    assert cache.get("key-1") is None  # a key Better Auth stopped publishing stops verifying
    assert host.fetches == 2


def test_it_refetches_an_unknown_kid_once_the_cooldown_has_passed(host, clock):
    cache = cache_for(host, clock)
    cache.get("key-1")
    host.add_key("key-2")
    assert cache.get("key-2") is None
    clock.advance(10)
    assert cache.get("key-2")["kid"] == "key-2"
    assert host.fetches == 2


def test_it_keeps_stale_keys_while_the_host_is_down_and_retries_once_per_cooldown(host, clock):
    cache = cache_for(host, clock)
    cache.get("key-1")
    host.down = True
    clock.advance(3600)
    for _ in range(5):
        assert cache.get("key-1")["kid"] == "key-1"
    clock.advance(10)
    assert cache.get("key-1")["kid"] == "key-1"
    assert host.fetches == 3


def test_it_picks_up_the_set_again_when_the_host_comes_back(host, clock):
    cache = cache_for(host, clock)
    host.down = True
    with pytest.raises(JWKSUnavailable):
        cache.get("key-1")
    host.down = False
    clock.advance(10)
    assert cache.get("key-1")["kid"] == "key-1"


def test_it_is_unavailable_with_nothing_cached_and_the_host_down(host, clock):
    cache = cache_for(host, clock)
    host.down = True
    with pytest.raises(JWKSUnavailable) as first:
        cache.get("key-1")
    clock.advance(4)
    with pytest.raises(JWKSUnavailable) as second:
        cache.get("key-1")
    assert (first.value.retry_after, second.value.retry_after) == (10, 6)
    assert host.fetches == 1


def test_an_empty_set_means_unknown_keys_not_an_outage(clock):
    cache = cache_for(FakeJWKSHost(), clock)
    assert cache.get("key-1") is None


def test_workers_share_what_one_of_them_fetched(host, clock):
    first_worker, second_worker = cache_for(host, clock), cache_for(host, clock)
    first_worker.get("key-1")
    assert second_worker.get("key-1")["kid"] == "key-1"
    assert host.fetches == 1


def test_a_worker_takes_a_rotated_key_from_the_shared_cache_without_fetching(host, clock):
    first_worker, second_worker = cache_for(host, clock), cache_for(host, clock)
    second_worker.get("key-1")
    host.add_key("key-2")
    clock.advance(10)
    first_worker.get("key-2")
    assert second_worker.get("key-2")["kid"] == "key-2"
    assert host.fetches == 2


def test_key_sets_of_different_urls_are_kept_apart(host, clock):
    cache_for(host, clock).get("key-1")
    other = FakeJWKSHost()
    assert cache_for(other, clock, url="https://other.example/jwks").get("key-1") is None
    assert other.fetches == 1


def test_workers_share_the_set_of_a_long_url_under_a_short_key(host, clock):
    long_url = "https://auth.example/api/auth/jwks?" + "q" * 2000
    first_worker, second_worker = cache_for(host, clock, url=long_url), cache_for(host, clock, url=long_url)
    first_worker.get("key-1")
    assert second_worker.get("key-1")["kid"] == "key-1"
    assert host.fetches == 1
    assert len(first_worker.cache_key) <= 64


def test_it_works_without_the_shared_cache_when_that_cache_fails(host, clock):
    cache = cache_for(host, clock, cache_alias="no-such-cache")
    assert cache.get("key-1")["kid"] == "key-1"


def test_it_leaves_out_keys_that_must_not_or_cannot_verify():
    good = public_jwk(private_key("EdDSA", "good"), "EdDSA", "good")
    keys = usable_keys(
        {
            "keys": [
                good,
                {**good, "kid": "private", "d": "c2VjcmV0"},  # a private key published by mistake
                {"kty": "oct", "kid": "shared", "k": "c2VjcmV0"},  # a secret must never verify
                {**good, "kid": "encryption", "use": "enc"},
                {"kty": "EC", "kid": "broken", "crv": "P-256", "x": "AA", "y": "AA"},
                {"kty": "XYZ", "kid": "unknown-type"},
                {**good, "kid": "alg-list", "alg": ["EdDSA"]},
                "not a key",
            ]
        }
    )
    assert list(keys) == ["good"]


def test_a_static_set_answers_without_fetching():
    jwks = {"keys": [public_jwk(private_key("ES256", "static"), "ES256", "static")]}
    assert StaticJWKS(jwks).get("static")["kid"] == "static"
    assert StaticJWKS(jwks).get("other") is None


# --- the fetch itself, against a JWKS server on the loopback interface ---


class JWKSServer(ThreadingHTTPServer):
    """Answers every GET with ``status`` and ``body``."""

    status = 200
    body = b""


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def running_server():
    server = JWKSServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(running_server):
    running_server.status, running_server.body = 200, b""
    return running_server


def url_of(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/api/auth/jwks"


def test_it_fetches_a_jwks(server):
    jwks = FakeJWKSHost()
    jwks.add_key("key-1")
    server.body = json.dumps(jwks.jwks()).encode()
    assert fetch_jwks(url_of(server), timeout=2, max_bytes=65536) == jwks.jwks()


@pytest.mark.parametrize(
    "status, body, reason",
    [
        (200, b'{"keys": []}' + b" " * 70_000, "larger than 65536 bytes"),
        (200, b"<html>Sign in</html>", "not JSON"),
        (200, b'{"keys": {}}', "not a JSON Web Key Set"),
        (500, b'{"error": "oops"}', "HTTPError"),
        (404, b"", "HTTPError"),
    ],
)
def test_it_refuses_what_is_not_a_small_jwks(server, status, body, reason):
    server.status, server.body = status, body
    with pytest.raises(JWKSFetchError, match=reason):
        fetch_jwks(url_of(server), timeout=2, max_bytes=65536)


def test_it_fails_fast_when_nothing_listens():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: the connection is refused
        with pytest.raises(JWKSFetchError):
            fetch_jwks(f"http://127.0.0.1:{port}/api/auth/jwks", timeout=2, max_bytes=65536)


def test_it_gives_up_on_a_host_that_accepts_and_never_answers():
    # The one test that waits on a real clock: a socket timeout cannot be faked, so it is tiny.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(JWKSFetchError, match="timed out"):
            fetch_jwks(f"http://127.0.0.1:{silent.getsockname()[1]}/jwks", timeout=0.05, max_bytes=65536)
