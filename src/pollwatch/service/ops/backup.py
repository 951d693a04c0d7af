"""``pollwatch backup`` and ``pollwatch restore``: database, media and keys in one sealed file.

What goes in (``docs/deploy.md`` §8): a consistent snapshot of the database (SQLite's online
backup API, or ``pg_dump --format=custom`` for PostgreSQL), every file of the data directory
(the media store, ``keys/`` with the signing key, the pseudonym secret and the data key), and a
``manifest.json`` with each member's SHA-256, the schema revision and the pollwatch version. The
tar is sealed under a passphrase (:mod:`~pollwatch.service.ops.sealed`) unless the operator
asks for a plain one. The signing key's own passphrase is *not* in the backup: keep it apart.

A restore checks every hash before it writes anything, refuses a non-empty target unless told
to overwrite, restores the database, the files (keys with owner-only permissions) and migrates
the schema to this version.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from pollwatch.service.config import Settings
from pollwatch.service.db import migrate
from pollwatch.service.ops.sealed import SealError, is_sealed, open_sealed, seal

__all__ = ["BackupError", "BackupInfo", "backup", "restore"]

FORMAT = "pollwatch-backup/1"


class BackupError(RuntimeError):
    """A backup or restore that cannot go on, with the reason."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    database: str
    revision: str | None
    files: int
    bytes: int
    sealed: bool


def _version() -> str:
    try:
        return metadata.version("pollwatch")
    except metadata.PackageNotFoundError:
        return "unknown"


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / name).exists():
            return str(d / name)
    raise BackupError(
        f"{name} not found: install PostgreSQL's client tools (Debian: postgresql-client)"
    )


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries it."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    dsn = u.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return dsn, env


def _revision(url: str) -> str | None:
    eng = create_engine(url)
    try:
        with eng.connect() as c:
            if not inspect(c).has_table("alembic_version"):
                return None
            return c.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        eng.dispose()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _dump_database(url: str, dest: Path) -> str:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if not u.database or not Path(u.database).exists():
            raise BackupError(f"the SQLite database {u.database!r} does not exist")
        src = sqlite3.connect(u.database)
        out = sqlite3.connect(dest / "database.sqlite")
        try:
            src.backup(out)  # a consistent snapshot while the service keeps writing
        finally:
            out.close()
            src.close()
        return "database.sqlite"
    dsn, env = _libpq(url)
    res = subprocess.run(
        [
            _pg_tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--file",
            str(dest / "database.pgdump"),
            dsn,
        ],  # fmt: skip
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        raise BackupError(f"pg_dump failed: {res.stderr.strip()[:500]}")
    return "database.pgdump"


def backup(settings: Settings, out: Path, *, passphrase: bytes | None) -> BackupInfo:
    """Write a backup of ``settings``' database and data directory to ``out``.

    ``passphrase`` seals it; ``None`` writes a plain tar (only for a destination that is itself
    encrypted: the archive holds the keys that reveal observers' identities).
    """
    db_url = settings.database_url
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        db_file = _dump_database(db_url, stage)
        files = {db_file: _sha256(stage / db_file)}
        data = settings.data_dir
        sqlite_path = (
            make_url(db_url).database if make_url(db_url).get_backend_name() == "sqlite" else None
        )
        skip = {Path(sqlite_path).resolve()} if sqlite_path else set()
        members = []
        if data.is_dir():
            for p in sorted(data.rglob("*")):
                if p.is_file() and not p.is_symlink() and p.resolve() not in skip and not p.name.endswith(("-wal", "-shm", "-journal")):  # fmt: skip
                    rel = "data/" + p.relative_to(data).as_posix()
                    files[rel] = _sha256(p)
                    members.append((p, rel))
        kind, revision = make_url(db_url).get_backend_name(), _revision(db_url)
        manifest = {
            "format": FORMAT,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "version": _version(),
            "database": {
                "kind": make_url(db_url).get_backend_name(),
                "file": db_file,
                "revision": _revision(db_url),
            },  # fmt: skip
            "files": files,
        }
        tar_path = stage / "backup.tar"
        with tarfile.open(tar_path, "w") as tar:
            blob = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
            tar.add(stage / db_file, arcname=db_file)
            for p, rel in members:
                tar.add(p, arcname=rel)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = out.with_name(out.name + ".part")
        fd = os.open(tmp_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as dst, tar_path.open("rb") as src:
            if passphrase:
                seal(src, dst, passphrase)
            else:
                shutil.copyfileobj(src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp_out, out)
    return BackupInfo(out, kind, revision, len(files), out.stat().st_size, bool(passphrase))


def _open_tar(archive: Path, passphrase: bytes | None, stage: Path) -> Path:
    with archive.open("rb") as fh:
        head = fh.read(8)
    if not is_sealed(head):
        return archive
    if not passphrase:
        raise BackupError(f"{archive} is sealed: give its passphrase")
    plain = stage / "backup.tar"
    with archive.open("rb") as src, plain.open("wb") as dst:
        try:
            for block in open_sealed(src, passphrase):
                dst.write(block)
        except SealError as exc:
            raise BackupError(f"{archive}: {exc}") from None
    return plain


def _empty_database(url: str) -> bool:
    eng = create_engine(url)
    try:
        with eng.connect() as c:
            return not [t for t in inspect(c).get_table_names() if t != "alembic_version"]
    except Exception:  # noqa: BLE001 - a database that cannot be opened yet holds nothing
        return True
    finally:
        eng.dispose()


def restore(archive: Path, settings: Settings, *, passphrase: bytes | None, overwrite: bool = False) -> dict:  # fmt: skip
    """Restore ``archive`` into ``settings``' database and data directory (see the module
    docstring). Returns the manifest."""
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        tar_path = _open_tar(archive, passphrase, stage)
        try:
            tar = tarfile.open(tar_path, "r")
        except tarfile.TarError as exc:
            raise BackupError(f"{archive}: not a pollwatch backup ({exc})") from None
        with tar:
            try:
                manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
            except (KeyError, AttributeError, ValueError):
                raise BackupError(f"{archive}: no readable manifest.json") from None
            if manifest.get("format") != FORMAT:
                raise BackupError(
                    f"{archive}: format {manifest.get('format')!r}, expected {FORMAT!r}"
                )
            listed = manifest["files"]
            names = {m.name for m in tar.getmembers() if m.isfile()} - {"manifest.json"}
            if names != set(listed):
                raise BackupError(f"{archive}: members do not match the manifest ({sorted(names ^ set(listed))[:5]})")  # fmt: skip
            out = stage / "x"
            for m in tar.getmembers():
                if m.name == "manifest.json":
                    continue
                # the 'data' filter refuses absolute paths, '..', links out of the tree, devices
                tar.extract(m, out, filter="data")
        for name, digest in listed.items():
            if _sha256(out / name) != digest:
                raise BackupError(f"{archive}: {name} does not match its SHA-256 in the manifest")
        url = settings.database_url
        data = settings.data_dir
        if not overwrite and (not _empty_database(url) or (data.exists() and any(data.iterdir()))):
            raise BackupError(
                "the target database or data directory is not empty; restore into an empty one, "
                "or pass --overwrite to replace them"
            )
        db = manifest["database"]
        kind = make_url(url).get_backend_name()
        if db["kind"] != kind:
            raise BackupError(f"the backup holds a {db['kind']} database; the target is {kind}")
        if kind == "sqlite":
            target = Path(make_url(url).database or "")
            target.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("-wal", "-shm", "-journal"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            shutil.copyfile(out / db["file"], target)
        else:
            dsn, env = _libpq(url)
            res = subprocess.run(
                [
                    _pg_tool("pg_restore"),
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--dbname",
                    dsn,
                    str(out / db["file"]),
                ],  # fmt: skip
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if res.returncode != 0:
                raise BackupError(f"pg_restore failed: {res.stderr.strip()[:500]}")
        if overwrite and data.exists():
            shutil.rmtree(data)
        src_data = out / "data"
        if src_data.exists():
            shutil.copytree(src_data, data, dirs_exist_ok=True)
        keys = data / "keys"
        if keys.exists():
            os.chmod(keys, 0o700)
            for p in keys.rglob("*"):
                os.chmod(p, 0o700 if p.is_dir() else 0o600)
        migrate(url)
        return manifest
