"""Signals through which apps above ``bank`` follow its events without ``bank`` importing them."""

from django.dispatch import Signal

# Sent inside the transaction that created the membership, with ``member``.
member_joined = Signal()

# Sent when a membership signs in or acts through the API, with ``member``. A receiver refuses access by
# raising a ``core.errors.ApplicationError`` (identity refuses revoked members).
access_requested = Signal()

# Sent when a password has just been checked (a sign-in, or joining with an invite as a new login: ``member``,
# ``password``), changed by its owner (``user``, ``old_password``, ``new_password``) or reset by an admin
# (``member``, ``new_password``): the only moments the password is at hand, so identity opens, reseals or
# recovers the member's passphrase-sealed key then.
password_checked = Signal()
password_changed = Signal()
password_reset = Signal()
