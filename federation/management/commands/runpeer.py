"""``python manage.py runpeer``: the peer listener (docs/federation.md)."""

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand

from federation.listener.server import serve


class Command(BaseCommand):
    help = "Serve peer instances: the Civil Money text protocol over WebSocket and the Resilience datagrams over UDP."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.PEER_HOST)
        parser.add_argument("--udp-port", type=int, default=settings.PEER_UDP_PORT)
        parser.add_argument("--ws-port", type=int, default=settings.PEER_WS_PORT)

    def handle(self, *args, host: str, udp_port: int, ws_port: int, **options) -> None:
        asyncio.run(serve(host=host, udp_port=udp_port, ws_port=ws_port))
