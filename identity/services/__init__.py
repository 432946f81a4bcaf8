"""Identity's state changes; each module holds one concern (``registration``: keys, proofs, rotations)."""
