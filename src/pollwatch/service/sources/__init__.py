"""The service database as the library's inputs: the adapters between the observation
service's tables and the methods below it.

* :mod:`~pollwatch.service.sources.cameras` — watchers' tallies, the camera-status log and
  events, as :mod:`pollwatch.cameras` reads them from CSV;
* :mod:`~pollwatch.service.sources.quickcount` — observers' protocol copies, reconciled, as
  :class:`pollwatch.quickcount.ProtocolCopies`;
* :mod:`~pollwatch.service.sources.evidence` — export and verification of the live audit
  chain and media store with :mod:`pollwatch.evidence`;
* :mod:`~pollwatch.service.sources.dossier` — observers' submissions for
  :mod:`pollwatch.fusion`, and the signed bundle of chosen stations' dossiers.

The methods know nothing of the service: these adapters live here, above them, so that imports
only point down (``docs/architecture.md``). They only read the database.
"""
