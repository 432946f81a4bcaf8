"""The API's one JSON parser: DRF's, bounded in what it reads and in what it lets through."""

import io
import re

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core.errors import ApplicationError

# API bodies are a few levels deep; anything deeper is refused before a deep structure reaches code that recurses.
MAX_DEPTH = 32
LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # JSON's "\ud800" escapes decode to these; no database stores them


def body_too_large() -> ApplicationError:
    """The refusal of a body past ``DATA_UPLOAD_MAX_MEMORY_SIZE``: here, and by Content-Length in bank.middleware."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = f"The request body is larger than {limit} bytes, the most this server takes."
    return ApplicationError(message, code="payload_too_large", status=413)


def _too_deep() -> ParseError:
    return ParseError(f"JSON parse error - the body is nested more than {MAX_DEPTH} levels deep.")


class JSONParser(parsers.JSONParser):
    """DRF's parser reads a body of any size, lets deep nesting escape as a RecursionError (a 500), and passes
    lone surrogates on to fail in the database; this one refuses all three."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read() if limit is None else stream.read(limit + 1)  # a chunked body has no Content-Length
        if limit is not None and len(body) > limit:
            raise body_too_large()
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        _check(data)
        return data


def _check(data: object) -> None:
    """Walk ``data`` without recursing: no deeper than ``MAX_DEPTH``, no lone surrogate in any key or string."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if LONE_SURROGATE.search(value):
                raise ParseError('JSON parse error - text holds a lone surrogate (such as "\\ud800"), not a character.')
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(value, dict):
            pending.extend((key, depth) for key in value)
            value = value.values()
        pending.extend((item, depth + 1) for item in value)
