"""The journal, its verifiable Merkle log and checkpoints.

Only this package writes journal tables. Its pure modules (`canonical`, `merkle`, `document`,
`replay`, `audit`) import nothing from Flask or SQLAlchemy, so the outside auditor uses them too.
"""
