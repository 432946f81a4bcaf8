"""The ASGI entry point: WebSocket connections go to the identity page's live socket (identity/live.py,
which refuses any path but its own), everything else to Django."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()  # sets Django up before the apps' modules are imported

from django.conf import settings  # noqa: E402

from identity import live  # noqa: E402


async def application(scope: dict, receive, send) -> None:
    if scope["type"] == "websocket":
        return await live.application(scope, receive, send)
    return await django_application(scope, _bounded(receive), send)


def _bounded(receive):
    """Django's ASGI handler reads a request's whole body before any middleware runs; this hands it at most one
    byte past DATA_UPLOAD_MAX_MEMORY_SIZE and drops the rest, so a larger body is refused (413, by
    core.middleware or core.parsers) without being spooled to disk first."""
    limit, received = settings.DATA_UPLOAD_MAX_MEMORY_SIZE, 0
    if limit is None:
        return receive

    async def bounded_receive() -> dict:
        nonlocal received
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return message
            if received > limit:
                continue  # the body was cut off already: what is still coming is dropped
            body = message.get("body", b"")
            received += len(body)
            if received <= limit:
                return message
            return {**message, "body": body[: limit + 1 - (received - len(body))], "more_body": False}

    return bounded_receive
