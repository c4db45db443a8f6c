"""Use cases: one function per thing a person does, each one database transaction.

Services take plain values and a `UnitOfWork`, return plain values (dataclasses), and raise
`domain.errors`. They are the only code that commits; entry points only parse and format.
"""
