"""The per-process routing graph: synced lazily, and confirmed fresh before a refusal stands."""

from tests.trust.factories import community_with_commons, member_account, trust
from trust.routing.graph import graph_for
from trust.services.settlement import plan_here


def test_the_graph_syncs_at_most_once_per_interval_unless_asked_fresh(db, settings):
    settings.GRAPH_SYNC_INTERVAL_SECONDS = 60
    community = community_with_commons()
    alice, bob = member_account(community, "alice"), member_account(community, "bob")
    graph_for(community.pk)

    trust(bob, alice, 5)  # written behind the graph's back, as another process would

    assert graph_for(community.pk).out[alice.pk].get(bob.pk) is None
    assert graph_for(community.pk, fresh=True).out[alice.pk][bob.pk] == 5


def test_a_refusal_is_checked_against_a_fresh_graph(db, settings):
    settings.GRAPH_SYNC_INTERVAL_SECONDS = 60
    community = community_with_commons()
    alice, bob = member_account(community, "alice"), member_account(community, "bob")
    graph_for(community.pk)
    trust(bob, alice, 5)

    plan = plan_here(alice, bob, 5)

    assert plan.paths == [([alice.pk, bob.pk], 5)]
