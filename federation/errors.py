"""Errors of federation, each with its stable code."""

from core.errors import ApplicationError


class DocumentRefused(ApplicationError):
    """A peer's well-known document that is malformed, does not verify or contradicts what is pinned."""

    status = 502
    code = "peer_document_invalid"


class PeerUnreachable(ApplicationError):
    status = 502
    code = "peer_unreachable"


class RemoteNotFound(ApplicationError):
    status = 404
    code = "remote_not_found"


class AddressInvalid(ApplicationError):
    code = "address_invalid"


class QueueFull(ApplicationError):
    status = 503
    code = "peer_queue_full"
