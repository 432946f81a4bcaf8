"""Talking to peer instances: their well-known documents over HTTP(S), PING over the text protocol."""

import ipaddress
import json
import re
import secrets
import urllib.error
import urllib.request

from django.conf import settings
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from federation.errors import AddressInvalid, DocumentRefused, PeerUnreachable
from federation.protocols import text
from federation.protocols.results import CMResult

DOCUMENT_PATH = "/.well-known/trustbank.json"
MAX_DOCUMENT_BYTES = 256 * 1024
HOSTNAME = re.compile(
    r"(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)


def parse_address(address: str) -> tuple[str, int | None]:
    """``HOST[:PORT]`` (a host name, an IPv4 address or a bracketed IPv6 one) as (host, port or None)."""
    host, port = address.strip(), None
    if host.startswith("["):
        inside, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise AddressInvalid(f"{address!r} is not HOST[:PORT].")
        host, port_text = inside, rest[1:] if rest else None
    else:
        host, colon, port_text = host.partition(":")
        port_text = port_text if colon else None
    if port_text is not None:
        if not (port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536):
            raise AddressInvalid(f"{address!r}: the port must be a number from 1 to 65535.")
        port = int(port_text)
    if not (HOSTNAME.fullmatch(host) or _is_ip(host)):
        raise AddressInvalid(f"{address!r}: {host!r} is not a host name or an IP address.")
    return host.lower(), port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def web_address(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" if port else shown


def document_url(host: str, port: int | None) -> str:
    scheme = "http" if settings.FEDERATION_ALLOW_HTTP else "https"
    return f"{scheme}://{web_address(host, port)}{DOCUMENT_PATH}"


def fetch_document(host: str, port: int | None) -> object:
    """The JSON a peer serves as its document (not yet verified)."""
    url = document_url(host, port)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=settings.FEDERATION_TIMEOUT_SECONDS) as response:
            body = response.read(MAX_DOCUMENT_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise PeerUnreachable(f"The peer at {web_address(host, port)} did not answer ({_reason(exc)}).") from exc
    if len(body) > MAX_DOCUMENT_BYTES:
        raise DocumentRefused(f"The peer's document is larger than {MAX_DOCUMENT_BYTES} bytes.")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DocumentRefused("The peer's document is not JSON.") from exc


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "reason", None) or exc) or type(exc).__name__


def ping(ws_url: str, *, endpoint: str | None = None) -> text.Response:
    """One PING over a fresh connection; ``endpoint`` (EP) tells the peer where this instance listens."""
    return request(ws_url, "PING", headers=(("EP", endpoint),) if endpoint else ())


def account_exists(ws_url: str, address: str) -> bool:
    """Whether the peer has the account ``handle@host`` (``GET ACCNT/<address>``)."""
    answer = request(ws_url, "GET", args=(f"ACCNT/{address}",))
    if answer.result not in (CMResult.S_OK, CMResult.E_Item_Not_Found):
        raise PeerUnreachable(f"The peer at {ws_url} answered GET with {answer.result.name}.")
    return answer.result == CMResult.S_OK


def request(ws_url: str, action: str, *, args: tuple[str, ...] = (), headers: text.Headers = ()) -> text.Response:
    """One request over a fresh connection, and its answer."""
    nonce = secrets.token_hex(4)
    timeout = settings.FEDERATION_TIMEOUT_SECONDS
    try:
        with connect(ws_url, open_timeout=timeout, close_timeout=timeout, max_size=text.MAX_MESSAGE_BYTES) as socket:
            socket.send(text.encode_request(text.Request(action, nonce, args=args, headers=headers)))
            answer = socket.recv(timeout=timeout)
    except (OSError, TimeoutError, WebSocketException, ValueError) as exc:
        raise PeerUnreachable(f"The peer at {ws_url} did not answer {action} ({_reason(exc)}).") from exc
    try:
        response = text.parse_response(answer if isinstance(answer, str) else answer.decode())
    except (text.ProtocolError, UnicodeDecodeError) as exc:
        raise PeerUnreachable(f"The peer at {ws_url} answered {action} with something else: {exc}") from exc
    if response.nonce != nonce:
        raise PeerUnreachable(f"The peer at {ws_url} answered another {action}.")
    return response
