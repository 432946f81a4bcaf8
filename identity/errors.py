"""Identity's error codes (stable: apps match on them)."""

from functools import partial

from core.errors import ApplicationError, Conflict, Forbidden, NotFound

ProofInvalid = partial(ApplicationError, code="proof_invalid")
ProofReused = partial(Conflict, code="proof_reused")
SeedMalformed = partial(ApplicationError, code="seed_malformed")
AlreadyRegistered = partial(Conflict, code="already_registered")
SignatureInvalid = partial(ApplicationError, code="signature_invalid")
PassphraseInvalid = partial(Forbidden, code="passphrase_invalid")
RotationUnsigned = partial(Forbidden, code="rotation_unsigned")
IdentityNotFound = partial(NotFound, code="identity_not_found")


def identity_revoked(reason: str) -> Forbidden:
    """Why a revoked member is refused, and what gives access back."""
    why = f" ({reason})" if reason else ""
    return Forbidden(
        f"Your identity has been revoked{why}: you cannot sign in, use tokens or sign. "
        "An admin's review of your identity (in Django admin) restores access; ask a community admin.",
        code="identity_revoked",
    )
