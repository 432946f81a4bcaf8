"""A lossy UDP proxy in front of one listener, for the federation fault tests.

Peers reach the listener through it (the instance advertises the proxy's port, ``PEER_PUBLIC_UDP``), and its
answers go back through it. Each datagram, either way, may be dropped, sent twice, or held back and sent after
the next one; datagrams of a command can be held until released, so a test stops a payment at a step.
"""

import random
import socket
import threading
import time
from dataclasses import dataclass, field

COMMAND_OFFSET = 101  # a peer datagram's command byte: after [1] session [32] [32] [32] names [4] counter
PEER_SESSIONS = (0x00, 0x02)


def command_of(data: bytes) -> int | None:
    if len(data) > COMMAND_OFFSET and data[0] in PEER_SESSIONS:
        return data[COMMAND_OFFSET]
    return None


@dataclass
class Faults:
    drop: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0


@dataclass
class LossyProxy:
    target: tuple[str, int]
    faults: Faults = field(default_factory=Faults)
    seed: int = 0

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.front.settimeout(0.1)
        self.backs: dict[tuple, socket.socket] = {}
        self.holding: set[int] = set()
        self.held: list[tuple[bytes, socket.socket, tuple]] = []
        self.delayed: list[tuple[float, bytes, socket.socket, tuple]] = []
        self.lock = threading.Lock()
        self.running = True
        self.counts = {"passed": 0, "dropped": 0, "duplicated": 0, "reordered": 0}
        self.threads = [threading.Thread(target=self._serve_front, daemon=True)]
        self.threads[0].start()

    @property
    def port(self) -> int:
        return self.front.getsockname()[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def hold(self, command: int) -> None:
        """Hold every datagram of ``command`` (either way) until ``release``."""
        with self.lock:
            self.holding.add(command)

    def held_commands(self) -> set[int]:
        with self.lock:
            return {command_of(data) for data, _, _ in self.held}

    def release(self) -> None:
        """Stop holding and deliver what was held, each distinct datagram once."""
        with self.lock:
            self.holding.clear()
            held, self.held = self.held, []
        seen = set()
        for data, out, destination in held:
            if data not in seen:
                seen.add(data)
                out.sendto(data, destination)

    def stop(self) -> None:
        self.running = False
        for thread in self.threads:
            thread.join(timeout=2)
        self.front.close()
        for back in self.backs.values():
            back.close()

    def _serve_front(self) -> None:
        while self.running:
            self._flush_delayed()
            try:
                data, client = self.front.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            back = self._back_for(client)
            self._forward(data, back, self.target)

    def _back_for(self, client: tuple) -> socket.socket:
        with self.lock:
            back = self.backs.get(client)
            if back is None:
                back = self.backs[client] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                back.bind(("127.0.0.1", 0))
                back.settimeout(0.1)
                thread = threading.Thread(target=self._serve_back, args=(back, client), daemon=True)
                self.threads.append(thread)
                thread.start()
        return back

    def _serve_back(self, back: socket.socket, client: tuple) -> None:
        while self.running:
            try:
                data, _ = back.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            self._forward(data, self.front, client)

    def _forward(self, data: bytes, out: socket.socket, destination: tuple) -> None:
        with self.lock:
            if command_of(data) in self.holding:
                self.held.append((data, out, destination))
                return
            roll = self.random.random()
            faults = self.faults
            if roll < faults.drop:
                self.counts["dropped"] += 1
                return
            if roll < faults.drop + faults.reorder:
                self.counts["reordered"] += 1
                self.delayed.append((time.monotonic() + 0.05 + self.random.random() * 0.2, data, out, destination))
                return
            copies = 2 if roll < faults.drop + faults.reorder + faults.duplicate else 1
            self.counts["duplicated" if copies == 2 else "passed"] += 1
        for _ in range(copies):
            out.sendto(data, destination)

    def _flush_delayed(self) -> None:
        now = time.monotonic()
        with self.lock:
            due = [item for item in self.delayed if item[0] <= now]
            self.delayed = [item for item in self.delayed if item[0] > now]
        for _, data, out, destination in due:
            out.sendto(data, destination)
