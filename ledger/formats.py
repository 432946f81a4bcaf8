"""The pipe formats of the books, in one place: entries, public records, receipts, states.

Pure functions of strings (no Django), so ``ledger.offline`` verifies downloads with them too.

    entry    TYPE|UTC|SOURCE|DESTINATION|AMOUNT|LEDGER_HASH|RECEIPT_ID|RECEIPT_HASH
    record   TYPE|UTC|RECEIPT_ID|AMOUNT|LEDGER_HASH|RECEIPT_HASH
    receipt  UTC|SOURCE|DESTINATION|AMOUNT|LEDGER_HASH|RECEIPT_ID   (LEDGER_HASH: the chain before it)

``LEDGER_HASH = SHA256(previous LEDGER_HASH || entry without its LEDGER_HASH field)``; the first
entry chains to ``GENESIS``. ``RECEIPT_HASH = SHA256(receipt "\\n" member_signature "\\n"
server_signature)`` with the signatures in hex. AMOUNT has 6 decimal places.
"""

import hashlib
import re
from datetime import UTC, datetime
from typing import NamedTuple

GENESIS = "0" * 64
MICRO = 1_000_000


class Entry(NamedTuple):
    type: str
    utc: str
    source: str
    destination: str
    amount: str
    ledger_hash: str
    receipt_id: int
    receipt_hash: str

    def line(self) -> str:
        return "|".join(map(str, self))

    def record(self) -> str:
        return f"{self.type}|{self.utc}|{self.receipt_id}|{self.amount}|{self.ledger_hash}|{self.receipt_hash}"

    def receipt(self, previous_hash: str) -> str:
        return receipt_text(self.utc, self.source, self.destination, self.amount, previous_hash, self.receipt_id)


def receipt_text(
    utc: str, source: str, destination: str, amount: str, previous_hash: str, receipt_id: int | str
) -> str:
    return f"{utc}|{source}|{destination}|{amount}|{previous_hash}|{receipt_id}"


def parse_entry(line: str) -> Entry:
    """An entry from its line; raises ValueError when it is not one."""
    fields = _fields(line, 8, "entry")
    return Entry(*fields[:6], _receipt_id(fields[6]), fields[7])


class Record(NamedTuple):
    type: str
    utc: str
    receipt_id: int
    amount: str
    ledger_hash: str
    receipt_hash: str


class Receipt(NamedTuple):
    utc: str
    source: str
    destination: str
    amount: str
    ledger_hash: str
    receipt_id: int


def _fields(text: str, count: int, what: str) -> list[str]:
    fields = text.split("|")
    if len(fields) != count:
        raise ValueError(f"a {what} has {count} fields, this has {len(fields)}")
    return fields


def _receipt_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"not a receipt id: {text!r}")
    return int(text)


def parse_record(line: str) -> Record:
    """A public record from its line; raises ValueError when it is not one."""
    fields = _fields(line, 6, "record")
    return Record(fields[0], fields[1], _receipt_id(fields[2]), *fields[3:])


def parse_receipt(text: str) -> Receipt:
    """A receipt from its text; raises ValueError when it is not one."""
    fields = _fields(text, 6, "receipt")
    amount_micro(fields[3])
    return Receipt(*fields[:5], _receipt_id(fields[5]))


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def amount_text(micro: int) -> str:
    sign = "-" if micro < 0 else ""
    whole, fraction = divmod(abs(micro), MICRO)
    return f"{sign}{whole}.{fraction:06d}"


_AMOUNT = re.compile(r"-?[0-9]+\.[0-9]{6}")


def amount_micro(text: str) -> int:
    """The micro-units of an amount with exactly 6 places ("-12.500000" -> -12500000)."""
    if _AMOUNT.fullmatch(text) is None:
        raise ValueError(f"not an amount with 6 places: {text!r}")
    return int(text.replace(".", "", 1))


def chain_input(
    previous_hash: str,
    type_: str,
    utc: str,
    source: str,
    destination: str,
    amount: str,
    receipt_id: int | str,
    receipt_hash: str,
) -> bytes:
    """What an entry's LEDGER_HASH is the SHA-256 of."""
    return (
        bytes.fromhex(previous_hash)
        + f"{type_}|{utc}|{source}|{destination}|{amount}|{receipt_id}|{receipt_hash}".encode()
    )


def chain_hash(*entry_fields) -> str:
    """``chain_hash(previous_hash, type, utc, source, destination, amount, receipt_id, receipt_hash)``."""
    return hashlib.sha256(chain_input(*entry_fields)).hexdigest()


def receipt_input(receipt: str, member_signature: bytes, server_signature: bytes) -> bytes:
    """What RECEIPT_HASH is the SHA-256 of: the receipt and its two signatures in hex."""
    return f"{receipt}\n{member_signature.hex()}\n{server_signature.hex()}".encode()


def receipt_hash(receipt: str, member_signature: bytes, server_signature: bytes) -> str:
    return hashlib.sha256(receipt_input(receipt, member_signature, server_signature)).hexdigest()


def server_signed_bytes(receipt: str, member_signature: bytes) -> bytes:
    """What the server signs: the receipt as the member signed it, with the member's signature."""
    return receipt.encode() + b"\n" + member_signature


# --- states: the balance of every trustline, as archives snapshot it ------------------------------

State = dict[tuple[str, str], int]  # (first, second) in name order -> what second owes first


def state_move(state: State, source: str, destination: str, amount: int) -> None:
    """Replay one movement: ``source`` pays ``destination`` over their line."""
    if source < destination:
        state[(source, destination)] = state.get((source, destination), 0) - amount
    else:
        state[(destination, source)] = state.get((destination, source), 0) + amount


def state_text(state: State) -> str:
    """``FIRST~SECOND:AMOUNT,...`` in name order, lines at zero left out."""
    return ",".join(f"{a}~{b}:{amount_text(v)}" for (a, b), v in sorted(state.items()) if v)


def parse_state(text: str) -> State:
    state: State = {}
    for item in filter(None, text.split(",")):
        pair, _, amount = item.rpartition(":")
        first, _, second = pair.partition("~")
        state[(first, second)] = amount_micro(amount)
    return state


def merkle_root(leaves: list[bytes]) -> str:
    """SHA-256 merkle root over leaf hashes (the last of an odd level is paired with itself).

    An archive's leaves are its entries' ledger hashes: each already commits to its entry's line.
    """
    if not leaves:
        return GENESIS
    level = leaves
    while len(level) > 1:
        if len(level) % 2:
            level = [*level, level[-1]]
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0].hex()
