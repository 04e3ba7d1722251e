"""An asynchronous image downloader on httpx: a keep-alive connection pool, bounded concurrency,
per-URL retries with backoff, and an outcome per URL that a status table can keep.

- Retried (``transient``): timeouts, connection errors, HTTP 429 and 5xx — with exponential
  backoff, ``Retry-After`` honoured (capped) — and an attempt that outlives its deadline
  (``too slow: ...``). Never retried (``permanent``): other 4xx, a body that is not an image, a
  body over the size limit (as sent or once decoded), a content encoding we do not decode
  (``unsupported content encoding: ...``: stacked encodings such as ``gzip, gzip``, or anything
  but one gzip or deflate), a URL that is not http(s) or does not parse (``refused: malformed URL
  (...)``). ``refused``: a URL whose host has an address that is not global (loopback, private,
  shared ``100.64.0.0/10``, link-local, multicast, reserved, ...) while ``allow_private`` is off —
  not fetched, and its error names the setting that lifts the refusal (``ALLOW_PRIVATE_SETTING``);
  a status table keeps the kind, so that a rerun under that setting fetches it
  (``shards.jobs_to_run``).
- Bounded time, memory and size (a URL list and its servers are untrusted input): ``timeout_s``
  bounds each connect, read and write, and ``attempt_deadline_s`` the whole attempt (name
  resolution, every redirect hop, the headers and the body), so a server that drips a byte every
  few seconds is cut off. The body is read raw as a stream, at most ``max_bytes``; we ask for
  ``identity`` and decode a single gzip or deflate encoding ourselves, never past ``max_bytes``
  (a decompression bomb costs at most that much memory).
- Safety: only http and https; redirects followed by hand, at most ``max_redirects``, each hop
  checked again; no requests to addresses that are not global (Python's ``is_global``, also for the
  IPv4 address inside an IPv4-mapped or 6to4 IPv6 address; multicast and site-local refused too)
  unless ``allow_private`` (think cloud metadata endpoints such as 169.254.169.254 or
  100.100.100.200); the body must decode as an image within a pixel limit
  (``resize.ImageRejected``); the file name comes from the caller, never the URL.
- A file appears only complete: written to a temporary name beside it, then renamed.
- Decoding and resizing run in a thread pool (Pillow releases the GIL while it decodes).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import hashlib
import ipaddress
import os
import socket
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from mmassets.files import atomic_write_bytes
from mmassets.images.resize import ImageRejected, ResizeSettings, resize_image

OK, TRANSIENT, PERMANENT, REFUSED = "ok", "transient", "permanent", "refused"
STATUSES = (OK, TRANSIENT, PERMANENT, REFUSED)
ALLOW_PRIVATE_SETTING = "MMASSETS_DOWNLOAD_ALLOW_PRIVATE"
"""The setting that lifts a ``refused`` outcome (``DownloadSettings.allow_private``)."""
PRIVATE_ADDRESS = "resolves to a loopback/private/reserved address"
"""The words of a refusal that ``allow_private`` lifts (also in status tables written before
``refused`` was a status of its own, where it was ``permanent``)."""
DEFAULT_USER_AGENT = "mmassets-image-downloader/0.1 (research dataset preparation)"
_REDIRECTS = (301, 302, 303, 307, 308)
CONNECTIONS_PER_CLIENT = 8


@dataclass(frozen=True)
class DownloadSettings:
    concurrency: int = 64
    timeout_s: float = 10.0
    """Bounds each connect, read and write (not a whole request: see ``attempt_deadline_s``)."""
    attempt_deadline_s: float = 60.0
    """Bounds one attempt as a whole, redirects, headers and body included: past it the attempt is
    a transient failure ``too slow: ...`` (retried like a timeout)."""
    retries: int = 2
    """Further attempts after the first, for transient failures."""
    backoff_s: float = 1.0
    max_retry_after_s: float = 60.0
    max_redirects: int = 5
    max_bytes: int = 32 * 1024 * 1024
    user_agent: str = DEFAULT_USER_AGENT
    allow_private: bool = False
    """Allow loopback/private/link-local addresses (tests, or a mirror on your network)."""
    decode_threads: int = max(1, min(8, os.cpu_count() or 1))
    mirrors: tuple[tuple[str, str], ...] = ()
    """``(prefix, replacement)`` pairs: a URL starting with ``prefix`` is fetched from ``replacement``
    + the rest (a local mirror of a web host, or the sample's local server); outcomes keep the
    original URL. The safety checks apply to the URL actually fetched."""

    def fetched_url(self, url: str) -> str:
        for prefix, replacement in self.mirrors:
            if url.startswith(prefix):
                return replacement + url[len(prefix):]
        return url


@dataclass(frozen=True)
class Job:
    index: int
    url: str
    path: Path
    """Where the resized JPEG goes (chosen by the caller, never derived from the URL)."""


@dataclass(frozen=True)
class Outcome:
    index: int
    url: str
    status: str
    http_status: int | None = None
    error: str | None = None
    bytes: int = 0
    sha256: str | None = None
    width: int | None = None
    height: int | None = None
    attempts: int = 0

    def as_row(self) -> dict:
        return {"index": self.index, "url": self.url, "status": self.status, "http_status": self.http_status,
                "error": self.error, "bytes": self.bytes, "sha256": self.sha256, "width": self.width,
                "height": self.height, "attempts": self.attempts}


class _Refused(Exception):
    """A URL we will not fetch: for good (``permanent``), or until ``setting`` allows it (``refused``)."""

    def __init__(self, message: str, setting: str | None = None):
        super().__init__(message)
        self.setting = setting


class _Transient(Exception):
    def __init__(self, message: str, http_status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.http_status, self.retry_after = http_status, retry_after


class _Permanent(Exception):
    def __init__(self, message: str, http_status: int | None = None):
        super().__init__(message)
        self.http_status = http_status


def _address_allowed(address: str) -> bool:
    """Whether ``address`` is global (``is_global``) and not multicast, reserved or site-local; an
    IPv6 address carrying an IPv4 one (IPv4-mapped, 6to4) is judged by both."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        elif ip.sixtofour and not _address_allowed(str(ip.sixtofour)):
            return False
        elif ip.is_site_local:
            return False
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


async def check_url(url: str, settings: DownloadSettings) -> None:
    """Raise _Refused unless ``url`` is http(s) with a host whose every address may be fetched."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", ...
        raise _Refused(f"malformed URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise _Refused(f"unsupported scheme {parts.scheme!r}")
    if not parts.hostname:
        raise _Refused("no host")
    if settings.allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port or 0, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise _Transient(f"cannot resolve {parts.hostname}: {exc}") from None
    except UnicodeError as exc:  # a label empty or over 63 characters
        raise _Refused(f"malformed URL (host name {parts.hostname[:100]!r}: {exc})") from None
    refused = sorted({info[4][0] for info in infos if not _address_allowed(info[4][0])})
    if refused:
        raise _Refused(f"{parts.hostname} {PRIVATE_ADDRESS} ({', '.join(refused)}); "
                       f"set {ALLOW_PRIVATE_SETTING}=1 to allow it (a rerun then fetches it)", ALLOW_PRIVATE_SETTING)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_DECODABLE = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS | 32}
"""Content encodings decoded (by ``_BoundedDecoder``), and their zlib ``wbits``: deflate accepts a
zlib (RFC 1950) or gzip header, and a raw deflate stream as a fallback."""


class _BoundedDecoder:
    """A body's content encoding undone chunk by chunk, never more than ``limit`` bytes in all: one
    of ``_DECODABLE`` or none (``identity``); anything else, stacked encodings (``gzip, gzip``)
    included, is a permanent failure."""

    def __init__(self, encodings: list[str], limit: int, status: int):
        names = [name.strip().lower() for name in encodings if name.strip() and name.strip().lower() != "identity"]
        self.limit, self.status, self.size, self.raw_deflate, self.head = limit, status, 0, False, b""
        if len(names) > 1 or (names and names[0] not in _DECODABLE):
            raise _Permanent(f"unsupported content encoding: {', '.join(names)!r} (we ask for identity and decode "
                             f"one of {', '.join(sorted(_DECODABLE))} at most)", status)
        self.name = names[0] if names else None
        self.decompressor = zlib.decompressobj(_DECODABLE[self.name]) if self.name else None

    def _grow(self, size: int) -> None:
        self.size += size
        if self.size > self.limit:
            how = f" once its {self.name} encoding is decoded" if self.name else ""
            raise _Permanent(f"response over the {self.limit:,}-byte limit{how}", self.status)

    def decode(self, chunk: bytes) -> bytes:
        if self.decompressor is None:
            self._grow(len(chunk))
            return chunk
        if self.name == "deflate" and not self.raw_deflate and not self.size:
            self.head += chunk  # until it yields output, kept to be read again as raw deflate
        try:  # at most one byte past what the limit leaves: enough to know the body is over it
            out = self.decompressor.decompress(chunk, self.limit - self.size + 1)
        except zlib.error as exc:
            if self.name != "deflate" or self.raw_deflate or self.size:
                raise _Transient(f"connection error (DecodingError: {self.name} body does not decode: {exc})") from None
            self.raw_deflate, self.decompressor = True, zlib.decompressobj(-zlib.MAX_WBITS)
            head, self.head = self.head, b""
            return self.decode(head)
        self._grow(len(out))
        if out:
            self.head = b""
        return out

    def flush(self) -> bytes:
        if self.decompressor is None:
            return b""
        out = self.decompressor.flush()
        self._grow(len(out))
        return out


async def _fetch(client, url: str, settings: DownloadSettings, received: list[int]) -> tuple[bytes, int]:
    """The body of ``url`` after at most ``max_redirects`` checked redirects, and its HTTP status;
    ``received[0]`` counts the raw bytes read so far (for the error of an attempt cut off)."""
    import httpx

    for _ in range(settings.max_redirects + 1):
        await check_url(url, settings)
        try:
            async with client.stream("GET", url) as response:
                status = response.status_code
                if status in _REDIRECTS and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if status == 429 or status >= 500:
                    raise _Transient(f"HTTP {status}", status, _retry_after(response.headers.get("retry-after")))
                if status >= 400:
                    raise _Permanent(f"HTTP {status}", status)
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > settings.max_bytes:
                    raise _Permanent(f"response of {int(declared):,} bytes is over the {settings.max_bytes:,} limit", status)
                decoder = _BoundedDecoder(response.headers.get_list("content-encoding", split_commas=True),
                                          settings.max_bytes, status)
                chunks, raw = [], 0
                async for chunk in response.aiter_raw():  # raw: httpx's own decoding has no bound
                    raw += len(chunk)
                    received[0] += len(chunk)
                    if raw > settings.max_bytes:
                        raise _Permanent(f"response over the {settings.max_bytes:,}-byte limit", status)
                    chunks.append(decoder.decode(chunk))
                chunks.append(decoder.flush())
                return b"".join(chunks), status
        except httpx.TimeoutException as exc:
            raise _Transient(f"timeout ({type(exc).__name__})") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, UnicodeError) as exc:  # a URL httpx will not send
            raise _Permanent(f"malformed URL ({type(exc).__name__}: {str(exc)[:200]})") from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise _Transient(f"connection error ({type(exc).__name__}: {exc})") from None
    raise _Permanent(f"more than {settings.max_redirects} redirects")


async def _attempt(client, url: str, settings: DownloadSettings) -> tuple[bytes, int]:
    """``_fetch`` within ``attempt_deadline_s``, or a transient ``too slow: ...`` failure."""
    received = [0]
    try:
        return await asyncio.wait_for(_fetch(client, url, settings, received), settings.attempt_deadline_s)
    except asyncio.TimeoutError:
        raise _Transient(f"too slow: no complete response within the {settings.attempt_deadline_s:g} s attempt "
                         f"deadline ({received[0]:,} bytes received)") from None


async def _one(client, job: Job, settings: DownloadSettings, resize: ResizeSettings,
               pool: ThreadPoolExecutor) -> Outcome:
    attempts = 0
    loop = asyncio.get_running_loop()
    while True:
        attempts += 1
        try:
            body, status = await _attempt(client, settings.fetched_url(job.url), settings)
            try:
                image = await loop.run_in_executor(pool, resize_image, body, resize)
            except ImageRejected as exc:
                return Outcome(job.index, job.url, PERMANENT, status, f"not an image we take: {exc}", len(body),
                               attempts=attempts)
            await loop.run_in_executor(pool, atomic_write_bytes, job.path, image.jpeg)
            return Outcome(job.index, job.url, OK, status, None, len(body), hashlib.sha256(image.jpeg).hexdigest(),
                           image.width, image.height, attempts)
        except _Refused as exc:
            return Outcome(job.index, job.url, REFUSED if exc.setting else PERMANENT, None, f"refused: {exc}",
                           attempts=attempts)
        except _Permanent as exc:
            return Outcome(job.index, job.url, PERMANENT, exc.http_status, str(exc), attempts=attempts)
        except _Transient as exc:
            if attempts > settings.retries:
                return Outcome(job.index, job.url, TRANSIENT, exc.http_status, str(exc), attempts=attempts)
            wait = settings.backoff_s * 2 ** (attempts - 1)
            if exc.retry_after is not None:
                wait = max(wait, min(exc.retry_after, settings.max_retry_after_s))
            await asyncio.sleep(wait)


async def download_async(jobs: Sequence[Job], settings: DownloadSettings = DownloadSettings(),
                         resize: ResizeSettings = ResizeSettings(),
                         on_done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Fetch, check, resize and store every job; outcomes in job order. ``on_done`` sees each
    outcome as it arrives (progress, or a status table written as work goes)."""
    import httpx

    # Several small connection pools rather than one large one: httpcore scans its whole pool on every
    # request and response, which costs more CPU than the download itself at 64 connections.
    clients = max(1, -(-settings.concurrency // CONNECTIONS_PER_CLIENT))
    per_client = -(-settings.concurrency // clients)
    limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
    timeout = httpx.Timeout(settings.timeout_s)
    results: list[Outcome | None] = [None] * len(jobs)
    queue = iter(enumerate(jobs))  # workers pull from one iterator: memory stays flat in the number of URLs
    with ThreadPoolExecutor(settings.decode_threads, thread_name_prefix="mmassets-decode") as pool:
        async with contextlib.AsyncExitStack() as stack:
            tls = httpx.create_ssl_context()  # one certificate store for every pool
            pool_clients = [await stack.enter_async_context(httpx.AsyncClient(
                limits=limits, timeout=timeout, follow_redirects=False, trust_env=False, verify=tls,
                headers={"User-Agent": settings.user_agent, "Accept-Encoding": "identity"})) for _ in range(clients)]

            async def worker(client) -> None:
                for position, job in queue:
                    outcome = await _one(client, job, settings, resize, pool)
                    results[position] = outcome
                    if on_done is not None:
                        on_done(outcome)

            workers = min(settings.concurrency, len(jobs)) or 1
            await asyncio.gather(*(worker(pool_clients[k % clients]) for k in range(workers)))
    return [outcome for outcome in results if outcome is not None]


def download(jobs: Sequence[Job], settings: DownloadSettings = DownloadSettings(),
             resize: ResizeSettings = ResizeSettings(), on_done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """``download_async`` from synchronous code (a Dagster step)."""
    return asyncio.run(download_async(jobs, settings, resize, on_done))
