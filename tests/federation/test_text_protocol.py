"""The Civil Money text protocol (federation.protocols.text): the seed's examples, round trips, strict refusals and
fuzzing. Pure: no database, no Django."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation.protocols.results import DESCRIPTIONS, CMResult
from federation.protocols.text import (
    MAX_ARGS,
    MAX_HEADERS,
    MAX_MESSAGE_BYTES,
    ProtocolError,
    Request,
    Response,
    encode_request,
    encode_response,
    error_response,
    parse_request,
    parse_response,
)

# Every CMD ... END and RES ... END example of the seed (civil-money-dht-api.txt), line for line.
SEED_EXAMPLES: dict[str, tuple[str, ...]] = {
    "PING request": (
        "CMD PING ac72e",
        "EP: 192.168.0.100:8000",
        "END ac72e",
    ),
    "PING response": (
        "RES 0x0 ac72e",
        "YOUR-IP: 192.168.0.100",
        "MY-IP: 192.168.0.101",
        "SUCC: 192.168.0.102:443",
        "PRED: 192.168.0.103:8000",
        "SEEN: 192.168.0.102:443,192.168.0.103:8000,192.168.0.104:8000,192.168.0.105:8000",
        "END ac72e",
    ),
    "FIND request": (
        "CMD FIND 716c0",
        "DHT-ID: az/nz+AWQd4=",
        "HOPS: 192.168.0.102:443,192.168.0.103:8000",
        "MAX-HOPS: 10",
        "END 716c0",
    ),
    "FIND response": (
        "RES 0x0 716c0",
        "HOPS: 192.168.0.102:443,192.168.0.103:8000,192.168.0.104:8000",
        "PEER: 192.168.0.104:8000",
        "END 716c0",
    ),
    "GET request": (
        "CMD GET 6ec4a ACCNT/test1?calculations-date=2016-09-24T10:00:00",
        "END 6ec4a",
    ),
    "GET response": (
        "RES 0x0 6ec4a",
        "ID: test1",
        "VER: 1",
        "REG: CA-NS",
        "UTC: 2016-09-16T17:18:45",
        "UPD-UTC: 2016-09-16T17:18:45",
        "ATTR-ELIG: UNEMP",
        "ATTR-SKILL: 2,Roofer",
        "ATTR-SKILL: 0,Fiddler",
        'ATTR-PUSH: "My notification ""sink""",https://something.com/endpoint',
        (
            "PRIKEY: 0,9GO27EHf27eiuW+bd+6genl7h+8+ByNlWgqFG4p2vio=,CLru67gKQDyqetnwmtuX0IgjfE7nQjYxkSrvVJnqmcvHK"
            "7tpaMVNucrS2LKc0JV4LKGlQB0MXhR6fYRzNr5MSZqY3DkzYKF5H/3pdFQCqKS+2wagXFCA521we4bULtB5zIjK/4xTYltKfm08v"
            "MnJr26vxiEyBFUqXgjpDr5IHX8x3RT33hRvtYbMC7Z9JNFq"
        ),
        (
            "PUBKEY: 2016-09-16T17:18:45,1N8SIc03kFcY4EB9s3jkBshSFL5zsaRiGvOVAy/0whBtlJ5S4ReL0WpydJkJ0TqK4iU/CfDT"
            "hLVtbEIteJDLE0BXI+pbMzeOhtLjPZBDye83q2GeQq9d2sfpmkI3uqW2D+NCo+nC//CMtaE9JqmmpTnKKEw4I3/oXBrtZj7x7ss="
            ","
        ),
        (
            "SIG: Qju9v3SDEEJ2/6/3whJ9MqlNomU36SCfU9Vr7ukCHAD9kPgQxUsSbLEcZ9gQpn4Bgzvb7IaRe183RpSmAWNUQpe3aSofgbE"
            "hzkdAuiE5EKLJu1KJ88vNy25j0By6xtorsd30b2yHEuyHs4m9Kz9mBxNdZU0h5/nMvtDz4qXitEU="
        ),
        "CALC-LAST-TRANS: 2016-09-27T12:01:23",
        "CALC-DEBITS: 1.000234",
        "CALC-CREDITS: 2.000000",
        "CALC-REP: 50.0",
        "CAN-VOTE: 0",
        "END 6ec4a",
    ),
    "PUT request": (
        "CMD PUT fbd06 TRANS/2016-09-24T20:13:30 test1 test2",
        "VER: 1",
        "UTC: 2016-09-24T20:13:30",
        "PYR-ID: test2",
        "PYR-REG: CA-NS",
        "PYR-STAT: Accept",
        "PYR-UTC: 2016-09-24T20:13:30",
        "PYE-ID: test1",
        "MEMO: Thank you for the thing, it was very thingy.",
        "AMNT: 1.000000",
        (
            "PYR-SIG: PR+VGiRLJz1xwZTs5JOF5rxngL8vYEftkW5yCS2IA2YqNoQ73Tnw3WydQ4ZoLJ3UqEzB/suDa8GoPMdjG1esuuVW9MX"
            "svkNXbkT+Wb+qCydNpxdETNXv6352oaSDLIO8sT8cnSwBdyIl80FRiy/ITH42ZAb9jM+T3iexiGNsE5A="
        ),
        "END fbd06",
    ),
    "PUT response": (
        "RES 0x0 fbd06 dfb67b3d-55fe-4e41-8dc8-aeb51dbb8253",
        "END fbd06",
    ),
    "QUERY-COMMIT request": (
        "CMD QUERY-COMMIT 4e93c TRANS/2016-09-24T20:13:30 test1 test2",
        "END 4e93c",
    ),
    "QUERY-COMMIT response": (
        "RES 0x0 4e93c 2016-09-24T20:13:30",
        "END 4e93c",
    ),
    "COMMIT request": (
        "CMD COMMIT 506ab dfb67b3d-55fe-4e41-8dc8-aeb51dbb8253",
        "END 506ab",
    ),
    "COMMIT response": (
        "RES 0x0 506ab",
        "END 506ab",
    ),
    "LIST request": (
        "CMD LIST 636a1 ACCNT/test2/TRANS",
        "VER: 1",
        "START: 0",
        "MAX: 10",
        "UTC-FROM: 2014-09-24T21:30:02",
        "UTC-TO: 2016-09-25T21:30:02",
        "SORT: UPD-UTC DESC",
        "END 636a1",
    ),
    "LIST response": (
        "RES 0x0 636a1",
        "START: 0",
        "TOTAL: 22",
        "COUNT: 10",
        "ITEM: 2016-09-24T20:13:30 test1 test2 1.000000 2016-09-24T20:13:30 0 1  CA-NS",
        "ITEM: 2016-09-21T23:54:52 test1 test2 1.000000 2016-09-21T23:54:52 0 1  CA-NS",
        "ITEM: 2016-09-21T23:42:18 test1 test2 1.000000 2016-09-21T23:50:49 1 1 CA-NS CA-NS",
        "ITEM: 2016-09-21T23:36:44 test1 test2 1.000000 2016-09-21T23:50:49 1 1 CA-NS CA-NS",
        "ITEM: 2016-09-21T22:20:34 test1 test2 1.000000 2016-09-21T22:20:34 0 1  CA-NS",
        "ITEM: 2016-09-21T22:16:40 test1 test2 1.000000 2016-09-21T22:16:40 0 1  CA-NS",
        "ITEM: 2016-09-21T16:06:17 test1 test2 4.000000 2016-09-21T16:06:17 0 1  CA-NS",
        "ITEM: 2016-09-21T16:04:28 test1 test2 5.000000 2016-09-21T16:04:28 0 1  CA-NS",
        "ITEM: 2016-09-15T15:06:34 test1 test2 1.000000 2016-09-15T15:06:34 0 1  CA-NS",
        "ITEM: 2016-09-15T14:45:50 test1 test2 1.000000 2016-09-15T14:48:24 1 1 CA-NS CA-NS",
        "END 636a1",
    ),
    "SUBSCRIBE request": (
        "CMD SUBSCRIBE 68343 test2",
        "END 68343",
    ),
    "SUBSCRIBE response": (
        "RES 0x0 68343",
        "END 68343",
    ),
    "NOTIFY request": (
        "CMD NOTIFY b7a82 TRANS/2016-09-24T20:13:30 test1 test2",
        "VER: 1",
        "UTC: 2016-09-24T20:13:30",
        "PYR-ID: test2",
        "PYR-REG: CA-NS",
        "PYR-STAT: Cancel",
        "PYR-UTC: 2016-09-24T22:13:30",
        "PYE-ID: test1",
        "MEMO: Thank you for the thing, it was very thingy.",
        "AMNT: 1.000000",
        (
            "PYR-SIG: PTkJy/MdUjYY3Xiv5KCl+mt8Y7lm7yJs60LjqNt3BMhd6tDbkJ4liKr9aCQHdxQLd0BPSsFmfKMLGJpFseBw081eQhs"
            "Smaf1dQWjS5w9kktSZRoWGGCHHQnckWbLjs33VExoYgaH+rp+x5ZkrdZ/INX9nH07CngyTLUWmWMl9j8="
        ),
        "END b7a82",
    ),
    "NOTIFY response": (
        "RES 0x0 b7a82",
        "END b7a82",
    ),
    "SYNC request": (
        "CMD SYNC 0021d test1",
        "VER: 1",
        "ID: test1",
        "UPD-UTC: 2016-09-11T13:57:55",
        "EP: 192.168.0.88:8012",
        "TRANS-HASH: LBjy0hsRdsYPJswaKDrfLpwFXAgH4LdU7tY18vpbajo=",
        "VOTES-HASH: 2vPI9Q1MvfxGfy011o71AoK+/YbWyZkBYRf1C6EMT44=",
        "END 0021d",
    ),
    "SYNC response": (
        "RES 0x0 0021d",
        "END 0021d",
    ),
}


def seed(name: str) -> str:
    """A seed example as a peer would send it: "\\n" line ends, no final line end (the parser allows both)."""
    return "\n".join(SEED_EXAMPLES[name])


def seeds(kind: str) -> list[str]:
    """The seed's examples of one KIND, "request" or "response"."""
    return [seed(name) for name in SEED_EXAMPLES if name.endswith(kind)]


# Valid messages, drawn from the grammar written down again here (not from the module's own regexes).
actions = st.from_regex(r"[A-Z][A-Z0-9-]{0,31}", fullmatch=True)
nonces = st.from_regex(r"[A-Za-z0-9-]{1,64}", fullmatch=True)
_printable = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"))  # Cc: C0, DEL, C1
arg_lists = st.lists(st.text(_printable.filter(lambda c: not c.isspace()), min_size=1, max_size=20), max_size=MAX_ARGS)
keys = st.one_of(st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,63}", fullmatch=True), st.sampled_from(["ATTR-SKILL", "ITEM"]))
header_lists = st.lists(st.tuples(keys, st.text(_printable, max_size=40)), max_size=12)
requests = st.builds(Request, actions, nonces, arg_lists.map(tuple), header_lists.map(tuple))
responses = st.builds(Response, st.sampled_from(CMResult), nonces, arg_lists.map(tuple), header_lists.map(tuple))

# Characters that a mutation inserts: the grammar's own punctuation, line ends, controls, lone surrogates, anything.
_inserted = st.one_of(
    st.sampled_from(["\n", "\r", "\r\n", " ", ":", ": ", "-", "0x", "END ", "CMD ", "RES ", "\x00", "\x7f", "\u2028"]),
    st.characters(),
    st.characters(categories=["Cs"]),
)


@st.composite
def mutated(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> str:
    """A valid text, then 1 to 4 of: delete, insert or replace a character, truncate, duplicate a line."""
    text = draw(texts)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "duplicate"]))
        if kind == "delete":
            text = text[:at] + text[at + 1 :]
        elif kind == "insert":
            text = text[:at] + draw(_inserted) + text[at:]
        elif kind == "replace":
            text = text[:at] + draw(_inserted) + text[at + 1 :]
        elif kind == "truncate":
            text = text[:at]
        else:
            lines = text.split("\n")
            line = draw(st.integers(0, len(lines) - 1))
            text = "\n".join([*lines[: line + 1], *lines[line:]])
    return text


def parsed_or_refused(
    parse: Callable[[str], Request | Response], encode: Callable[[Any], str], text: str
) -> Request | Response | None:
    """PARSE(TEXT), or None when it is refused; a refusal is a ProtocolError as the listener expects, nothing else."""
    try:
        message = parse(text)
    except ProtocolError as exc:
        assert exc.result == CMResult.E_Invalid_Request
        assert str(exc)
        assert exc.nonce is None or re.fullmatch(r"[A-Za-z0-9-]{1,64}", exc.nonce)
        return None
    assert parse(encode(message)) == message
    return message


def canonical(text: str) -> str:
    """TEXT as the encoder writes it: "\\n" line ends and a final one."""
    text = text.replace("\r\n", "\n")
    return text if text.endswith("\n") else text + "\n"


# -- the seed's examples ------------------------------------------------------------------------------------------


def test_seed_ping() -> None:
    request = parse_request(seed("PING request"))
    assert request == Request("PING", "ac72e", (), (("EP", "192.168.0.100:8000"),))
    response = parse_response(seed("PING response"))
    assert (response.result, response.nonce, response.args) == (CMResult.S_OK, "ac72e", ())
    assert response.header("YOUR-IP") == "192.168.0.100"
    assert response.header("SEEN") == "192.168.0.102:443,192.168.0.103:8000,192.168.0.104:8000,192.168.0.105:8000"
    assert [key for key, _ in response.headers] == ["YOUR-IP", "MY-IP", "SUCC", "PRED", "SEEN"]


def test_seed_find() -> None:
    request = parse_request(seed("FIND request"))
    assert (request.action, request.nonce) == ("FIND", "716c0")
    assert request.header("DHT-ID") == "az/nz+AWQd4="
    assert request.header("MAX-HOPS") == "10"
    assert parse_response(seed("FIND response")).header("PEER") == "192.168.0.104:8000"


def test_seed_get_response_has_repeated_and_quoted_values() -> None:
    request = parse_request(seed("GET request"))
    assert request == Request("GET", "6ec4a", ("ACCNT/test1?calculations-date=2016-09-24T10:00:00",))
    response = parse_response(seed("GET response"))
    assert response.values("ATTR-SKILL") == ["2,Roofer", "0,Fiddler"]
    assert response.header("ATTR-SKILL") == "2,Roofer"
    assert response.header("ATTR-PUSH") == '"My notification ""sink""",https://something.com/endpoint'
    assert response.header("PUBKEY").endswith("7x7ss=,")
    assert response.header("CAN-VOTE") == "0"
    assert response.header("NO-SUCH-KEY") is None
    assert response.values("NO-SUCH-KEY") == []


def test_seed_put_and_its_commit_token() -> None:
    request = parse_request(seed("PUT request"))
    assert (request.action, request.args) == ("PUT", ("TRANS/2016-09-24T20:13:30", "test1", "test2"))
    assert request.header("MEMO") == "Thank you for the thing, it was very thingy."
    assert len(request.headers) == 10
    response = parse_response(seed("PUT response"))
    assert response == Response(CMResult.S_OK, "fbd06", ("dfb67b3d-55fe-4e41-8dc8-aeb51dbb8253",))


def test_seed_list_response_keeps_item_lines_verbatim() -> None:
    assert parse_request(seed("LIST request")).header("SORT") == "UPD-UTC DESC"
    response = parse_response(seed("LIST response"))
    items = response.values("ITEM")
    assert len(items) == int(response.header("COUNT")) == 10
    assert items[0] == "2016-09-24T20:13:30 test1 test2 1.000000 2016-09-24T20:13:30 0 1  CA-NS"  # two spaces: kept
    assert items[2] == "2016-09-21T23:42:18 test1 test2 1.000000 2016-09-21T23:50:49 1 1 CA-NS CA-NS"


@pytest.mark.parametrize("name", SEED_EXAMPLES)
def test_every_seed_example_parses_and_encodes_back(name: str) -> None:
    parse, encode = (parse_request, encode_request) if name.endswith("request") else (parse_response, encode_response)
    message = parse(seed(name))
    assert encode(message) == seed(name) + "\n"
    crlf = seed(name).replace("\n", "\r\n")
    assert parse(seed(name) + "\n") == parse(crlf) == parse(crlf + "\r\n") == message


# -- encoding -----------------------------------------------------------------------------------------------------


def test_encoding_is_the_seed_format() -> None:
    request = Request("PING", "ac72e", (), (("EP", "192.168.0.100:8000"), ("EMPTY", "")))
    assert encode_request(request) == "CMD PING ac72e\nEP: 192.168.0.100:8000\nEMPTY: \nEND ac72e\n"
    response = Response(CMResult.E_Connect_Attempt_Timeout, "x-1", ("a", "b"))
    assert encode_response(response) == "RES 0x8000000A x-1 a b\nEND x-1\n"


@pytest.mark.parametrize(
    "message",
    [
        Request("PING", "n1", (), (("EP", "x\nEND n1\nCMD PUT n2"),)),  # header injection
        Request("PING", "n1", ("two words",)),
        Request("PING", "n1", ("",)),
        Request("PING", "n1", (), (("EP: X", "y"),)),
        Request("ping", "n1"),
        Request("PING", "n 1"),
        Request("PING", "n1", ("a",) * (MAX_ARGS + 1)),
        Response(0x7, "n1"),
    ],
)
def test_encoding_refuses_what_would_not_parse_back(message: Request | Response) -> None:
    encode = encode_request if isinstance(message, Request) else encode_response
    with pytest.raises(ValueError, match="cannot encode"):
        encode(message)


@settings(max_examples=300, deadline=None)
@given(requests)
def test_requests_round_trip(request: Request) -> None:
    assert parse_request(encode_request(request)) == request


@settings(max_examples=300, deadline=None)
@given(responses)
def test_responses_round_trip(response: Response) -> None:
    assert parse_response(encode_response(response)) == response


# -- any text: a message or a ProtocolError -----------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_any_text_is_a_message_or_a_protocol_error(text: str) -> None:
    parsed_or_refused(parse_request, encode_request, text)
    parsed_or_refused(parse_response, encode_response, text)


@settings(max_examples=300, deadline=None)
@given(st.text(st.one_of(st.characters(categories=["Cs", "Cc", "Zl", "Zp"]), st.sampled_from("CMDRES END:0x\n"))))
def test_controls_and_lone_surrogates_are_refused_not_crashed_on(text: str) -> None:
    parsed_or_refused(parse_request, encode_request, text)
    parsed_or_refused(parse_response, encode_response, text)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(st.one_of(requests.map(encode_request), st.sampled_from(seeds("request")))))
def test_mutated_requests_are_a_request_or_a_protocol_error(text: str) -> None:
    if (request := parsed_or_refused(parse_request, encode_request, text)) is not None:
        assert encode_request(request) == canonical(text)  # strict: only one spelling of a request is accepted


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(st.one_of(responses.map(encode_response), st.sampled_from(seeds("response")))))
def test_mutated_responses_are_a_response_or_a_protocol_error(text: str) -> None:
    parsed_or_refused(parse_response, encode_response, text)


# -- specific refusals --------------------------------------------------------------------------------------------

_TOO_MANY_HEADERS = "CMD PUT n1\n" + "X: y\n" * (MAX_HEADERS + 1) + "END n1\n"


@pytest.mark.parametrize(
    ("text", "message", "nonce"),
    [
        ("CMD PING n1\nEP: x\n", "missing END line: the last line is 'EP: x'", "n1"),
        ("CMD PING n1", "missing END line: the message is only its first line", "n1"),
        ("CMD PING n1\nEND n2\n", "the END nonce 'n2' differs from the first line's 'n1'", "n1"),
        ("CMD PING n1\nEND n1 \n", "the END nonce 'n1 ' differs", "n1"),
        ("CMD ping n1\nEND n1\n", "invalid action 'ping'", None),
        ("CMD 1PING n1\nEND n1\n", "invalid action '1PING'", None),
        ("CMD " + "A" * 33 + " n1\nEND n1\n", "invalid action", None),
        ("CMD PING n_1\nEND n_1\n", "invalid nonce 'n_1'", None),
        ("CMD PING " + "n" * 65 + "\nEND n\n", "invalid nonce", None),
        ("CMD PING\nEND n1\n", "the first line must be 'CMD <action> <nonce> [args]'", None),
        ("RES 0x0 n1\nEND n1\n", "the first line must be 'CMD <action> <nonce> [args]', not 'RES 0x0 n1'", None),
        ("CMD PING n1\nEP 192.168.0.1\nEND n1\n", "line 2 is not a 'KEY: value' header (no ': ')", "n1"),
        ("CMD PING n1\nEP:192.168.0.1\nEND n1\n", "line 2 is not a 'KEY: value' header", "n1"),
        ("CMD PING n1\n\nEND n1\n", "line 2 is not a 'KEY: value' header", "n1"),
        ("CMD PING n1\nep: x\nEND n1\n", "line 2: invalid header key 'ep'", "n1"),
        ("CMD PING n1\nEP: a\x00b\nEND n1\n", "line 2: control character U+0000 in the value of EP", "n1"),
        ("CMD PING n1\nEP: a\tb\nEND n1\n", "control character U+0009 in the value of EP", "n1"),
        ("CMD PING n1\nA: b\nEP: \x85\nEND n1\n", "line 3: control character U+0085", "n1"),
        ("CMD PING n1\nEP: \ud800\nEND n1\n", "control character U+D800 in the value of EP", "n1"),
        ("CMD PING n1\r\nEP: x\nY: z\r\nEND n1\r\n", "line 2: control character U+000A", "n1"),  # mixed line ends
        ("CMD PING n1\rEND n1\r", "invalid nonce 'n1\\rEND'", "n1"),  # a lone "\r" is no line end
        ("CMD PING n1  a\nEND n1\n", "argument 1 is empty: two spaces in a row", "n1"),
        ("CMD PING n1 a\u00a0b\nEND n1\n", "argument 1 'a\\xa0b' holds white space or a control character", "n1"),
        ("CMD PING n1" + " a" * (MAX_ARGS + 1) + "\nEND n1\n", f"17 arguments, more than {MAX_ARGS}", "n1"),
        (_TOO_MANY_HEADERS, f"{MAX_HEADERS + 1} headers, more than {MAX_HEADERS}", "n1"),
        ("CMD PING n1\nEND n1\n\n", "missing END line: the last line is ''", "n1"),
        ("", "the first line must be", None),
    ],
)
def test_malformed_requests_are_refused_clearly(text: str, message: str, nonce: str | None) -> None:
    with pytest.raises(ProtocolError, match=re.escape(message)) as refused:
        parse_request(text)
    assert refused.value.result == CMResult.E_Invalid_Request
    assert refused.value.nonce == nonce


@pytest.mark.parametrize(
    ("text", "message", "nonce"),
    [
        ("RES 0x7 n1\nEND n1\n", "unknown CMResult code 0x7", "n1"),
        ("RES 0x80000010 n1\nEND n1\n", "unknown CMResult code 0x80000010", "n1"),
        ("RES 0 n1\nEND n1\n", "invalid result code '0'", None),
        ("RES 0X0 n1\nEND n1\n", "invalid result code '0X0'", None),
        ("RES 0x180000000 n1\nEND n1\n", "invalid result code '0x180000000'", None),
        ("RES 0x0 n1\nEND n2\n", "the END nonce 'n2' differs", "n1"),
        ("CMD PING n1\nEND n1\n", "the first line must be 'RES 0x<code> <nonce> [args]'", None),
    ],
)
def test_malformed_responses_are_refused_clearly(text: str, message: str, nonce: str | None) -> None:
    with pytest.raises(ProtocolError, match=re.escape(message)) as refused:
        parse_response(text)
    assert refused.value.nonce == nonce


def test_hex_codes_may_have_leading_zeros_and_either_case() -> None:
    assert parse_response("RES 0x8000000a n1\nEND n1").result == CMResult.E_Connect_Attempt_Timeout
    assert parse_response("RES 0x00000002 n1\nEND n1").result == CMResult.S_Item_Transient


def test_the_limits_themselves_are_allowed() -> None:
    headers = "X: y\n" * MAX_HEADERS
    assert len(parse_request(f"CMD PUT n1{' a' * MAX_ARGS}\n{headers}END n1\n").headers) == MAX_HEADERS
    frame = len("CMD PUT n1\nX: \nEND n1\n")
    exactly = f"CMD PUT n1\nX: {'a' * (MAX_MESSAGE_BYTES - frame)}\nEND n1\n"
    assert len(exactly.encode()) == MAX_MESSAGE_BYTES
    assert parse_request(exactly).header("X") == "a" * (MAX_MESSAGE_BYTES - frame)
    with pytest.raises(ProtocolError, match=f"over {MAX_MESSAGE_BYTES} bytes"):
        parse_request(exactly.replace("X: ", "X: a"))


def test_the_size_limit_counts_utf8_bytes() -> None:
    text = f"CMD PUT n1\nX: {'é' * (MAX_MESSAGE_BYTES // 2)}\nEND n1\n"  # fewer characters than bytes
    assert len(text) < MAX_MESSAGE_BYTES
    with pytest.raises(ProtocolError, match=rf"over {MAX_MESSAGE_BYTES} bytes \(\d+ bytes of UTF-8\)") as refused:
        parse_request(text)
    assert refused.value.nonce == "n1"


def test_a_huge_message_is_refused_before_it_is_read() -> None:
    with pytest.raises(ProtocolError, match=rf"over {MAX_MESSAGE_BYTES} bytes \(10000022 characters\)") as refused:
        parse_request("CMD PUT n1\nX: " + "\x00" * 10_000_000 + "\nEND n1\n")
    assert refused.value.nonce == "n1"  # the answer can still echo it


def test_error_response_echoes_the_nonce_or_answers_zero() -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_request("CMD PING abc\nEND abd\n")
    assert error_response(refused.value) == Response(CMResult.E_Invalid_Request, "abc")
    with pytest.raises(ProtocolError) as refused:
        parse_request("HELLO\n")
    assert refused.value.nonce is None
    assert encode_response(error_response(refused.value)) == "RES 0x80000005 0\nEND 0\n"


# -- CMResult -----------------------------------------------------------------------------------------------------


def test_cmresult_has_every_code_of_the_seed_table() -> None:
    # The seed's "CMResult Status Codes" table has 76 rows: 3 successes, 14 general errors (0x80000000-0x8000000D),
    # 9 crypto (0x80001000-08), 17 account (0x80002000-10), 27 transaction (0x80003000-1A) and 6 vote errors
    # (0x80004000, 01, 03-06: the seed has no 0x80004002). len() of an IntEnum skips aliases, so a duplicated
    # value would show here too.
    assert len(CMResult) == 76
    assert CMResult.S_OK == 0 and CMResult.S_False == 1 and CMResult.S_Item_Transient == 2
    assert CMResult.E_General_Failure == 0x80000000
    assert CMResult.E_Invalid_Action == 0x80000003
    assert CMResult.E_Item_Not_Found == 0x80000004
    assert CMResult.E_Invalid_Request == 0x80000005
    assert CMResult.E_Operation_Cancelled == 0x8000000D
    assert CMResult.E_Crypto_Invalid_RSA_PrivateKey_Mismatch == 0x80001008
    assert CMResult.E_Account_Withheld_Private_Key_Required == 0x80002010
    assert CMResult.E_Transaction_Memo_Too_Long == 0x8000301A
    assert CMResult.E_Vote_Account_Not_Found == 0x80004000
    assert CMResult.E_Vote_Updated_Utc_Is_Old == 0x80004006
    assert 0x80004002 not in {int(code) for code in CMResult}


def test_every_code_has_the_seed_description() -> None:
    assert set(DESCRIPTIONS) == set(CMResult)
    assert DESCRIPTIONS[CMResult.E_Invalid_Request] == "Invalid request."
    assert DESCRIPTIONS[CMResult.E_Transaction_Payer_Status_Change_Not_Allowed] == (
        "The new payee status value is not permitted, based on its previous status."  # sic, as in the seed
    )


def test_ok_is_true_below_0x80000000() -> None:
    assert {code for code in CMResult if code.ok} == {CMResult.S_OK, CMResult.S_False, CMResult.S_Item_Transient}
