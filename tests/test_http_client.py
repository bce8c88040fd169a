"""Specification of tracechain.http_client: bounded answers, redirects for GET only, and every transport failure a
FetchError naming the URL — what reading a published log and submitting to a witness rely on."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.test_witness_http import _free_port
from tracechain.errors import FetchError, StorageError
from tracechain.http_client import HttpClient, is_url


def _client(handler: httpx.MockTransport) -> HttpClient:
    return HttpClient(timeout=5, transport=handler)


def _answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/small":
        return httpx.Response(200, content=b"x" * 100, headers={"Content-Type": "Text/Plain; charset=utf-8"})
    if path == "/declared":
        return httpx.Response(200, content=b"x" * 200)  # httpx sets content-length: 200
    if path == "/streamed":

        def chunks() -> Iterator[bytes]:
            for _ in range(50):
                yield b"y" * 100

        return httpx.Response(200, content=chunks())  # no content-length: counted as it arrives
    if path == "/moved":
        return httpx.Response(302, headers={"Location": "/small"})
    return httpx.Response(404, content=b"no such file")


def test_an_answer_within_its_limit_is_returned_whole_with_its_media_type() -> None:
    with _client(httpx.MockTransport(_answer)) as client:
        answer = client.get("http://log.example/small", limit=100)
        assert (answer.status, answer.media_type, answer.body) == (200, "text/plain", b"x" * 100)
        missing = client.get("http://log.example/nothing", limit=100)
        assert (missing.status, missing.text) == (404, "no such file")


@pytest.mark.parametrize("path", ["/declared", "/streamed"])
def test_an_answer_past_its_limit_is_refused_naming_the_url(path: str) -> None:
    with _client(httpx.MockTransport(_answer)) as client, pytest.raises(FetchError, match=f"log.example{path}"):
        client.get(f"http://log.example{path}", limit=150)


def test_get_follows_redirects_and_post_does_not() -> None:
    with _client(httpx.MockTransport(_answer)) as client:
        assert client.get("http://log.example/moved", limit=100).body == b"x" * 100
        posted = client.post("http://log.example/moved", b"body", content_type="text/plain", limit=100)
        assert posted.status == 302


def test_a_server_that_cannot_be_reached_is_a_fetch_error_naming_the_url() -> None:
    url = f"http://127.0.0.1:{_free_port()}/checkpoint"
    with HttpClient(timeout=5) as client, pytest.raises(FetchError, match=url) as caught:
        client.get(url, limit=10)
    assert isinstance(caught.value, StorageError)
    with HttpClient(timeout=5) as client, pytest.raises(FetchError, match="not a URL"):
        client.get("http://[::1", limit=10)


def test_only_http_and_https_urls_are_urls() -> None:
    assert is_url("https://log.example/") and is_url("HTTP://log.example") and is_url("http://x")
    assert not is_url("ftp://log.example") and not is_url("/srv/log") and not is_url("https:/x")
