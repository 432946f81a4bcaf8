"""Peer listener benchmark: a flood of random and mutated messages at a live ``runpeer``, and PING round trips
against a bare WebSocket echo server.

    .venv/bin/python bench/peer.py [--datagrams 1000000 --frames 100000 --pings 5000]

Creates its own database (``trustbank_bench_<random>``) on the server of ``DATABASE_URL`` (default
postgres://postgres@127.0.0.1:5432/postgres), with one member paired with an account of a made-up peer
whose keys this process holds, so mutated datagrams reach the pair lookup and the MAC check. Starts
``manage.py runpeer`` on it (no per-address rate limit: the point is what the listener handles), then:

- datagrams: half random bytes (0 to 1,300 of them), half valid datagrams of every command with bytes
  flipped, inserted, deleted or cut; sent with at most a window in flight (each is answered by a notice
  or an acknowledgement; one unanswered after 50 ms counts as dropped);
- text frames: random texts and mutated requests over one WebSocket, each answered;
- the listener must still be running, have logged no failed message, and answer PING afterwards;
- PING round trips over one WebSocket, then the same count of round trips to a bare ``websockets``
  echo server in a process of its own; the ratio of the two rates.
"""

import argparse
import asyncio
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, setup_django
from settlement import DEFAULT_URL, admin_sql, with_database

RATIO_TARGET = 0.5
WINDOW = 64
ECHO_SERVER = """
import asyncio, sys
from websockets.asyncio.server import serve
async def echo(socket):
    async for message in socket:
        await socket.send(message)
async def main():
    async with serve(echo, "127.0.0.1", int(sys.argv[1])):
        print("ready", flush=True)
        await asyncio.Future()
asyncio.run(main())
"""


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pair_with_a_made_up_peer() -> tuple[bytes, list[bytes]]:
    """A member here paired with ``zed@far.example`` on a peer whose agreement key only this process holds;
    returns that peer's base key and valid datagrams from it of every command."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from bank.services import community_create
    from core.crypto.server import public_hex
    from federation import documents
    from federation.models import Pair, Remote
    from federation.pairing import pair_key, session_key
    from federation.protocols import datagrams
    from federation.protocols.datagrams import PEER_LAYOUTS, PeerDatagram, Session

    admin = community_create(slug="near", name="Near", domain=None, admin_handle="amy", admin_password="x" * 12)
    far = X25519PrivateKey.generate()
    remote = Remote.objects.create(
        host="far.example", url="https://far.example", sign_key="00" * 32, agree_key=public_hex(far)
    )
    remote.document = {"communities": [{"slug": "far", "host": "far.example"}]}
    remote.save()
    Pair.objects.create(member=admin, remote=remote, handle="zed", host="far.example")
    base = pair_key(
        own=far, peer_agree_key=documents.own_keys()["agree"], local="zed@far.example", remote=admin.address
    )
    valid = []
    for counter, (command, layout) in enumerate(PEER_LAYOUTS.items(), start=1):
        arguments = {f.name: (secrets.token_bytes(f.size) if f.kind == "raw" else 1) for f in layout}
        message = PeerDatagram(Session.ACCOUNT, "amy", "zed", "far.example", counter, command, arguments)
        valid.append(datagrams.encode(message, session_key(base, sender="zed@far.example", counter=counter)))
    return base, valid


def mutated(data: bytes, rng: random.Random) -> bytes:
    raw = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        where = rng.randrange(len(raw) + 1)
        choice = rng.random()
        if choice < 0.4 and raw:
            raw[min(where, len(raw) - 1)] ^= 1 << rng.randrange(8)
        elif choice < 0.6:
            raw[where:where] = secrets.token_bytes(rng.randint(1, 8))
        elif choice < 0.8:
            del raw[where : where + rng.randint(1, 8)]
        else:
            del raw[where:]
    return bytes(raw)


def flood_datagrams(port: int, count: int, valid: list[bytes], seed: int) -> tuple[float, int, int]:
    """(seconds, answered, unanswered) for ``count`` datagrams, at most WINDOW in flight."""
    rng = random.Random(seed)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        sock.connect(("127.0.0.1", port))
        sock.settimeout(0.05)
        answers = {True: 0, False: 0}  # answered within 50 ms, or not
        in_flight = 0
        began = time.perf_counter()
        for number in range(count):
            data = secrets.token_bytes(rng.randint(0, 1300)) if number % 2 else mutated(rng.choice(valid), rng)
            sock.send(data)
            in_flight += 1
            if in_flight >= WINDOW:
                answers[answered(sock)] += 1
                in_flight -= 1
        for _ in range(in_flight):
            answers[answered(sock)] += 1
        answered_count, unanswered = answers[True], answers[False]
        return time.perf_counter() - began, answered_count, unanswered


def answered(sock: socket.socket) -> bool:
    """Whether an answer arrives within the socket's timeout."""
    try:
        sock.recv(2048)
    except TimeoutError:
        return False
    return True


def request_texts(count: int, seed: int) -> list[str]:
    from federation.protocols import text

    rng = random.Random(seed)
    valid = [
        text.encode_request(text.Request("PING", "p1", headers=(("EP", "127.0.0.1:9"),))),
        text.encode_request(text.Request("FIND", "f1", headers=(("DHT-ID", "az/nz+AWQd4="), ("MAX-HOPS", "10")))),
        text.encode_request(text.Request("GET", "g1", args=("ACCNT/test1",))),
    ]
    frames = []
    for number in range(count):
        if number % 2:
            frames.append("".join(chr(rng.randint(1, 0x2FF)) for _ in range(rng.randint(0, 200))))
        else:
            raw = list(rng.choice(valid))
            for _ in range(rng.randint(1, 4)):
                where = rng.randrange(len(raw) + 1)
                raw[where:where] = [chr(rng.randint(0, 0x7F))] if rng.random() < 0.5 else []
                del raw[where : where + rng.randint(0, 3)]
            frames.append("".join(raw))
    return frames


async def round_trips(url: str, frames: list[str]) -> float:
    """Seconds for sending each frame and reading its answer, one at a time over one connection."""
    from websockets.asyncio.client import connect

    async with connect(url, max_size=None) as websocket:
        began = time.perf_counter()
        for frame in frames:
            await websocket.send(frame)
            await websocket.recv()
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datagrams", type=int, default=1_000_000)
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--pings", type=int, default=5_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("the peer benchmark needs PostgreSQL: set DATABASE_URL or --database-url")

    name = f"trustbank_bench_{secrets.token_hex(4)}"
    admin_sql(args.database_url, f'CREATE DATABASE "{name}"')
    ws_port, udp_port, echo_port = (
        free_port(socket.SOCK_STREAM),
        free_port(socket.SOCK_DGRAM),
        free_port(socket.SOCK_STREAM),
    )
    processes: list[subprocess.Popen] = []
    log = Path(tempfile.mkdtemp()) / "peer.log"
    try:
        url = with_database(args.database_url, name)
        setup_django(url)
        from django.core.management import call_command

        from federation import peers
        from federation.errors import PeerUnreachable
        from federation.protocols import text

        call_command("migrate", verbosity=0)
        _, valid = pair_with_a_made_up_peer()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "INSTANCE_URL": "http://127.0.0.1:8000",
            "PEER_HOST": "127.0.0.1",
            "PEER_WS_PORT": str(ws_port),
            "PEER_UDP_PORT": str(udp_port),
            "PEER_MESSAGES_PER_SECOND": str(10**9),
            "LOG_LEVEL": "WARNING",
        }
        with log.open("w") as out:
            processes.append(
                subprocess.Popen([sys.executable, "manage.py", "runpeer"], cwd=ROOT, env=env, stdout=out, stderr=out)
            )
        ws = f"ws://127.0.0.1:{ws_port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                peers.ping(ws)
                break
            except PeerUnreachable:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the listener did not start:\n{log.read_text()}") from None
                time.sleep(0.2)
        print(f"Peer listener benchmark: {args.datagrams} datagrams, {args.frames} text frames, {args.pings} PINGs")

        seconds, replied, unanswered = flood_datagrams(udp_port, args.datagrams, valid, seed=1)
        print(
            f"  datagrams: {args.datagrams / seconds:9.0f} handled/s ({args.datagrams} in {seconds:.1f} s; "
            f"{replied} answered, {unanswered} with no answer within 50 ms)"
        )
        frames = request_texts(args.frames, seed=2)
        seconds = asyncio.run(round_trips(ws, frames))
        print(f"  text frames: {args.frames / seconds:7.0f} answered/s ({args.frames} in {seconds:.1f} s)")
        alive = processes[0].poll() is None
        failures = log.read_text().count("_failed")
        answer = peers.ping(ws)
        print(
            f"  crashes: {0 if alive else 1}, failed messages logged: {failures}, PING afterwards: {answer.result.name}"
        )

        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
            script.write(ECHO_SERVER)
        echo = subprocess.Popen([sys.executable, script.name, str(echo_port)], stdout=subprocess.PIPE, text=True)
        processes.append(echo)
        echo.stdout.readline()
        ping = text.encode_request(text.Request("PING", "b1"))
        ours = asyncio.run(round_trips(ws, [ping] * args.pings))
        bare = asyncio.run(round_trips(f"ws://127.0.0.1:{echo_port}", [ping] * args.pings))
        ratio = bare / ours
        print(
            f"  PING: {args.pings / ours:7.0f} round trips/s; bare websockets echo: {args.pings / bare:7.0f}/s; "
            f"ratio {ratio:.0%} (target >= {RATIO_TARGET:.0%}: {'yes' if ratio >= RATIO_TARGET else 'NO'})"
        )
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        from django.db import connections

        connections.close_all()
        admin_sql(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
