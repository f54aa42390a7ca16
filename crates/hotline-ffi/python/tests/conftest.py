"""Shared helpers of the Python tests: the built programs, processes that are
always stopped, and a time limit on every test.

Run `../build.sh` first: it builds the library, the Python module and the
programs these tests start (from CARGO_TARGET_DIR, or target/ of the
repository).
"""

import json
import os
import pathlib
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

PYTHON_DIR = pathlib.Path(__file__).resolve().parents[1]
REPO = PYTHON_DIR.parents[2]
sys.path.insert(0, str(PYTHON_DIR))

BIN = pathlib.Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target") / "debug"

# No test runs longer than this, whatever hangs.
TEST_LIMIT_SECS = 120


def binary(name):
    path = BIN / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run crates/hotline-ffi/python/build.sh")
    return str(path)


class Process:
    """A program whose standard output is read line by line in the
    background; stopped (SIGTERM, then SIGKILL) by `stop` or at the end of
    the test."""

    def __init__(self, args, stdin=False, env=None):
        self.args = [str(a) for a in args]
        full_env = dict(os.environ, RUST_LOG="warn")
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
        )
        self.lines = queue.Queue()
        self.seen = []
        self.stderr = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()

    @staticmethod
    def _read(stream, q):
        for line in stream:
            q.put(line.rstrip("\n"))
        q.put(None)

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def expect(self, prefix, timeout=20):
        """The rest of the next output line starting with `prefix`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.args[0]}: no line {prefix!r} in {timeout}s; saw {self.seen}, stderr {''.join(self.stderr)}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise EOFError(f"{self.args[0]} ended before {prefix!r}; saw {self.seen}, stderr {''.join(self.stderr)}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line[len(prefix):]

    def send_line(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close_stdin(self):
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()

    def wait(self, timeout):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode


def issuer(tmp, *args):
    """Runs `hotline-issuer` in `tmp` and returns what it printed."""
    out = subprocess.run([binary("hotline-issuer"), *map(str, args)], cwd=tmp, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


def make_platform(tmp, name):
    """A platform as its operator makes it, in `tmp`: root.pub (the trust
    root), and one business named `name` with its identity (biz.secret) and
    certificate chain (biz.chain)."""
    issuer(tmp, "create-root", "--id", 1, "--secret-out", "root.secret", "--root-out", "root.pub")
    issuer(tmp, "create-issuer", "--root-secret", "root.secret", "--root", "root.pub", "--id", 7,
           "--levels", "verified", "--secret-out", "issuer.secret", "--cert-out", "issuer.cert")
    issuer(tmp, "new-business", "--secret-out", "biz.secret", "--identity-out", "biz.identity")
    issuer(tmp, "issue", "--issuer-secret", "issuer.secret", "--issuer-cert", "issuer.cert", "--serial", 1001,
           "--business-id", "50590000000000000000000000000001", "--identity", "biz.identity",
           "--name", name, "--name-index", "names.idx", "--cert-out", "biz.cert", "--chain-out", "biz.chain")
    return tmp / "root.pub"


@pytest.fixture
def gateway(processes):
    """Starts a `hotline-gateway` for the business of `make_platform` against
    the relay at `url`, with the JSON configuration `config`; waits until it
    is connected and returns (business account id, API URL)."""

    def start(tmp, url, config, admin_token):
        (tmp / "gateway.json").write_text(json.dumps(config))
        p = processes([
            binary("hotline-gateway"), "--relay", url, "--listen", "127.0.0.1:0",
            "--data-dir", tmp / "gateway-data", "--storage-key-file", tmp / "storage.key",
            "--identity-file", tmp / "biz.secret", "--certificate-chain", tmp / "biz.chain",
            "--config", tmp / "gateway.json",
        ])
        line = p.expect("hotline-gateway: business account ")
        business, _, api = line.partition(" , API on ")
        api = api.strip()
        deadline = time.monotonic() + 20
        while True:
            request = urllib.request.Request(f"{api}/v1/status", headers={"Authorization": f"Bearer {admin_token}"})
            with urllib.request.urlopen(request, timeout=10) as r:
                if json.loads(r.read())["connected"]:
                    break
            assert time.monotonic() < deadline, "the gateway never connected to the relay"
            time.sleep(0.1)
        return p, business.strip(), api

    return start


@pytest.fixture
def processes():
    """Starts programs; every one is stopped when the test ends."""
    started = []

    def start(args, **kw):
        p = Process(args, **kw)
        started.append(p)
        return p

    yield start
    for p in reversed(started):
        p.close_stdin()
        p.stop()


@pytest.fixture
def relay(processes):
    """Starts a `hotline-relay` on a free loopback port, in memory, trusting
    the root in `root_path`; returns its URL."""

    def start(root_path):
        p = processes([binary("hotline-relay"), "--listen", "127.0.0.1:0", "--db", "memory", "--trust-root", root_path])
        return "http://" + p.expect("listening on ")

    return start


@pytest.fixture(autouse=True)
def time_limit():
    """Fails a test that runs past TEST_LIMIT_SECS (the processes fixture
    then stops what it started)."""

    def expired(signum, frame):
        raise TimeoutError(f"the test ran longer than {TEST_LIMIT_SECS}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(TEST_LIMIT_SECS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
