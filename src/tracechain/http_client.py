"""HTTP for tracechain, on httpx: the only module that imports it.

Two jobs use the network: reading a published log (GET of its checkpoint, tiles and entry bundles, by
`storage.published`) and submitting checkpoints to witnesses (POST, by `witness_client`). Both go through
`HttpClient`, which pools connections, bounds every answer's size (a body past the limit is refused after the
limit is read, not buffered whole), and turns every transport failure into `FetchError` naming the URL. Callers
see an `HttpAnswer`: status, content type and body bytes; nothing of httpx leaks out.

Redirects are followed for GET only: a static file host or CDN may redirect (http to https, a bucket's own
domain), and what is fetched is checked against a signed checkpoint anyway; a witness submission is never
re-sent elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from tracechain.errors import FetchError

__all__ = ["HttpAnswer", "HttpClient", "is_url"]

_SCHEMES = ("http://", "https://")


def is_url(location: str) -> bool:
    """Whether ``location`` is an ``http://`` or ``https://`` URL (the scheme in any letter case)."""
    return location[:8].lower().startswith(_SCHEMES)


@dataclass(frozen=True)
class HttpAnswer:
    """One HTTP answer: its status, its media type (parameters such as charset removed) and its body."""

    status: int
    media_type: str
    body: bytes

    @property
    def text(self) -> str:
        """The body as UTF-8 text, any undecodable byte replaced (for messages, never for signed bytes)."""
        return self.body.decode("utf-8", "replace")


class HttpClient:
    """A pool of HTTP connections. Not shared across processes: each process makes its own."""

    def __init__(self, *, timeout: float = 30.0, transport: Any = None) -> None:
        # ``transport`` is for tests that answer in-process (an httpx transport); None is the real network.
        import httpx  # here, not above: opening a local ledger file must not load an HTTP stack

        self._client = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, *, limit: int) -> HttpAnswer:
        """GET ``url``, following redirects; a body longer than ``limit`` bytes is a `FetchError`."""
        return self._send("GET", url, limit, follow=True)

    def post(self, url: str, body: bytes, *, content_type: str, limit: int) -> HttpAnswer:
        """POST ``body`` to ``url`` (no redirect followed); an answer longer than ``limit`` bytes is a `FetchError`."""
        return self._send("POST", url, limit, follow=False, content=body, headers={"Content-Type": content_type})

    def _send(self, method: str, url: str, limit: int, *, follow: bool, **request: Any) -> HttpAnswer:
        import httpx

        try:
            with self._client.stream(method, url, follow_redirects=follow, **request) as response:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise FetchError(f"{url}: the server sends {declared} bytes; at most {limit} were expected")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise FetchError(f"{url}: the server sends more than the {limit} bytes expected")
                media = response.headers.get("content-type", "").split(";")[0].strip().lower()
                return HttpAnswer(response.status_code, media, bytes(body))
        except httpx.HTTPError as e:
            raise FetchError(f"{url}: cannot be fetched ({type(e).__name__}: {e})") from e
        except httpx.InvalidURL as e:
            raise FetchError(f"{url}: not a URL that can be fetched ({e})") from e
