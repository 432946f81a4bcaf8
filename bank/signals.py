"""Signals through which apps above ``bank`` follow its events without ``bank`` importing them."""

from django.dispatch import Signal

# Sent inside the transaction that created the membership, with ``member``.
member_joined = Signal()
