"""The identity API: identities and keys, reputation challenges, propositions and votes."""
