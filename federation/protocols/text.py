"""The Civil Money text protocol: one request or response message, parsed from and encoded to a str.

The seed (civil-money-dht-api.txt, "Messaging") sends every message as a UTF-8 plain text dictionary:

    CMD [Action] [NOnce] [Command specific args]        RES 0x[hex CMResult] [NOnce] [Command specific args]
    KEY: Value                                          KEY: Value
    ...                                                 ...
    END [NOnce]                                         END [NOnce]

The seed gives no grammar beyond that and its examples, so this module fixes a strict one (the regexes below, the
only place it is written) and refuses anything else with ProtocolError. It checks the grammar only: whether an
action is known and what its args and headers mean is the listener's business.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from federation.protocols.results import CMResult

MAX_MESSAGE_BYTES = 65536  # UTF-8 length of the whole text
MAX_HEADERS = 256
MAX_ARGS = 16

# Refused everywhere: C0 controls, DEL, C1 controls, the Unicode line and paragraph separators, and lone surrogates
# (a str may hold them, UTF-8 cannot), so that a line is one line on the wire and in a log.
_CONTROL = "\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
_CONTROL_CHARACTER = re.compile(f"[{_CONTROL}]")
_ACTION = re.compile(r"[A-Z][A-Z0-9-]{0,31}")
_NONCE = re.compile(r"[A-Za-z0-9-]{1,64}")
_ARG = re.compile(rf"[^\s{_CONTROL}]+")  # \s is any Unicode white space, not only the separating space
_CODE = re.compile(r"0x[0-9A-Fa-f]{1,8}")
_KEY = re.compile(r"[A-Z0-9][A-Z0-9-]{0,63}")
# The nonce of a first line that got as far as it, however the rest of the message is broken. Anchored and bounded,
# so matching it costs the same on any input.
_LEADING_NONCE = {
    keyword: re.compile(rf"{keyword} {head.pattern} (?P<nonce>{_NONCE.pattern})(?=[ \r\n]|\Z)")
    for keyword, head in (("CMD", _ACTION), ("RES", _CODE))
}
_FIRST_LINE = {"CMD": "CMD <action> <nonce> [args]", "RES": "RES 0x<code> <nonce> [args]"}

Headers = tuple[tuple[str, str], ...]
_Head = TypeVar("_Head", str, CMResult)


class ProtocolError(Exception):
    """A malformed message. str(exc) says what is wrong, for logs; error_response(exc) is the answer to the peer."""

    result: CMResult = CMResult.E_Invalid_Request

    def __init__(self, message: str, nonce: str | None = None) -> None:
        super().__init__(message)
        self.nonce = nonce  # the first line's, when it got that far (so that the answer can echo it)


class _HeaderLookup:
    headers: Headers

    def header(self, key: str) -> str | None:
        """The first value of the header KEY, or None when there is none."""
        return next((value for name, value in self.headers if name == key), None)

    def values(self, key: str) -> list[str]:
        """Every value of the header KEY, in order: a key may repeat (the seed's GET answer has two ATTR-SKILL)."""
        return [value for name, value in self.headers if name == key]


@dataclass(frozen=True)
class Request(_HeaderLookup):
    action: str
    nonce: str
    args: tuple[str, ...] = ()
    headers: Headers = ()


@dataclass(frozen=True)
class Response(_HeaderLookup):
    result: CMResult
    nonce: str
    args: tuple[str, ...] = ()
    headers: Headers = ()


def parse_request(text: str) -> Request:
    """The request in TEXT; ProtocolError, and nothing else, when TEXT is not exactly one well-formed request."""
    return Request(*_parse(text, "CMD", _action))


def parse_response(text: str) -> Response:
    """The response in TEXT; ProtocolError, and nothing else, when TEXT is not exactly one well-formed response
    with a known CMResult code."""
    return Response(*_parse(text, "RES", _result))


def encode_request(request: Request) -> str:
    """The wire text of REQUEST. ValueError if it breaks the grammar: an encoded message always parses back."""
    return _encode(request, f"CMD {request.action}", parse_request)


def encode_response(response: Response) -> str:
    """The wire text of RESPONSE, its code in upper-case hex as in the seed (0x80000005). ValueError if it breaks the
    grammar."""
    return _encode(response, f"RES 0x{int(response.result):X}", parse_response)


def error_response(exc: ProtocolError) -> Response:
    """The answer to a malformed request: its nonce when the first line got that far, else "0"."""
    return Response(exc.result, exc.nonce if exc.nonce is not None else "0")


def _parse(text: str, keyword: str, read_head: Callable[[str], _Head]) -> tuple[_Head, str, tuple[str, ...], Headers]:
    """The (action or result, nonce, args, headers) of a message whose first line starts with KEYWORD."""
    try:
        lines = _lines(text)
        words = lines[0].split(" ")
        if words[0] != keyword or len(words) < 3:
            raise ProtocolError(f"the first line must be '{_FIRST_LINE[keyword]}', not {_show(lines[0])}")
        head, nonce, args = read_head(words[1]), _nonce(words[2]), _args(words[3:])
        if len(lines) < 2:
            raise ProtocolError(f"missing END line: the message is only its first line, no 'END {nonce}'")
        if not lines[-1].startswith("END "):
            raise ProtocolError(f"missing END line: the last line is {_show(lines[-1])}, not 'END {nonce}'")
        if lines[-1][4:] != nonce:
            raise ProtocolError(f"the END nonce {_show(lines[-1][4:])} differs from the first line's {nonce!r}")
        return head, nonce, args, _headers(lines[1:-1])
    except ProtocolError as exc:
        leading = _LEADING_NONCE[keyword].match(text)
        raise ProtocolError(str(exc), leading["nonce"] if leading else None) from None


def _lines(text: str) -> list[str]:
    """The lines of TEXT, after the size check. Line ends are all "\\n" or all "\\r\\n", the last one optional."""
    if len(text) > MAX_MESSAGE_BYTES:  # a character is at least one byte: no need to encode a huge text
        raise ProtocolError(f"the message is over {MAX_MESSAGE_BYTES} bytes ({len(text)} characters)")
    size = len(text.encode("utf-8", "surrogatepass"))  # lone surrogates are counted here, refused later
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"the message is over {MAX_MESSAGE_BYTES} bytes ({size} bytes of UTF-8)")
    lines = text.split("\r\n" if "\r\n" in text else "\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return lines


def _action(word: str) -> str:
    if not _ACTION.fullmatch(word):
        raise ProtocolError(f"invalid action {_show(word)}: an upper-case letter, then up to 31 of A-Z, 0-9, '-'")
    return word


def _result(word: str) -> CMResult:
    if not _CODE.fullmatch(word):
        raise ProtocolError(f"invalid result code {_show(word)}: '0x' and 1 to 8 hexadecimal digits")
    try:
        return CMResult(int(word, 16))
    except ValueError:
        raise ProtocolError(f"unknown CMResult code {word}") from None


def _nonce(word: str) -> str:
    if not _NONCE.fullmatch(word):
        raise ProtocolError(f"invalid nonce {_show(word)}: 1 to 64 of A-Z, a-z, 0-9, '-'")
    return word


def _args(words: list[str]) -> tuple[str, ...]:
    if len(words) > MAX_ARGS:
        raise ProtocolError(f"{len(words)} arguments, more than {MAX_ARGS}")
    for number, word in enumerate(words, start=1):
        if not word:
            raise ProtocolError(f"argument {number} is empty: two spaces in a row, or a space at the end of the line")
        if not _ARG.fullmatch(word):
            raise ProtocolError(f"argument {number} {_show(word)} holds white space or a control character")
    return tuple(words)


def _headers(lines: list[str]) -> Headers:
    """The headers of the lines between the first and the END line."""
    if len(lines) > MAX_HEADERS:
        raise ProtocolError(f"{len(lines)} headers, more than {MAX_HEADERS}")
    headers = []
    for number, line in enumerate(lines, start=2):
        key, separator, value = line.partition(": ")
        if not separator:
            raise ProtocolError(f"line {number} is not a 'KEY: value' header (no ': '): {_show(line)}")
        if not _KEY.fullmatch(key):
            raise ProtocolError(f"line {number}: invalid header key {_show(key)}: A-Z, 0-9, '-', 1 to 64")
        if control := _CONTROL_CHARACTER.search(value):
            raise ProtocolError(f"line {number}: control character U+{ord(control[0]):04X} in the value of {key}")
        headers.append((key, value))
    return tuple(headers)


def _encode(message: Request | Response, head: str, parse: Callable[[str], Request | Response]) -> str:
    lines = [" ".join((head, message.nonce, *message.args))]
    lines += [f"{key}: {value}" for key, value in message.headers]
    lines.append(f"END {message.nonce}")
    text = "\n".join(lines) + "\n"
    try:
        parsed = parse(text)
    except ProtocolError as exc:
        raise ValueError(f"cannot encode this {type(message).__name__}: {exc}") from None
    if parsed != message:  # e.g. a space inside an argument, ": " inside a header key, a list for a tuple
        raise ValueError(f"cannot encode this {type(message).__name__}: it would be read back as another message")
    return text


def _show(part: str) -> str:
    """PART quoted for an error message: escaped (no control character reaches a log) and cut at 40 characters."""
    return repr(part) if len(part) <= 40 else f"{part[:40]!r}..."
