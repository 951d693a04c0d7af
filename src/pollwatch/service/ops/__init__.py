"""Operating a deployment: encrypted backups and restores, the deployment check, logging.

``docs/deploy.md`` is the guide; ``pollwatch backup``, ``pollwatch restore`` and
``pollwatch doctor`` are the commands.
"""
