"""Every cryptographic primitive of Trustbank, one module per concept (docs/architecture.md)."""
