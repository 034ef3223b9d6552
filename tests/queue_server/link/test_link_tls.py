"""Link up through nginx terminating TLS in front of the county (docs/link-up.md, "Through a reverse proxy with TLS").

The test makes a throwaway CA and the county's certificate with the `openssl` command, and runs nginx itself on a
loopback port with a configuration in its temporary folder (pid, logs and temporary files there: no root needed).
Without nginx or openssl it skips, saying why, except under CI=true (.ci/run installs nginx), where it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.queue_server.link.conftest import Linkage, log_rows, wait_until
from tests.queue_server.link.test_link_up import traffic
from tests.support.server import HALL, free_port

NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")
START_S = 10.0

# The `location` of docs/link-up.md, word for word (the test proves the documented configuration).
LOCATION = """
        location /api/v1/link/ {
            proxy_pass http://bianmin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            client_max_body_size 16m;
            client_body_buffer_size 1m;
            proxy_read_timeout 60s;
        }
"""


def _needed(program: str, *candidates: str) -> str:
    for candidate in candidates or (program,):
        found = shutil.which(candidate)
        if found:
            return found
    reason = f"{program} is not installed (Debian: apt-get install {program})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the TLS proxy test cannot run: {reason}")
    pytest.skip(reason)


def openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run([_needed("openssl"), *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def make_ca(folder: Path, name: str) -> Path:
    """A certificate authority of this test: its key and certificate (ca.pem) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)  # fmt: skip
    return folder / "ca.pem"


def make_server_certificate(ca: Path, folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by `ca`; (certificate, key)."""
    (folder / "server.ext").write_text(
        "subjectAltName = IP:127.0.0.1\nbasicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n"
        "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid, issuer\n",
        encoding="utf-8",
    )
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=127.0.0.1", cwd=folder)  # fmt: skip
    openssl("x509", "-req", "-in", "server.csr", "-CA", str(ca), "-CAkey", str(ca.with_suffix(".key")),
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext", cwd=folder)  # fmt: skip
    return folder / "server.pem", folder / "server.key"


@dataclass
class Proxy:
    port: int
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def access_log(self) -> str:
        return (self.folder / "access.log").read_text(encoding="utf-8")


def start_nginx(folder: Path, upstream_port: int, certificate: Path, key: Path) -> Proxy:
    nginx = _needed("nginx", *NGINX_CANDIDATES)
    port = free_port()
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / temp).mkdir(parents=True, exist_ok=True)
    temps = "\n".join(f"    {kind}_temp_path {folder / name};" for kind, name in (
        ("client_body", "client_body"), ("proxy", "proxy"), ("fastcgi", "fastcgi"), ("uwsgi", "uwsgi"),
        ("scgi", "scgi")))  # fmt: skip
    user = "user root;\n" if os.geteuid() == 0 else ""  # as root, workers would otherwise be nobody (temp paths)
    (folder / "nginx.conf").write_text(f"""{user}daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} info;
events {{ worker_connections 64; }}
http {{
    access_log {folder / "access.log"};
{temps}
    upstream bianmin {{ server 127.0.0.1:{upstream_port}; keepalive 8; }}
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name 127.0.0.1;
        ssl_certificate     {certificate};
        ssl_certificate_key {key};
{LOCATION}
    }}
}}
""", encoding="utf-8")  # fmt: skip
    argv = [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    proxy = Proxy(port, folder, process)
    deadline = time.monotonic() + START_S
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise AssertionError(f"nginx did not start: {(folder / 'error.log').read_text(errors='replace')}")
        try:
            httpx.get(f"{proxy.url}/", verify=False, timeout=1)  # any TLS answer: nginx listens
            return proxy
        except httpx.HTTPError:
            time.sleep(0.05)


@dataclass
class Pki:
    ca: Path
    other_ca: Path
    certificate: Path
    key: Path


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    ca = make_ca(tmp_path / "ca", "Bianmin test county CA")
    other = make_ca(tmp_path / "other-ca", "Some other CA")
    certificate, key = make_server_certificate(ca, tmp_path / "ca")
    return Pki(ca, other, certificate, key)


@pytest.fixture
def proxy(linkage: Linkage, pki: Pki, tmp_path: Path) -> Iterator[Proxy]:
    started = start_nginx(tmp_path / "nginx", linkage.county_port, pki.certificate, pki.key)
    yield started
    started.process.terminate()  # nginx: SIGTERM is a fast shutdown
    try:
        started.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        started.process.kill()
        started.process.wait()


def test_a_township_ships_through_nginx_with_tls_to_the_county(linkage: Linkage, proxy: Proxy, pki: Pki) -> None:
    county = linkage.start_county()
    linkage.token_file.write_text(linkage.add_token(), encoding="utf-8")
    township = linkage.start_township(url=proxy.url, ca_file=str(pki.ca))
    here = linkage.api(township)
    traffic(here, linkage, 4)
    linkage.caught_up()
    assert log_rows(county) == log_rows(township)
    assert f'POST /api/v1/link/halls/{HALL}/events HTTP/1.1" 200' in proxy.access_log()  # through the proxy
    wall = here.http.get("/wall", headers=here.bearer(here.manager)).json()
    assert wall["link"]["url"] == proxy.url and wall["link"]["last_error"] is None
    assert wall["link"]["waiting"] == 0


def test_a_certificate_of_another_ca_is_a_clear_error_on_the_wall_and_nothing_is_sent(
    linkage: Linkage, proxy: Proxy, pki: Pki
) -> None:
    county = linkage.start_county()
    linkage.token_file.write_text(linkage.add_token(), encoding="utf-8")
    township = linkage.start_township(url=proxy.url, ca_file=str(pki.other_ca))
    here = linkage.api(township)
    traffic(here, linkage, 2)

    def shown() -> str:
        wall = here.http.get("/wall", headers=here.bearer(here.manager)).json()
        return wall["link"]["last_error"] or ""

    wait_until(lambda: shown() != "", "no error on the wall")
    error = shown()
    assert f"the county's certificate at {proxy.url} is not trusted" in error, error
    assert "certificate" in error and "ca_file" in error and "证书验证失败" in error, error
    assert log_rows(county) == []
    assert "/api/v1/link/" not in proxy.access_log()  # no request got past the handshake
    wall = here.http.get("/wall", headers=here.bearer(here.manager)).json()
    assert wall["link"]["acked_seq"] == 0 and wall["link"]["waiting"] == len(log_rows(township)) > 0
