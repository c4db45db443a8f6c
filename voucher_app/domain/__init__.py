"""The rules of the voucher scheme as plain Python: no Flask, no SQLAlchemy, no I/O."""
