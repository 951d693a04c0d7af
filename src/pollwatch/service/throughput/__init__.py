"""The fast path of election day's traffic, the submission POSTs: ``fastpath`` (an ASGI
middleware answering them in front of FastAPI's router), ``writer`` (the group-commit writer
that checks and stores them in batches) and ``tokens`` (the per-process cache of the users
behind bearer tokens, PostgreSQL). ``docs/service-throughput.md`` measures them."""
