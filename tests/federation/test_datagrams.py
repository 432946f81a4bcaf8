"""The Resilience datagrams: round trips, the seed's byte layout, and refusal of anything else."""

import hashlib
import hmac
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from federation.protocols.datagrams import (
    MAX_DATAGRAM,
    PEER_LAYOUTS,
    USER_LAYOUTS,
    DatagramError,
    Field,
    Kind,
    NameTooLong,
    Notice,
    PeerCommand,
    PeerDatagram,
    Session,
    Status,
    UserCommand,
    UserDatagram,
    authentic,
    decode,
    encode,
    encode_notice,
    fits,
)

KEY = bytes(range(32))

# The seed's command tables, as the seed writes them.
SEED_PEER_COMMANDS = """
0x00 FIND_PATH [32]id [8]amount [8]tax [1]in_or_out [8]fee [1]hops [1]gas
0x01 PATH_RECURSE [32]id [1]depth
0x02 PATH_FOUND [32]id [1]hops
0x03 PREPARE_PATH [32]id
0x04 COMMIT_PAYMENT [32]id
0x05 SEAL_PAYMENT [32]id
0x06 FINALIZE_PAYMENT [32]preimage
0x07 CANCEL_PAYMENT [32]preimage
0x08 CLEANUP_PAYMENT [32]id
0x09 ACK_PREIMAGE [32]id
0x0A SYNC_PAYMENT [32]id [8]amount
0x0B ACK_SYNC [32]id
0x0C VERIFY_COMMIT [32]id
0x0D ACK_COMMIT [32]id [1]status
0x0E DIRECT_PAYMENT [8]amount [8]tax [8]counter
0x0F ACK_PAYMENT [8]counter [1]status
0x10 SYNC_TRUSTLINE [8]limit
0x11 ACK_TRUSTLINE [8]limit
0x12 DIRECT_TRANSFER [8]amount [8]counter [1]type
0x13 ACK_TRANSFER [8]counter
"""
SEED_USER_COMMANDS = """
0x00 NEW_PAYMENT [8]amount [8]fee [8]tax
0x01 START_PAYMENT
0x02 FIND_PATH
0x03 COMMIT_PAYMENT
0x04 SEAL_PAYMENT
"""


def seed_table(text: str) -> dict[tuple[int, str], list[tuple[str, int]]]:
    """(code, name) -> [(field, size), ...] of lines like ``0x0B ACK_SYNC [32]id``."""
    table = {}
    for line in text.strip().splitlines():
        code, name, *_ = line.split()
        table[int(code, 16), name] = [(field, int(size)) for size, field in re.findall(r"\[(\d+)\](\w+)", line)]
    return table


def layout_table(layouts: dict) -> dict[tuple[int, str], list[tuple[str, int]]]:
    return {(command.value, command.name): [(f.name, f.size) for f in layout] for command, layout in layouts.items()}


# Ours beyond the seed: PREPARE_PATH carries the deadline of the hold it asks for (docs/federation.md).
EXTENSIONS = {(0x03, "PREPARE_PATH"): [("id", 32), ("deadline", 8)]}


def test_the_layouts_are_the_seeds():
    assert layout_table(PEER_LAYOUTS) == {**seed_table(SEED_PEER_COMMANDS), **EXTENSIONS}
    assert layout_table(USER_LAYOUTS) == seed_table(SEED_USER_COMMANDS)
    assert [s.value for s in Session] == [0x00, 0x02, 0x04, 0x06]


def clip(name: str) -> str:
    """The longest prefix of ``name`` that is at most 32 UTF-8 bytes."""
    while len(name.encode()) > 32:
        name = name[:-1]
    return name


names = st.text(st.characters(codec="utf-8", exclude_characters="\0"), min_size=1, max_size=32).map(clip)
keys = st.binary(min_size=32, max_size=32)


def values(field: Field) -> st.SearchStrategy[int | bytes]:
    if field.kind is Kind.RAW:
        return st.binary(min_size=field.size, max_size=field.size)
    return st.integers(0, field.maximum)


def arguments(layout: tuple[Field, ...]) -> st.SearchStrategy[dict[str, int | bytes]]:
    return st.fixed_dictionaries({field.name: values(field) for field in layout})


def peer_datagrams(command: PeerCommand) -> st.SearchStrategy[PeerDatagram]:
    return st.builds(
        PeerDatagram,
        session=st.sampled_from([Session.ACCOUNT, Session.COUNTERPART]),
        recipient=names,
        sender=names,
        sender_server=names,
        counter=st.integers(0, 2**32 - 1),
        command=st.just(command),
        arguments=arguments(PEER_LAYOUTS[command]),
    )


def user_datagrams(command: UserCommand) -> st.SearchStrategy[UserDatagram]:
    return st.builds(
        UserDatagram,
        counter=st.integers(0, 2**32 - 1),
        command=st.just(command),
        arguments=arguments(USER_LAYOUTS[command]),
    )


any_datagram = st.one_of(
    *(peer_datagrams(command) for command in PeerCommand), *(user_datagrams(command) for command in UserCommand)
)
notices = st.builds(
    Notice,
    status=st.sampled_from(Status),
    message=st.text(st.characters(codec="utf-8"), max_size=200).filter(lambda m: len(m.encode()) <= 200),
)


@pytest.mark.parametrize("command", list(PeerCommand))
@settings(max_examples=25)
@given(data=st.data(), key=keys)
def test_peer_datagrams_round_trip(command, data, key):
    datagram = data.draw(peer_datagrams(command))
    encoded = encode(datagram, key)

    assert decode(encoded) == datagram
    assert authentic(encoded, key)


@pytest.mark.parametrize("command", list(UserCommand))
@settings(max_examples=50)
@given(data=st.data(), key=keys)
def test_user_datagrams_round_trip(command, data, key):
    datagram = data.draw(user_datagrams(command))
    encoded = encode(datagram, key)

    assert decode(encoded) == datagram
    assert authentic(encoded, key)


@settings(max_examples=200)
@given(notice=notices)
def test_notices_round_trip_and_are_never_authentic(notice):
    encoded = encode_notice(notice)

    assert decode(encoded) == notice
    assert not authentic(encoded, KEY)


def padded(name: bytes) -> bytes:
    return name.ljust(32, b"\0")


def test_peer_datagram_layout():
    datagram = PeerDatagram(
        Session.COUNTERPART,
        "alice",
        "zoë",
        "bank.example",
        0x01020304,
        PeerCommand.DIRECT_PAYMENT,
        {"amount": 5_000_000, "tax": 0x0A0B, "counter": 2**40 + 7},
    )
    encoded = encode(datagram, KEY)

    assert len(encoded) == 1 + 32 + 32 + 32 + 4 + 1 + 24 + 32
    assert encoded[0] == 0x02
    assert encoded[1:33] == padded(b"alice")
    assert encoded[33:65] == padded("zoë".encode())
    assert encoded[65:97] == padded(b"bank.example")
    assert encoded[97:101] == b"\x01\x02\x03\x04"
    assert encoded[101] == 0x0E
    assert encoded[102:110] == b"\x00\x00\x00\x00\x00\x4c\x4b\x40"
    assert encoded[110:118] == b"\x00\x00\x00\x00\x00\x00\x0a\x0b"
    assert encoded[118:126] == b"\x00\x00\x01\x00\x00\x00\x00\x07"
    assert encoded[126:] == hmac.new(KEY, encoded[:126], hashlib.sha256).digest()


def test_find_path_layout():
    datagram = PeerDatagram(
        Session.ACCOUNT,
        "a",
        "b",
        "c",
        0,
        PeerCommand.FIND_PATH,
        {"id": b"\x11" * 32, "amount": 1, "tax": 2, "in_or_out": 1, "fee": 3, "hops": 4, "gas": 5},
    )
    encoded = encode(datagram, KEY)

    assert len(encoded) == 102 + 32 + 8 + 8 + 1 + 8 + 1 + 1 + 32
    assert encoded[101] == 0x00
    assert encoded[102:134] == b"\x11" * 32
    assert encoded[134:151] == (1).to_bytes(8, "big") + (2).to_bytes(8, "big") + b"\x01"
    assert encoded[151:161] == (3).to_bytes(8, "big") + b"\x04\x05"


def test_user_datagram_layout():
    encoded = encode(UserDatagram(0xFFFFFFFE, UserCommand.NEW_PAYMENT, {"amount": 1, "fee": 2, "tax": 3}), KEY)

    assert len(encoded) == 1 + 4 + 1 + 24 + 32
    assert encoded[:6] == b"\x04\xff\xff\xff\xfe\x00"
    assert encoded[6:30] == b"".join(n.to_bytes(8, "big") for n in (1, 2, 3))
    assert encoded[30:] == hmac.new(KEY, encoded[:30], hashlib.sha256).digest()

    start = encode(UserDatagram(1, UserCommand.START_PAYMENT), KEY)
    assert start[:6] == b"\x04\x00\x00\x00\x01\x01"
    assert len(start) == 6 + 32


def test_notice_layout():
    assert encode_notice(Notice(Status.BAD_SIGNATURE, "bad signature")) == b"\x06\x05bad signature"


def refused(data: bytes) -> DatagramError:
    with pytest.raises(DatagramError) as caught:
        decode(data)
    return caught.value


@settings(max_examples=500)
@given(
    data=st.one_of(
        st.binary(max_size=1500),
        st.tuples(st.sampled_from(Session), st.binary(max_size=300)).map(lambda t: bytes([t[0]]) + t[1]),
    )
)
def test_any_bytes_decode_or_raise_datagram_error(data):
    try:
        decode(data)
    except DatagramError as error:
        assert isinstance(error.status, Status)
        # A listener may send the refusal back as it is.
        assert decode(encode_notice(error.notice())) == Notice(error.status, error.message)


def flip(data: bytes, index: int, mask: int) -> bytes:
    index %= len(data)
    return data[:index] + bytes([data[index] ^ mask]) + data[index + 1 :]


mutations = st.one_of(
    st.tuples(st.integers(0, 300), st.integers(1, 255)).map(lambda t: lambda d: flip(d, *t)),
    st.tuples(st.integers(0, 300), st.integers(0, 255)).map(
        lambda t: lambda d: d[: t[0] % (len(d) + 1)] + bytes([t[1]]) + d[t[0] % (len(d) + 1) :]
    ),
    st.integers(0, 300).map(lambda i: lambda d: d[: i % len(d)] + d[i % len(d) + 1 :]),
    st.integers(0, 300).map(lambda n: lambda d: d[: n % len(d)]),
)


@settings(max_examples=500)
@given(datagram=any_datagram, key=keys, mutate=mutations)
def test_mutated_datagrams_are_refused_or_not_authentic(datagram, key, mutate):
    encoded = encode(datagram, key)
    mutated = mutate(encoded)
    assert mutated != encoded

    try:
        decode(mutated)
    except DatagramError:
        return
    assert not authentic(mutated, key)


@settings(max_examples=200)
@given(datagram=any_datagram, key=keys, other=keys)
def test_another_key_is_not_authentic(datagram, key, other):
    if other != key:
        assert not authentic(encode(datagram, key), other)


def test_authentic_needs_a_key_and_a_signature():
    encoded = encode(UserDatagram(1, UserCommand.SEAL_PAYMENT), KEY)

    assert authentic(encoded, KEY)
    assert not authentic(encoded[-32:], KEY)
    assert not authentic(b"", KEY)


@pytest.mark.parametrize("key", [b"", KEY[:31], KEY + b"\0", KEY * 3], ids=["empty", "short", "zero byte more", "long"])
def test_keys_are_32_bytes(key):
    # HMAC pads a key shorter than its block with zero bytes: KEY and KEY + b"\0" would sign alike.
    assert not authentic(encode(UserDatagram(1, UserCommand.SEAL_PAYMENT), KEY), key)
    with pytest.raises(ValueError):
        encode(UserDatagram(1, UserCommand.SEAL_PAYMENT), key)


def peer(command: PeerCommand = PeerCommand.PREPARE_PATH, **arguments: int | bytes) -> bytes:
    arguments = arguments or {"id": bytes(32), "deadline": 0}
    return encode(PeerDatagram(Session.ACCOUNT, "alice", "bob", "bank.example", 7, command, arguments), KEY)


def replace(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


def test_too_large_is_checked_first():
    assert refused(bytes(MAX_DATAGRAM + 1)).status is Status.TOO_LARGE
    assert refused(b"\xff" * (MAX_DATAGRAM + 1)).status is Status.TOO_LARGE
    assert refused(b"\x06\x00" + b"a" * (MAX_DATAGRAM - 1)).status is Status.TOO_LARGE


@pytest.mark.parametrize("session", [0x01, 0x03, 0x05, 0x07, 0xFF])
def test_unknown_session(session):
    assert refused(replace(peer(), 0, bytes([session]))).status is Status.UNKNOWN_SESSION


def test_unknown_command():
    assert refused(replace(peer(), 101, b"\x14")).status is Status.UNKNOWN_COMMAND
    user = encode(UserDatagram(1, UserCommand.START_PAYMENT), KEY)
    assert refused(replace(user, 5, b"\x05")).status is Status.UNKNOWN_COMMAND


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        peer()[:-1],
        peer() + b"\x00",
        peer()[:101],
        encode(UserDatagram(1, UserCommand.NEW_PAYMENT, {"amount": 1, "fee": 0, "tax": 0}), KEY)[:-1],
        encode(UserDatagram(1, UserCommand.START_PAYMENT), KEY) + b"\x00",
        b"\x06",
    ],
    ids=[
        "empty",
        "session only",
        "truncated",
        "extended",
        "header only",
        "user truncated",
        "user extended",
        "notice without status",
    ],
)
def test_wrong_length_is_malformed(data):
    assert refused(data).status is Status.MALFORMED


@pytest.mark.parametrize(
    ("offset", "name"),
    [
        (1, b"al\0ce"),  # bytes after the padding starts
        (1, b"\0alice"),  # empty, with bytes after
        (33, bytes(32)),  # empty
        (65, b"\xff\xfe"),  # not UTF-8
        (65, b"caf\xc3"),  # a cut multi-byte character
    ],
)
def test_bad_names_are_malformed(offset, name):
    assert refused(replace(peer(), offset, padded(name))).status is Status.MALFORMED


def test_amounts_over_the_database_limit_are_malformed():
    payment = peer(PeerCommand.DIRECT_PAYMENT, amount=2**63 - 1, tax=0, counter=2**64 - 1)
    assert decode(payment).arguments == {"amount": 2**63 - 1, "tax": 0, "counter": 2**64 - 1}

    assert refused(replace(payment, 102, (2**63).to_bytes(8, "big"))).status is Status.MALFORMED
    assert refused(replace(payment, 110, b"\xff" * 8)).status is Status.MALFORMED
    with pytest.raises(ValueError):
        peer(PeerCommand.DIRECT_PAYMENT, amount=2**63, tax=0, counter=0)


def test_in_or_out_is_zero_or_one():
    find = peer(PeerCommand.FIND_PATH, id=bytes(32), amount=1, tax=0, in_or_out=1, fee=0, hops=0, gas=255)
    in_or_out = 102 + 32 + 8 + 8
    assert decode(find).arguments["in_or_out"] == 1

    assert refused(replace(find, in_or_out, b"\x02")).status is Status.MALFORMED
    with pytest.raises(ValueError):
        peer(PeerCommand.FIND_PATH, id=bytes(32), amount=1, tax=0, in_or_out=2, fee=0, hops=0, gas=0)


@pytest.mark.parametrize(
    "data",
    [b"\x06\x0e", b"\x06\xff", b"\x06\x01\xff", b"\x06\x01" + b"a" * 201],
    ids=["unknown status", "status 255", "not UTF-8", "too long"],
)
def test_bad_notices_are_malformed(data):
    assert refused(data).status is Status.MALFORMED


def test_names_up_to_32_bytes_fit():
    thirty_two = "é" * 16
    assert len(thirty_two.encode()) == 32
    assert fits(thirty_two)
    assert fits("a" * 32)
    recipient = PeerDatagram(Session.ACCOUNT, thirty_two, "b", "c", 0, PeerCommand.ACK_TRANSFER, {"counter": 0})
    assert decode(encode(recipient, KEY)).recipient == thirty_two

    for name in ("a" * 33, "é" * 16 + "a", "€" * 11):
        assert not fits(name)
        with pytest.raises(NameTooLong):
            encode(PeerDatagram(Session.ACCOUNT, "a", "b", name, 0, PeerCommand.ACK_TRANSFER, {"counter": 0}), KEY)


@pytest.mark.parametrize("name", ["", "a\0b", "\ud800"])
def test_names_that_cannot_travel(name):
    assert not fits(name)
    with pytest.raises(ValueError):
        encode(PeerDatagram(Session.ACCOUNT, name, "b", "c", 0, PeerCommand.ACK_TRANSFER, {"counter": 0}), KEY)


@pytest.mark.parametrize(
    "datagram",
    [
        PeerDatagram(Session.USER, "a", "b", "c", 0, PeerCommand.ACK_TRANSFER, {"counter": 0}),
        PeerDatagram(Session.ACCOUNT, "a", "b", "c", 2**32, PeerCommand.ACK_TRANSFER, {"counter": 0}),
        PeerDatagram(Session.ACCOUNT, "a", "b", "c", -1, PeerCommand.ACK_TRANSFER, {"counter": 0}),
        PeerDatagram(Session.ACCOUNT, "a", "b", "c", 0, PeerCommand.ACK_TRANSFER, {}),
        PeerDatagram(Session.ACCOUNT, "a", "b", "c", 0, PeerCommand.ACK_TRANSFER, {"counter": 0, "extra": 1}),
        PeerDatagram(Session.ACCOUNT, "a", "b", "c", 0, PeerCommand.PREPARE_PATH, {"id": bytes(31), "deadline": 0}),
        PeerDatagram(Session.ACCOUNT, "a", "b", "c", 0, PeerCommand.ACK_TRANSFER, {"counter": 2**64}),
        UserDatagram(0, UserCommand.START_PAYMENT, {"amount": 1}),
    ],
)
def test_encode_refuses_what_cannot_be_sent(datagram):
    with pytest.raises(ValueError):
        encode(datagram, KEY)


def test_encode_notice_refuses_a_long_message():
    with pytest.raises(ValueError):
        encode_notice(Notice(Status.REFUSED, "é" * 101))


def test_the_module_does_not_import_django():
    code = "import sys, federation.protocols.datagrams; assert not [m for m in sys.modules if m.startswith('django')]"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
