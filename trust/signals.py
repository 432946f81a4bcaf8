"""Signals through which apps above ``trust`` follow the money without ``trust`` importing them."""

from django.dispatch import Signal

# Sent inside the settlement's transaction once a payment's legs have moved, with ``payment``,
# ``legs`` (``Plan.legs()`` tuples) and ``at``; a receiver that raises undoes the payment.
money_moved = Signal()
