"""The identity chain: blocks link from genesis, are signed by the server, and tampering is found."""

from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from identity.chain import GENESIS, block_hash, chain_record, chain_verify
from identity.models import Block
from tests.trust.test_concurrency import in_threads


def event(n: int) -> dict:
    return {"type": "register", "pubkey": f"02{n:064x}", "community": "alpha", "balance": 100}


@pytest.mark.django_db
def test_blocks_link_from_genesis_and_verify(capsys):
    first, second, third = (chain_record([event(n)]) for n in range(3))

    assert [b.index for b in (first, second, third)] == [0, 1, 2]
    assert first.previous_hash == GENESIS
    assert (second.previous_hash, third.previous_hash) == (first.block_hash, second.block_hash)
    assert second.block_hash == block_hash(
        index=1, previous_hash=first.block_hash, events=[event(1)], created_at=second.created_at
    )
    assert chain_verify() == []
    call_command("verify_identity_chain")
    assert capsys.readouterr().out.startswith("OK: 3 blocks")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper, problem",
    [
        (lambda b: b.events[0].update(balance=1000), "block 1: its hash does not match its contents"),
        (lambda b: setattr(b, "signature", "00" * 64), "block 1: the server's signature does not verify"),
        (lambda b: setattr(b, "previous_hash", "ab" * 32), "block 1: previous hash does not match"),
    ],
    ids=["events", "signature", "link"],
)
def test_a_tampered_block_is_found(tamper, problem):
    for n in range(3):
        chain_record([event(n)])
    block = Block.objects.get(index=1)
    tamper(block)
    block.save()

    problems = chain_verify()

    assert any(p.startswith(problem) for p in problems), problems
    with pytest.raises(CommandError, match="problem"):
        call_command("verify_identity_chain")


@pytest.mark.django_db
def test_a_rehashed_block_still_breaks_the_signature_and_the_next_link():
    for n in range(3):
        chain_record([event(n)])
    block = Block.objects.get(index=1)
    block.events = [event(99)]
    block.block_hash = block_hash(
        index=1, previous_hash=block.previous_hash, events=block.events, created_at=block.created_at
    )
    block.save()

    assert chain_verify() == [
        "block 1: the server's signature does not verify",
        "block 2: previous hash does not match the hash of the block before",
    ]


@pytest.mark.django_db
def test_a_missing_block_is_found():
    for n in range(3):
        chain_record([event(n)])
    Block.objects.filter(index=1).delete()

    assert "block 2: expected index 1" in chain_verify()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_make_one_chain():
    """Eight threads append at once, from an empty chain: no index is taken twice, every link holds."""

    def work(thread: int) -> Counter:
        for n in range(5):
            chain_record([event(thread * 100 + n)])
        return Counter(appended=5)

    assert in_threads(work) == Counter(appended=40)

    assert list(Block.objects.values_list("index", flat=True)) == list(range(40))
    assert chain_verify() == []
