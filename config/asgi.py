"""The ASGI entry point: WebSocket connections go to the identity page's live socket (identity/live.py,
which refuses any path but its own), everything else to Django."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()  # sets Django up before the apps' modules are imported

from identity import live  # noqa: E402


async def application(scope: dict, receive, send) -> None:
    if scope["type"] == "websocket":
        return await live.application(scope, receive, send)
    return await django_application(scope, receive, send)
