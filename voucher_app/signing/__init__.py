"""Keys and signatures: signed notes for ledger checkpoints, JWS for vouchers.

`note` is pure (bytes in, bytes out) and shared with the outside auditor; `keyring` reads and
writes the key files.
"""
