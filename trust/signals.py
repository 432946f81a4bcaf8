"""Signals through which apps above ``trust`` follow the money without ``trust`` importing them."""

from django.dispatch import Signal

# Sent inside a settlement's transaction once payments' legs have moved, with ``moved`` (a list of
# ``(payment, legs)`` in the order they settled, legs as ``Plan.legs()`` tuples) and ``at``; a receiver
# that raises undoes them all.
money_moved = Signal()
