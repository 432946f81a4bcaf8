"""PoW benchmark: the Python reference solver's hash rate against raw hashlib SHA-256 (no database).

    .venv/bin/python bench/pow.py [--seconds 2 --rounds 3 --seeds 9 --bits 20 --proofs 20000]

Raw: ``hashlib.sha256(challenge + nonce.to_bytes(8, "big")).digest()`` in a plain loop, the same
40-byte inputs the solver hashes. Solver: ``identity.pow.solve`` at a difficulty it will not meet,
stopped through its progress callback. The two alternate for ``--rounds`` rounds; the best of each
is kept, so a noisy neighbour costs both alike.
"""

import argparse
import hashlib
import math
import ssl
import statistics
import sys
import time
from contextlib import suppress

from common import ROOT

sys.path.insert(0, str(ROOT))

from identity import pow

RATIO_TARGET = 0.70
PUBLIC_KEY = bytes.fromhex("02" + "5a" * 32)


class Stop(Exception):
    pass


def seed(number: int) -> bytes:
    return hashlib.sha256(f"bench-pow-{number}".encode()).digest()[: pow.SEED_BYTES]


def raw_rate(challenge: bytes, seconds: float) -> float:
    """Hashes per second of the plain loop, over whole chunks of 65,536 nonces."""
    sha, done, started = hashlib.sha256, 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for nonce in range(done, done + 65_536):
            sha(challenge + nonce.to_bytes(8, "big")).digest()
        done += 65_536
    return done / (time.perf_counter() - started)


def solver_rate(challenge: bytes, seconds: float) -> float:
    tried, started = 0, time.perf_counter()

    def progress(count: int) -> None:
        nonlocal tried
        tried = count
        if time.perf_counter() - started >= seconds:
            raise Stop

    with suppress(Stop):
        pow.solve(challenge, 64, progress=progress)  # a 64-bit proof: one in 1.8e19 nonces
    return tried / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per rate measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=9, help="registration proofs to solve")
    parser.add_argument("--bits", type=int, default=pow.REGISTRATION_BITS)
    parser.add_argument("--proofs", type=int, default=20_000, help="verifications timed")
    args = parser.parse_args()
    print(f"PoW benchmark (Python {sys.version.split()[0]}, hashlib on {ssl.OPENSSL_VERSION})")

    challenge = pow.challenge_for(PUBLIC_KEY, seed(0))
    raw, solver = 0.0, 0.0
    for _ in range(args.rounds):
        raw = max(raw, raw_rate(challenge, args.seconds))
        solver = max(solver, solver_rate(challenge, args.seconds))
    ratio = solver / raw
    best = f"best of {args.rounds} x {args.seconds} s"
    print(f"  raw hashlib sha256, 40-byte inputs: {raw / 1e6:6.3f} M hashes/s ({best})")
    print(f"  solver (identity.pow.solve):        {solver / 1e6:6.3f} M hashes/s")
    print(f"  ratio: {ratio:.0%} (target >= {RATIO_TARGET:.0%}: {'yes' if ratio >= RATIO_TARGET else 'NO'})")

    solved = []
    for number in range(args.seeds):
        target = pow.challenge_for(PUBLIC_KEY, seed(number + 1))
        started = time.perf_counter()
        nonce = pow.solve(target, args.bits)
        solved.append((time.perf_counter() - started, nonce + 1, target, nonce))
    seconds = [s for s, *_ in solved]
    tries = [t for _, t, *_ in solved]
    print(
        f"  {args.bits}-bit registration proof, {args.seeds} seeds: median {statistics.median(seconds):.2f} s "
        f"(min {min(seconds):.2f}, max {max(seconds):.2f}); median {statistics.median(tries):,.0f} nonces tried "
        f"(expected: mean {2**args.bits:,}, median {math.log(2) * 2**args.bits:,.0f})"
    )

    pairs = [(target, nonce) for *_, target, nonce in solved] * (args.proofs // max(1, len(solved)) + 1)
    pairs = pairs[: args.proofs]
    started = time.perf_counter()
    accepted = sum(pow.proof_valid(target, nonce, args.bits) for target, nonce in pairs)
    each = (time.perf_counter() - started) / len(pairs)
    assert accepted == len(pairs)
    print(
        f"  verification: {each * 1e6:.2f} µs per proof ({len(pairs)} proofs, all accepted); "
        f"one raw hash {1e6 / raw:.2f} µs"
    )


if __name__ == "__main__":
    main()
