"""The shared kernel below every domain app: errors, API plumbing, money, locks and crypto."""

VERSION = "1.0.0"  # of the platform: the API schema and the federation document state it
