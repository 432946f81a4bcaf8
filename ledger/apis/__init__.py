"""The ledger API: public records, receipts, balances and their verification, and motions."""
