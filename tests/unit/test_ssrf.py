"""The SSRF guard on address literals and loopback only: no test here sends traffic outside 127.0.0.0/8."""

from __future__ import annotations

import ipaddress
import ssl
import threading
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpcore
import httpx
import pytest

from pipeline.errors import BlockedAddressError
from pipeline.ssrf import (
    GuardedBackend,
    GuardedTransport,
    Network,
    Resolver,
    blocked_reason,
    check_address,
    check_url,
    guarded_addresses,
)

LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"),)


def nets(*cidrs: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.0.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata endpoint
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
        ("192.0.2.1", "private"),  # documentation
        ("198.18.0.1", "private"),  # benchmarking
        ("::ffff:127.0.0.1", "loopback (127.0.0.1 inside ::ffff:7f00:1)"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 around 169.254.169.254
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 around 169.254.169.254
        ("::127.0.0.1", "reserved"),  # IPv4-compatible (deprecated)
    ],
)
def test_blocked_literals(address: str, reason: str) -> None:
    found = blocked_reason(ipaddress.ip_address(address))
    assert found is not None and found.startswith(reason)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::808:808", "::ffff:8.8.8.8"])
def test_public_literals_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("address", "allowed", "passes"),
    [
        ("127.0.0.1", "127.0.0.0/8", True),
        ("127.0.0.1", "127.0.0.2/32", False),
        ("::ffff:127.0.0.1", "127.0.0.0/8", True),
        ("::1", "127.0.0.0/8", False),
        ("::1", "::1/128", True),
        ("10.9.8.7", "10.0.0.0/8", True),
        ("169.254.169.254", "10.0.0.0/8", False),
    ],
)
def test_allow_list(address: str, allowed: str, passes: bool) -> None:
    assert (blocked_reason(ipaddress.ip_address(address), nets(allowed)) is None) is passes


def test_check_address_names_host_and_address() -> None:
    with pytest.raises(BlockedAddressError, match=r"feeds\.test resolves to 10\.0\.0\.5, which is private"):
        check_address("10.0.0.5", host="feeds.test")
    assert str(check_address("fe80::1%eth0", nets("fe80::/10"))) == "fe80::1"  # zone ids from getaddrinfo


def fixed(answers: dict[str, list[str]], calls: list[str] | None = None) -> Resolver:
    """A resolver that answers from a table and records what it was asked, instead of using DNS."""

    def resolver(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise OSError("name not known")
        return answers[host]

    return resolver


def test_any_blocked_answer_blocks_the_name() -> None:
    resolver = fixed({"mixed.test": ["8.8.8.8", "10.0.0.1"], "public.test": ["8.8.8.8", "2606:4700::1"]})
    with pytest.raises(BlockedAddressError, match="10.0.0.1"):
        guarded_addresses("mixed.test", 80, resolver=resolver)
    assert guarded_addresses("public.test", 80, resolver=resolver) == ["8.8.8.8", "2606:4700::1"]


def test_resolution_failures_are_connect_errors() -> None:
    resolver = fixed({"empty.test": []})
    with pytest.raises(httpcore.ConnectError, match="could not resolve"):
        guarded_addresses("missing.test", 80, resolver=resolver)
    with pytest.raises(httpcore.ConnectError, match="no addresses"):
        guarded_addresses("empty.test", 80, resolver=resolver)


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "127.1", "0x7f.1", "::1", "[::ffff:7f00:1]"])
def test_literals_are_never_resolved(host: str) -> None:
    calls: list[str] = []
    with pytest.raises(BlockedAddressError):
        guarded_addresses(host, 80, resolver=fixed({}, calls))
    assert calls == []


def test_localhost_name() -> None:
    # "localhost" comes from /etc/hosts; it may also resolve to ::1, so open both loopbacks.
    with pytest.raises(BlockedAddressError, match="localhost resolves to"):
        guarded_addresses("localhost", 80)
    addresses = guarded_addresses("localhost", 80, nets("127.0.0.0/8", "::1/128"))
    assert addresses and all(ipaddress.ip_address(a).is_loopback for a in addresses)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "scheme 'file'"),
        ("ftp://127.0.0.1/", "scheme 'ftp'"),
        ("gopher://127.0.0.1:70/", "scheme 'gopher'"),
        ("javascript:alert(1)", "scheme 'javascript'"),
        ("http:///path", "no host"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]:8080/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("https://0x7f.1/", "loopback"),
    ],
)
def test_check_url_refuses(url: str, message: str) -> None:
    with pytest.raises(BlockedAddressError, match=message) as info:
        check_url(url)
    assert info.value.url == url


def test_check_url_resolves_names_only_with_a_resolver() -> None:
    check_url("https://feeds.invalid/rss")  # no resolver: names wait for the connection's check
    check_url("http://127.0.0.1:8080/", LOOPBACK)
    with pytest.raises(BlockedAddressError, match="intranet.test resolves to 192.168.1.1"):
        check_url("http://intranet.test/", resolver=fixed({"intranet.test": ["192.168.1.1"]}))


class Recording(httpcore.NetworkBackend):
    """Records connection targets and fails the ones listed, without touching the network."""

    def __init__(self, refuse: Iterable[str] = ()) -> None:
        self.targets: list[str] = []
        self.refuse = set(refuse)

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: object = None) -> httpcore.NetworkStream:
        self.targets.append(host)
        if host in self.refuse:
            raise httpcore.ConnectError("refused")
        return httpcore.MockStream([])


def test_backend_connects_to_the_checked_address_with_one_lookup() -> None:
    # A rebinding server: public for the first question, loopback for any later one.
    answers = iter([["8.8.8.8"], ["127.0.0.1"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    inner = Recording()
    GuardedBackend(resolver=rebinding, inner=inner).connect_tcp("rebind.test", 443)
    assert calls == ["rebind.test"] and inner.targets == ["8.8.8.8"]


def test_backend_falls_back_to_the_next_checked_address() -> None:
    inner = Recording(refuse=["2606:4700::1"])
    resolver = fixed({"two.test": ["2606:4700::1", "8.8.8.8"]})
    GuardedBackend(resolver=resolver, inner=inner).connect_tcp("two.test", 80)
    assert inner.targets == ["2606:4700::1", "8.8.8.8"]


def test_backend_refuses_before_connecting() -> None:
    inner = Recording()
    backend = GuardedBackend(resolver=fixed({"meta.test": ["169.254.169.254"]}), inner=inner)
    with pytest.raises(BlockedAddressError, match="169.254.169.254, which is link-local"):
        backend.connect_tcp("meta.test", 80)
    with pytest.raises(BlockedAddressError, match="unix socket"):
        backend.connect_unix_socket("/var/run/docker.sock")
    assert inner.targets == []


class EchoHost(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = (self.headers["Host"] or "").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass


@pytest.fixture
def echo_port() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), EchoHost)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_transport_keeps_the_host_header_and_connects_to_the_checked_ip(echo_port: int) -> None:
    resolver = fixed({"feeds.test": ["127.0.0.1"]})
    with httpx.Client(transport=GuardedTransport(LOOPBACK, resolver=resolver)) as client:
        response = client.get(f"http://feeds.test:{echo_port}/")
    assert response.text == f"feeds.test:{echo_port}"


def test_transport_refuses_a_name_that_resolves_to_loopback(echo_port: int) -> None:
    resolver = fixed({"feeds.test": ["127.0.0.1"]})
    with httpx.Client(transport=GuardedTransport(resolver=resolver)) as client:
        with pytest.raises(BlockedAddressError, match="feeds.test resolves to 127.0.0.1"):
            client.get(f"http://feeds.test:{echo_port}/")


def test_transport_translates_errors_to_httpx() -> None:
    resolver = fixed({})
    with httpx.Client(transport=GuardedTransport(resolver=resolver)) as client:
        with pytest.raises(httpx.ConnectError, match="could not resolve"):
            client.get("http://missing.test/")


def _certificate(name: str) -> tuple[bytes, bytes]:
    """A self-signed certificate for ``name`` and its key, both PEM."""
    import datetime

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def test_tls_uses_the_hostname_for_sni_and_the_certificate(tmp_path: Path) -> None:

    cert_pem, key_pem = _certificate("feeds.test")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert_pem)
    key_file.write_bytes(key_pem)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    seen_sni: list[str | None] = []

    def record_sni(sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        seen_sni.append(name)

    server_context.sni_callback = record_sni

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), EchoHost)
    httpd.socket = server_context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    port = httpd.server_address[1]
    client_context = ssl.create_default_context(cadata=cert_pem.decode())
    resolver = fixed({"feeds.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    try:
        transport = GuardedTransport(LOOPBACK, resolver=resolver, ssl_context=client_context)
        with httpx.Client(transport=transport) as client:
            assert client.get(f"https://feeds.test:{port}/").text == f"feeds.test:{port}"
            # Same checked IP, other name: the certificate is checked against the name, not the IP.
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                client.get(f"https://other.test:{port}/")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
    assert seen_sni[0] == "feeds.test"


def test_a_hanging_lookup_counts_as_connect_time() -> None:
    release = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        release.wait(5)
        return ["8.8.8.8"]

    backend = GuardedBackend(resolver=hanging, inner=Recording())
    try:
        with pytest.raises(httpcore.ConnectTimeout, match="resolving slow.test"):
            backend.connect_tcp("slow.test", 80, timeout=0.1)
    finally:
        release.set()
        backend.close()
