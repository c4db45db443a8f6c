"""`voucher-witness`: an independent witness of transparency logs (c2sp.org/tlog-witness).

It runs apart from the ledger, with its own key and its own database (SQLite or PostgreSQL), and
reads nothing of the ledger but the checkpoints and proofs the log sends it: a province's
Department of Finance, an audit office or a university runs one, and a reader who demands their
cosignatures knows that everyone is shown the same books.
"""
