"""The UDP datagrams of the Resilience protocol (seed: resilience-trust-payments.txt), encoded and decoded.

A pure codec: no Django, no database, no sockets. Two authenticated layouts, after the seed::

    peer (ACCOUNT 0x00, COUNTERPART 0x02):
        [1] session_type [32] recipient_username [32] sender_username [32] sender_server
        [4] counter [1] command [N] arguments [32] signature
    user (USER 0x04):
        [1] session_type [4] counter [1] command [N] arguments [32] signature

The arguments of each command are laid out by PEER_LAYOUTS and USER_LAYOUTS, the seed's command tables, which
drive both the encoder and the decoder. Every multi-byte integer is big-endian (network order): the header
counter is unsigned 32-bit, an argument ``counter`` unsigned 64-bit, and an amount (``amount``, ``tax``, ``fee``,
``limit``, integer micro-units) at most 2**63 - 1, the largest the database holds. Names are UTF-8, 1 to 32 bytes,
right-padded with zero bytes; a name that does not fit raises NameTooLong, it is never truncated.

The signature is HMAC-SHA256(key, every byte before it), where the seed has sha256(msg + key): a plain hash of
message and key is not a MAC one can rely on, HMAC is. A key is exactly KEY_SIZE (32) bytes, as the seed's
``key[32]``: HMAC pads a shorter key with zero bytes, so with keys of any length, a key and the same key followed by
a zero byte would sign alike. ``decode`` checks only the layout; the listener looks up the pair key from the decoded
(recipient, sender, sender_server), then calls ``authentic`` on the same bytes.

Our extension, NOTICE 0x06 ``[1] 0x06 [1] status [N] message`` (UTF-8, at most 200 bytes), is the unauthenticated
refusal a listener sends back when it cannot answer with a MAC: a malformed datagram, an unknown account, a bad
signature. A receiver never acts on a notice, it only logs it, so anyone may forge one and do no harm.
"""

import hmac
import struct
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TypeVar

MAX_DATAGRAM = 1200
NAME_SIZE = 32
SIGNATURE_SIZE = 32
KEY_SIZE = 32
MAX_AMOUNT = 2**63 - 1
MAX_NOTICE_MESSAGE = 200

# struct's "32s" right-pads a shorter name with zero bytes.
_PEER_HEADER = struct.Struct(">B32s32s32sIB")
_USER_HEADER = struct.Struct(">BIB")
_MAX_COUNTER = 2**32 - 1


class Session(IntEnum):
    ACCOUNT = 0x00
    COUNTERPART = 0x02
    USER = 0x04
    NOTICE = 0x06


class PeerCommand(IntEnum):
    FIND_PATH = 0x00
    PATH_RECURSE = 0x01
    PATH_FOUND = 0x02
    PREPARE_PATH = 0x03
    COMMIT_PAYMENT = 0x04
    SEAL_PAYMENT = 0x05
    FINALIZE_PAYMENT = 0x06
    CANCEL_PAYMENT = 0x07
    CLEANUP_PAYMENT = 0x08
    ACK_PREIMAGE = 0x09
    SYNC_PAYMENT = 0x0A
    ACK_SYNC = 0x0B
    VERIFY_COMMIT = 0x0C
    ACK_COMMIT = 0x0D
    DIRECT_PAYMENT = 0x0E
    ACK_PAYMENT = 0x0F
    SYNC_TRUSTLINE = 0x10
    ACK_TRUSTLINE = 0x11
    DIRECT_TRANSFER = 0x12
    ACK_TRANSFER = 0x13


class UserCommand(IntEnum):
    NEW_PAYMENT = 0x00
    START_PAYMENT = 0x01
    FIND_PATH = 0x02
    COMMIT_PAYMENT = 0x03
    SEAL_PAYMENT = 0x04


class Status(IntEnum):
    """The one-byte status of an ACK_COMMIT or ACK_PAYMENT, and of a notice."""

    OK = 0
    MALFORMED = 1
    TOO_LARGE = 2
    UNKNOWN_SESSION = 3
    UNKNOWN_COMMAND = 4
    BAD_SIGNATURE = 5
    REPLAYED = 6
    UNKNOWN_ACCOUNT = 7
    UNKNOWN_SERVER = 8
    NOT_SUPPORTED = 9
    RATE_LIMITED = 10
    REFUSED = 11
    PENDING = 12
    INSUFFICIENT = 13


DESCRIPTIONS: dict[Status, str] = {
    Status.OK: "accepted",
    Status.MALFORMED: "the datagram does not follow its layout",
    Status.TOO_LARGE: f"the datagram is over {MAX_DATAGRAM} bytes",
    Status.UNKNOWN_SESSION: "unknown session type",
    Status.UNKNOWN_COMMAND: "unknown command",
    Status.BAD_SIGNATURE: "the signature does not match",
    Status.REPLAYED: "the counter was already used",
    Status.UNKNOWN_ACCOUNT: "no such account here",
    Status.UNKNOWN_SERVER: "no key shared with that server",
    Status.NOT_SUPPORTED: "understood but not supported",
    Status.RATE_LIMITED: "too many datagrams, try again later",
    Status.REFUSED: "understood and declined",
    Status.PENDING: "not settled yet, ask again later",
    Status.INSUFFICIENT: "the trustlines here cannot carry the amount",
}


class DatagramError(Exception):
    """Bytes that are not a datagram; ``status`` says why, the message (under 200 bytes) in words."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def notice(self) -> "Notice":
        """The notice that refuses the datagram."""
        return Notice(self.status, self.message)


class NameTooLong(ValueError):
    """A username or server name over 32 UTF-8 bytes, which the protocol cannot carry."""


class Kind(StrEnum):
    RAW = "raw"  # bytes as they are
    UNSIGNED = "unsigned"  # an unsigned integer of the field's size
    AMOUNT = "amount"  # an unsigned integer of at most MAX_AMOUNT
    FLAG = "flag"  # 0 or 1


@dataclass(frozen=True)
class Field:
    name: str
    size: int
    kind: Kind

    @property
    def maximum(self) -> int:
        """The largest value of an integer field."""
        return {Kind.AMOUNT: MAX_AMOUNT, Kind.FLAG: 1}.get(self.kind, 2 ** (8 * self.size) - 1)

    def pack(self, value: int | bytes) -> bytes:
        if self.kind is Kind.RAW:
            if not isinstance(value, bytes) or len(value) != self.size:
                raise ValueError(f"{self.name} must be {self.size} bytes")
            return value
        if not isinstance(value, int) or not 0 <= value <= self.maximum:
            raise ValueError(f"{self.name} must be an integer from 0 to {self.maximum}")
        return value.to_bytes(self.size, "big")

    def unpack(self, raw: bytes) -> int | bytes:
        if self.kind is Kind.RAW:
            return raw
        value = int.from_bytes(raw, "big")
        if value > self.maximum:
            raise DatagramError(Status.MALFORMED, f"{self.name} {value} is over {self.maximum}")
        return value


_FIELDS = {
    spec.name: spec
    for spec in (
        Field("id", 32, Kind.RAW),
        Field("preimage", 32, Kind.RAW),
        *(Field(name, 8, Kind.AMOUNT) for name in ("amount", "tax", "fee", "limit")),
        Field("counter", 8, Kind.UNSIGNED),
        Field("deadline", 8, Kind.UNSIGNED),
        Field("in_or_out", 1, Kind.FLAG),
        *(Field(name, 1, Kind.UNSIGNED) for name in ("hops", "gas", "depth", "status", "type")),
    )
}


def _layout(*names: str) -> tuple[Field, ...]:
    return tuple(_FIELDS[name] for name in names)


PEER_LAYOUTS: dict[PeerCommand, tuple[Field, ...]] = {
    PeerCommand.FIND_PATH: _layout("id", "amount", "tax", "in_or_out", "fee", "hops", "gas"),
    PeerCommand.PATH_RECURSE: _layout("id", "depth"),
    PeerCommand.PATH_FOUND: _layout("id", "hops"),
    PeerCommand.PREPARE_PATH: _layout("id", "deadline"),  # our extension: the hold's deadline, Unix seconds
    PeerCommand.COMMIT_PAYMENT: _layout("id"),
    PeerCommand.SEAL_PAYMENT: _layout("id"),
    PeerCommand.FINALIZE_PAYMENT: _layout("preimage"),
    PeerCommand.CANCEL_PAYMENT: _layout("preimage"),
    PeerCommand.CLEANUP_PAYMENT: _layout("id"),
    PeerCommand.ACK_PREIMAGE: _layout("id"),
    PeerCommand.SYNC_PAYMENT: _layout("id", "amount"),
    PeerCommand.ACK_SYNC: _layout("id"),
    PeerCommand.VERIFY_COMMIT: _layout("id"),
    PeerCommand.ACK_COMMIT: _layout("id", "status"),
    PeerCommand.DIRECT_PAYMENT: _layout("amount", "tax", "counter"),
    PeerCommand.ACK_PAYMENT: _layout("counter", "status"),
    PeerCommand.SYNC_TRUSTLINE: _layout("limit"),
    PeerCommand.ACK_TRUSTLINE: _layout("limit"),
    PeerCommand.DIRECT_TRANSFER: _layout("amount", "counter", "type"),
    PeerCommand.ACK_TRANSFER: _layout("counter"),
}

USER_LAYOUTS: dict[UserCommand, tuple[Field, ...]] = {
    UserCommand.NEW_PAYMENT: _layout("amount", "fee", "tax"),
    UserCommand.START_PAYMENT: (),
    UserCommand.FIND_PATH: (),
    UserCommand.COMMIT_PAYMENT: (),
    UserCommand.SEAL_PAYMENT: (),
}

Arguments = dict[str, int | bytes]


@dataclass(frozen=True)
class PeerDatagram:
    """A datagram between two accounts (ACCOUNT) or two payment endpoints (COUNTERPART)."""

    session: Session
    recipient: str
    sender: str
    sender_server: str
    counter: int
    command: PeerCommand
    arguments: Arguments = field(hash=False)


@dataclass(frozen=True)
class UserDatagram:
    """A client's command to its own Resilience process."""

    counter: int
    command: UserCommand
    arguments: Arguments = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Notice:
    """An unauthenticated refusal, to be logged and never acted upon."""

    status: Status
    message: str


def fits(name: str) -> bool:
    """Whether a username or server name can travel: 1 to 32 UTF-8 bytes, no zero byte."""
    try:
        _encode_name(name)
    except ValueError:
        return False
    return True


def encode(datagram: PeerDatagram | UserDatagram, key: bytes) -> bytes:
    """The datagram's bytes, signed with ``key``; ValueError (NameTooLong for a name) if it cannot be sent."""
    if len(key) != KEY_SIZE:
        raise ValueError(f"a key is {KEY_SIZE} bytes, not {len(key)}")
    if not isinstance(datagram.counter, int) or not 0 <= datagram.counter <= _MAX_COUNTER:
        raise ValueError(f"the counter must be an integer from 0 to {_MAX_COUNTER}")
    if isinstance(datagram, PeerDatagram):
        if datagram.session not in (Session.ACCOUNT, Session.COUNTERPART):
            raise ValueError(f"a peer datagram cannot have session {datagram.session!r}")
        command = PeerCommand(datagram.command)
        names = (_encode_name(name) for name in (datagram.recipient, datagram.sender, datagram.sender_server))
        header = _PEER_HEADER.pack(datagram.session, *names, datagram.counter, command)
        layout = PEER_LAYOUTS[command]
    else:
        command = UserCommand(datagram.command)
        header = _USER_HEADER.pack(Session.USER, datagram.counter, command)
        layout = USER_LAYOUTS[command]
    expected = [spec.name for spec in layout]
    if set(datagram.arguments) != set(expected):
        raise ValueError(f"{command.name} takes the arguments {expected}, not {sorted(datagram.arguments)}")
    body = header + b"".join(spec.pack(datagram.arguments[spec.name]) for spec in layout)
    return body + _signature(key, body)


def encode_notice(notice: Notice) -> bytes:
    message = notice.message.encode()
    if len(message) > MAX_NOTICE_MESSAGE:
        raise ValueError(f"a notice message is at most {MAX_NOTICE_MESSAGE} UTF-8 bytes")
    return bytes((Session.NOTICE, Status(notice.status))) + message


def decode(data: bytes) -> PeerDatagram | UserDatagram | Notice:
    """The datagram in ``data``, its layout checked but not its signature; DatagramError, and nothing else, if
    ``data`` is not one."""
    if len(data) > MAX_DATAGRAM:
        raise DatagramError(Status.TOO_LARGE, f"{len(data)} bytes, over {MAX_DATAGRAM}")
    if not data:
        raise DatagramError(Status.MALFORMED, "empty datagram")
    session = _member(Session, data[0], Status.UNKNOWN_SESSION, "session type")
    if session is Session.NOTICE:
        return _decode_notice(data)
    header = _USER_HEADER if session is Session.USER else _PEER_HEADER
    if len(data) < header.size + SIGNATURE_SIZE:
        raise DatagramError(Status.MALFORMED, f"{len(data)} bytes, too short for a {session.name} datagram")
    commands, layouts = (UserCommand, USER_LAYOUTS) if session is Session.USER else (PeerCommand, PEER_LAYOUTS)
    command = _member(commands, data[header.size - 1], Status.UNKNOWN_COMMAND, "command")
    layout = layouts[command]
    size = header.size + sum(spec.size for spec in layout) + SIGNATURE_SIZE
    if len(data) != size:
        raise DatagramError(Status.MALFORMED, f"{command.name} datagram of {len(data)} bytes, not {size}")
    arguments: Arguments = {}
    offset = header.size
    for spec in layout:
        arguments[spec.name] = spec.unpack(data[offset : offset + spec.size])
        offset += spec.size
    if session is Session.USER:
        _, counter, _ = header.unpack_from(data)
        return UserDatagram(counter, command, arguments)
    _, recipient, sender, sender_server, counter, _ = header.unpack_from(data)
    return PeerDatagram(
        session,
        _decode_name(recipient, "recipient"),
        _decode_name(sender, "sender"),
        _decode_name(sender_server, "sender server"),
        counter,
        command,
        arguments,
    )


def authentic(data: bytes, key: bytes) -> bool:
    """Whether the signature at the end of ``data`` is ``key``'s, in constant time; never for a notice or for a
    key that is not KEY_SIZE bytes."""
    if len(key) != KEY_SIZE or len(data) <= SIGNATURE_SIZE or data[0] == Session.NOTICE:
        return False
    return hmac.compare_digest(_signature(key, data[:-SIGNATURE_SIZE]), data[-SIGNATURE_SIZE:])


def _signature(key: bytes, body: bytes) -> bytes:
    return hmac.digest(key, body, "sha256")


def _encode_name(name: str) -> bytes:
    raw = name.encode()
    if len(raw) > NAME_SIZE:
        raise NameTooLong(f"{name!r} is {len(raw)} bytes in UTF-8, over {NAME_SIZE}")
    if not raw or b"\0" in raw:
        raise ValueError(f"{name!r} is empty or has a zero byte")
    return raw


def _decode_name(raw: bytes, what: str) -> str:
    name, _, padding = raw.partition(b"\0")
    if not name:
        raise DatagramError(Status.MALFORMED, f"empty {what}")
    if any(padding):
        raise DatagramError(Status.MALFORMED, f"{what} has bytes after its zero padding")
    return _utf8(name, what)


def _decode_notice(data: bytes) -> Notice:
    if len(data) < 2:
        raise DatagramError(Status.MALFORMED, "notice without a status")
    if len(data) - 2 > MAX_NOTICE_MESSAGE:
        raise DatagramError(Status.MALFORMED, f"notice message over {MAX_NOTICE_MESSAGE} bytes")
    status = _member(Status, data[1], Status.MALFORMED, "notice status")
    return Notice(status, _utf8(data[2:], "notice message"))


def _utf8(raw: bytes, what: str) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise DatagramError(Status.MALFORMED, f"{what} is not valid UTF-8") from None


E = TypeVar("E", bound=IntEnum)


def _member(enum: type[E], value: int, status: Status, what: str) -> E:
    try:
        return enum(value)
    except ValueError:
        raise DatagramError(status, f"unknown {what} 0x{value:02x}") from None
