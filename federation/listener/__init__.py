"""The peer listener (``manage.py runpeer``): the text protocol over WebSocket, the datagrams over UDP,
and the resending of datagrams until they are acknowledged, in one asyncio process."""
