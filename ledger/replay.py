"""The books replayed: every trustline's balance as the ledger tells it, and as the trust tables do."""

from ledger import formats
from ledger.models import Archive, Head
from ledger.names import account_names
from ledger.sealed import open_state, openers, segment_lines
from trust.models import Trustline


def ledger_state(community_id: int, *, account_id: int | None = None) -> formats.State:
    """Balances from the last archive's state and the live segment (archived entries are not re-read);
    with ``account_id``, only that account's lines are right (only its live entries are read)."""
    ciphers = openers(community_id)
    head = Head.objects.filter(community_id=community_id).first()
    if head is None:
        return {}
    state: formats.State = {}
    last = Archive.objects.filter(community_id=community_id, segment=head.segment - 1).first()
    if last is not None:
        state = formats.parse_state(open_state(last, ciphers).decode())
    for line in segment_lines(community_id, head.segment, ciphers, account_id=account_id):
        entry = formats.parse_entry(line)
        if entry.source:
            formats.state_move(state, entry.source, entry.destination, formats.amount_micro(entry.amount))
    return {pair: amount for pair, amount in state.items() if amount}


def trustline_state(community_id: int) -> formats.State:
    """The same shape from the trustlines themselves (what the ledger must agree with)."""
    rows = list(
        Trustline.objects.filter(community_id=community_id)
        .exclude(balance=0)
        .values_list("low_id", "high_id", "balance")
    )
    names = account_names({pk for low, high, _ in rows for pk in (low, high)})
    state: formats.State = {}
    for low, high, balance in rows:
        # balance is what high owes low
        first, second = sorted((names[low], names[high]))
        state[(first, second)] = balance if first == names[low] else -balance
    return state
