"""The journal, its verifiable Merkle log and checkpoints.

Only this package writes journal tables, and it declares them (`tables`, on persistence's
`Base`). Persistence does not import it: the wiring hands the unit of work the `Journal`, and
`unit_of_work` names the resulting types for the services. Its pure modules (`canonical`,
`merkle`, `document`, `replay`, `audit`) import nothing from Flask or SQLAlchemy, so the outside
auditor uses them too.
"""
