"""How a SQLite transaction begins, as a connection execution option.

Writers begin ``IMMEDIATE`` (they take SQLite's one write lock at once, so two writers never
deadlock half-way); readers begin ``DEFERRED`` (no write lock: reads never stall submissions).
``db`` sets the mode on engines and sessions, ``audit`` refuses to extend the chain from a
reader. A module of its own so that both can import it without importing each other.
"""

BEGIN_OPTION = "pollwatch_sqlite_begin"  # connection execution option: "IMMEDIATE" | "DEFERRED"
