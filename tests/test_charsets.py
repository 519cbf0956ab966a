"""A body's declared charset: unknown or non-text ones are a 400 before any view, the admin's
sign-in included; JSON is UTF-8 only."""

import pytest
from django.test import Client

from tasks.models import Task

MULTIPART = "multipart/form-data; boundary=xyz"
FORM_BODY = (
    b'--xyz\r\nContent-Disposition: form-data; name="username"\r\n\r\nmallory\r\n'
    b'--xyz\r\nContent-Disposition: form-data; name="password"\r\n\r\nguess\r\n'
    b'--xyz\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n' + b"a" * 32 + b"\r\n--xyz--\r\n"
)


def admin_client() -> Client:
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.cookies["csrftoken"] = "a" * 32  # one the client invented
    return client


@pytest.mark.parametrize("charset", ["rot13", "base64", "zlib", "no-such-charset", "hex"])
def test_the_admin_sign_in_refuses_an_unknown_or_non_text_charset_with_a_json_400(db, charset):
    response = admin_client().generic(
        "POST", "/admin/login/", FORM_BODY, content_type=f"{MULTIPART}; charset={charset}"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", "latin-1"])
def test_the_admin_sign_in_still_reads_a_text_charset(db, charset):
    response = admin_client().generic(
        "POST", "/admin/login/", FORM_BODY, content_type=f"{MULTIPART}; charset={charset}"
    )
    assert response.status_code in (200, 403)  # the form again, or the CSRF check's refusal


@pytest.mark.parametrize("charset", ["rot13", "no-such-charset"])
def test_the_api_refuses_an_unknown_or_non_text_charset_before_authentication(client, charset):
    response = client.generic("POST", "/api/tasks", b"{}", content_type=f"application/json; charset={charset}")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.parametrize("charset", ["utf-7", "utf-16", "latin-1"])
def test_a_json_body_in_another_charset_than_utf_8_is_a_415_and_stores_nothing(alice_client, charset):
    body = '{"title": "+ADw-script+AD4-"}'.encode(charset)
    response = alice_client.generic("POST", "/api/tasks", body, content_type=f"application/json; charset={charset}")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert not Task.objects.exists()


@pytest.mark.parametrize("charset", ["utf-8", "UTF8", '"utf-8"', "us-ascii"])
def test_a_json_body_declared_utf_8_or_ascii_is_read(alice_client, charset):
    response = alice_client.post("/api/tasks", b'{"title": "t"}', content_type=f"application/json; charset={charset}")
    assert response.status_code == 201, response.content
