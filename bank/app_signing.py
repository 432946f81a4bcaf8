"""How a third-party app signs a request made with an app token (the Tilde client API).

Plain standard-library code, so an app can copy this file as it is. A signed request carries::

    Authorization: App <token>
    X-Trustbank-Timestamp: <unix seconds>
    X-Trustbank-Signature: sign_request(secret, method, path, timestamp, body)

``path`` is the request's path as sent, with its query string (``/c/alpha/api/user/payments?limit=5``);
``body`` the exact bytes sent (``b""`` for none). The server refuses a timestamp too far from its
clock and a signature it has already seen, so every request is signed anew.
"""

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Trustbank-Timestamp"
SIGNATURE_HEADER = "X-Trustbank-Signature"


def sign_request(secret: str, method: str, path: str, timestamp: int | str, body: bytes) -> str:
    """Hex HMAC-SHA256, keyed by the token's secret, of ``METHOD\\nPATH\\nTIMESTAMP\\nhex(SHA256(body))``."""
    message = "\n".join([method.upper(), path, str(timestamp), hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
