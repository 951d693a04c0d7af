"""The machinery behind election day's traffic, the submission POSTs: ``writer`` (the
group-commit writer that checks and stores them in batches) and ``tokens`` (the per-process
cache of the users behind bearer tokens, PostgreSQL). The ASGI middleware that answers those
POSTs in front of FastAPI's router is ``api.fastpath`` (it mirrors the API's dependencies, so it
lives with them; nothing here imports ``api``). ``docs/service-throughput.md`` measures them."""
