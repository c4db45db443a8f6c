"""Database access: typed SQLAlchemy models, the engine, and the unit of work."""
