"""Signals through which apps above ``trust`` follow the money without ``trust`` importing them."""

from django.dispatch import Signal

# Sent inside a settlement's transaction once payments' legs have moved, with ``moved`` (a list of
# ``(payment, legs)`` in the order they settled, legs as ``Plan.legs()`` tuples) and ``at``; a receiver
# that raises undoes them all.
money_moved = Signal()

# Sent inside the transaction that opened or changed a trustline with an account on another instance,
# with ``line``, ``owner`` (whose side changed) and ``other``: federation tells the other instance.
remote_line_changed = Signal()

# Sent inside the transaction that settled ``payment`` to an account on another instance (in flight until it
# answers): federation tells that instance.
remote_payment_sent = Signal()
