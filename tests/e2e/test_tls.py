"""End-to-end: TLS as in production.  A throwaway CA signs a certificate
for 127.0.0.1; a TLS relay in front of the fake Slack serves both the Web
API (curl) and the Socket Mode link (lws) over it.  vigil must trust what
the OS certificate directory ($SSL_CERT_DIR here) trusts and nothing else:
it works with the CA in the directory and refuses without it."""
import os
import socket
import ssl
import subprocess
import sys
import threading

from harness import ROOT, Bot, Raw, wait_for, write_config

sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fake_slack import FakeSlack  # noqa: E402

TOKENS = {"SLACK_APP_TOKEN": "xapp-1-test", "SLACK_BOT_TOKEN": "xoxb-test"}


def make_pki(tmp):
    """A CA and a server certificate for 127.0.0.1 signed by it; the CA in
    a hashed directory as update-ca-certificates leaves /etc/ssl/certs."""
    os.makedirs(tmp, exist_ok=True)

    def ossl(*args):
        subprocess.run(["openssl", *args], cwd=tmp, check=True, capture_output=True)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
         "/CN=vigil test CA", "-keyout", "ca.key", "-out", "ca.pem")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(tmp, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:127.0.0.1\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem")
    trusted, empty = os.path.join(tmp, "trusted"), os.path.join(tmp, "empty")
    os.makedirs(trusted)
    os.makedirs(empty)
    os.rename(os.path.join(tmp, "ca.pem"), os.path.join(trusted, "ca.pem"))
    subprocess.run(["openssl", "rehash", trusted], check=True, capture_output=True)
    return trusted, empty


class TlsRelay:
    """Terminates TLS on 127.0.0.1 and pipes the bytes to the fake."""

    def __init__(self, tmp, target_port):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(tmp, "server.pem"), os.path.join(tmp, "server.key"))
        self.target = target_port
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.port = self.lsock.getsockname()[1]
        self.handshakes_failed = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                raw, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw):
        try:
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshakes_failed += 1   # the client refused our certificate
            raw.close()
            return
        up = socket.create_connection(("127.0.0.1", self.target))

        def pipe(a, b):
            try:
                while True:
                    data = a.recv(65536)
                    if not data:
                        break
                    b.sendall(data)
            except OSError:
                pass
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        threading.Thread(target=pipe, args=(up, tls), daemon=True).start()
        pipe(tls, up)

    def close(self):
        self.lsock.close()


def start(tmp, fs, relay, cert_dir, link=None):
    fs.link_base = f"wss://127.0.0.1:{(link or relay).port}"
    cfg = write_config(
        tmp, chat="slack", replay={"file": os.path.join(tmp, "none.jsonl"), "interval": 1},
        staff={"U1": {"name": "Alice Jensen", "initials": "AJ", "role": "lead"}},
        channels={"mentions": "C_MENTIONS", "escalations": "C_ESCALATE"},
        slack={"app_token": Raw('env("SLACK_APP_TOKEN")'), "bot_token": Raw('env("SLACK_BOT_TOKEN")'),
               "api_url": f"https://127.0.0.1:{relay.port}/api/", "give_up_after": 600})
    open(os.path.join(tmp, "none.jsonl"), "w").close()
    return Bot(tmp, cfg, env=dict(TOKENS, SSL_CERT_DIR=cert_dir, SSL_CERT_FILE="/nonexistent"))


def test_tls_to_slack_trusts_the_os_certificate_directory_and_nothing_else(tmp):
    trusted, empty = make_pki(tmp)
    fs = FakeSlack(app_token="xapp-1-test", bot_token="xoxb-test",
                   channels=("C_MENTIONS", "C_ESCALATE"), users={"U1": {"name": "alice"}}).start()
    relay = TlsRelay(tmp, fs.port)
    try:
        # Trusted: the Web API over HTTPS and the socket over wss both work.
        bot = start(tmp, fs, relay, trusted)
        fs.wait_connected(timeout=20)
        env = fs.send_slash("whoami", user_id="U1")
        ack = fs.wait_ack(env, timeout=5)
        assert "Alice Jensen" in ack["payload"]["text"], ack
        assert bot.stop()[0] == 0
        assert fs.errors == [], fs.errors
        # Not trusted: nothing gets through, and the log says why.
        calls = len(fs.calls)
        bot = start(tmp, fs, relay, empty)
        wait_for(lambda: relay.handshakes_failed > 0, 15, "a refused TLS handshake", bot)
        assert len(fs.calls) == calls, "an API call got through an untrusted certificate"
        wait_for(lambda: "certificate" in bot.stderr().lower()
                 or "ssl" in bot.stderr().lower(), 10, "a TLS error in the log", bot)
        bot.stop()
        # The socket is checked on its own: the Web API trusted, the link
        # served with a certificate from a CA the directory does not hold.
        other = os.path.join(tmp, "other")
        make_pki(other)
        rogue = TlsRelay(other, fs.port)
        try:
            bot = start(tmp, fs, relay, trusted, link=rogue)
            wait_for(lambda: rogue.handshakes_failed > 0, 15, "lws refusing the link", bot)
            assert fs.wait_calls("apps.connections.open")
            assert not [e for e in fs.connection_log if e[1] == "hello"][1:], \
                "a socket was opened through an untrusted certificate"
            bot.stop()
        finally:
            rogue.close()
    finally:
        relay.close()
        fs.stop()
