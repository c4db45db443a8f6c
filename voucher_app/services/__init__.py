"""Use cases: one function per thing a person does, each one database transaction.

Services take plain values and a `UnitOfWork`, return plain values (dataclasses), and raise
`domain.errors`. They are the only code that commits; entry points only parse and format.

They find the rows they work on through the unit of work's repositories
(`uow.vouchers.by_public_id(id, lock=True)`, `uow.centers.by_code(code)`:
`persistence.repositories`), not by composing the query again. A row becomes what a reader sees
through one function per kind, `<thing>_view(uow, row, …) -> ThingView` (without `uow` when the
row is all it needs), named with a leading underscore while only its own module uses it.
"""
