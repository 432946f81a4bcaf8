"""The shared kernel below every domain app: errors, API plumbing, money, locks and crypto."""
