"""RFC 3161 timestamps of checkpoints against a local TSA (``openssl ts -reply``, loopback only)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("rfc3161_client")

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from pollwatch.evidence.chain import AuditEntry, relink  # noqa: E402
from pollwatch.evidence.checkpoint import make_checkpoint  # noqa: E402
from pollwatch.evidence.timestamp import (  # noqa: E402
    Timestamp,
    TimestampError,
    request_timestamp,
    verify_timestamp,
)

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

TSA_CONF = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def make_tsa(d: Path, name: str) -> Path:
    d.mkdir()
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(d / "tsa.key"), "-out", str(d / "tsa.pem"), "-subj", f"/CN={name}",
         "-addext", "extendedKeyUsage=critical,timeStamping",
         "-addext", "keyUsage=critical,digitalSignature"],
        check=True, capture_output=True,
    )  # fmt: skip
    (d / "serial").write_text("01\n")
    (d / "tsa.cnf").write_text(TSA_CONF.format(dir=d))
    return d


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    """A timestamp authority on 127.0.0.1: each POST is answered by ``openssl ts -reply``."""
    d = make_tsa(tmp_path_factory.mktemp("tsa") / "ca", "pollwatch test TSA")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                (d / "q.tsq").write_bytes(query)
                subprocess.run(
                    [OPENSSL, "ts", "-reply", "-config", str(d / "tsa.cnf"),
                     "-queryfile", str(d / "q.tsq"), "-out", str(d / "r.tsr")],
                    check=True, capture_output=True,
                )  # fmt: skip
                reply = (d / "r.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cert = x509.load_pem_x509_certificate((d / "tsa.pem").read_bytes())
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa", cert, d
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def checkpoint():
    entries = relink(AuditEntry(i, "t", "p", "create", "x", i, "{}", "") for i in range(1, 6))
    return make_checkpoint(entries, Ed25519PrivateKey.generate())


def test_timestamp_a_checkpoint_and_verify_offline(tsa, checkpoint):
    url, cert, _ = tsa
    ts = request_timestamp(checkpoint, url, tsa_certificate=cert)
    assert ts.message == checkpoint.text().encode()
    when = verify_timestamp(ts, tsa_certificate=cert)
    assert when == ts.gen_time
    # stored as a line beside the checkpoint, read back and verified without the network
    again = Timestamp.parse(checkpoint.text(), ts.text())
    assert verify_timestamp(again, tsa_certificate=cert) == when


def test_token_does_not_cover_another_checkpoint(tsa, checkpoint):
    url, cert, _ = tsa
    ts = request_timestamp(checkpoint, url)
    other = Timestamp(checkpoint.text().replace(" 5 ", " 6 ", 1).encode(), ts.token, ts.gen_time)
    with pytest.raises(TimestampError, match="does not verify"):
        verify_timestamp(other, tsa_certificate=cert)


def test_another_tsa_certificate_is_refused(tsa, checkpoint, tmp_path):
    url, _, _ = tsa
    ts = request_timestamp(checkpoint, url)
    stranger = make_tsa(tmp_path / "other", "someone else")
    other = x509.load_pem_x509_certificate((stranger / "tsa.pem").read_bytes())
    with pytest.raises(TimestampError, match="does not verify"):
        verify_timestamp(ts, tsa_certificate=other)
    with pytest.raises(TimestampError, match="needs the TSA"):
        verify_timestamp(ts)


def test_unreachable_tsa(checkpoint):
    with pytest.raises(TimestampError, match="unreachable"):
        request_timestamp(checkpoint, "http://127.0.0.1:9/tsa", timeout=2)
