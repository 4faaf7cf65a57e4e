#!/usr/bin/env python3
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for every image of the registry (standard library only).

Pushed to the local test registry under every image name the registry uses, so a
rendered stack can be started for real without any outside image.

Listens on TCP:
  * every port of ``STANDIN_PORTS`` (space or comma separated), if set;
  * otherwise ``PORT`` plus ``STANDIN_DEFAULT_PORTS`` (baked into each pushed image
    from the registry: container ports of images that have no ``PORT`` variable,
    e.g. 3306 for mysql, 5038/5060/8088 for asterisk);
  * otherwise 8080.
Each port speaks HTTP/1.1: ``GET /health`` -> 200 and JSON
``{"status": "ok", "version": ..., "image": ...}``; ``GET /status`` -> JSON of what
the stand-in has seen; any other request -> 200. Plain TCP connections are accepted
(and counted) too.

Versions: ``STANDIN_VERSION`` (baked into the ``v<version>`` tags of the test
registry, e.g. 1.0.0 and 1.1.0; unset on the original tag, reported as null) is
reported by ``/health`` and ``/status``. When ``STANDIN_BROKEN_VERSIONS`` (space or
comma separated; a leading ``v`` is ignored on both sides) lists it, ``/health``
answers 503 ``{"status": "broken", "version": ...}`` instead, and one line saying so
is printed to stdout at startup: a host where the new version "fails its health
check" for rollout tests.

Faults (health gate tests): ``STANDIN_FAULTS`` (space or comma separated
``<version>=<fault>`` entries; a leading ``v`` is ignored) gives the container's
``STANDIN_VERSION`` one of these faults, announced by one line on stdout at startup:
  * ``exit``: exits at once with status 1, listening on nothing;
  * ``exit-after:<seconds>`` (default 3): works normally, then exits with status 1;
  * ``no-listen``: runs (and answers SIGTERM) but never listens on any port;
  * ``unhealthy``: as if listed in ``STANDIN_BROKEN_VERSIONS`` (``/health`` answers 503).
A version without an entry (and the untagged image, whose version is null) has no fault.

For every variable whose name ends in ``_URL`` and whose value is an http, https,
ws or wss URL with a host, it tries a TCP connection to host:port every
``STANDIN_PROBE_INTERVAL`` seconds (default 1) until one succeeds or
``STANDIN_PROBE_ATTEMPTS`` tries (default 600) are used up. ``/status`` reports
per variable whether it was reached. Only variable *names* are ever reported, never
values (they may hold keys); probe errors are reported by exception class only.

Command-line arguments are ignored (a compose ``command:`` such as mysql's
``mysqld --default-authentication-plugin=...`` must not stop the stand-in).
SIGTERM/SIGINT stop it within a fraction of a second (it usually runs as PID 1,
where signals without a handler are ignored).

All-in-one images (one image configured per tenant by environment, like the example catalog
docs/examples/voice-agent.yml) have two more settings, baked into their pushed image:
  * ``STANDIN_REQUIRED`` (space or comma separated variable names): when one of them is unset
    or empty at start, it prints ``[FATAL] Missing required environment variables: A, B``
    (every missing name, in the order listed) to stderr and exits with status 1, listening on
    nothing;
  * ``STANDIN_JSON`` (names of variables that must hold JSON): a set value that does not parse
    gives ``[FATAL] Invalid JSON in environment variable X`` on stderr (the first such variable,
    in the order listed; the value is never printed) and exit status 1.
Both checks come first, before the version and its faults.

The ports actually listened on are written to ``STANDIN_PORTS_FILE`` (default
/run/standin.ports) for the ``mysqladmin`` and ``agent-healthcheck`` shims of the image.
"""

import http.server
import json
import os
import signal
import socket
import socketserver
import sys
import threading
import time
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
MAX_PATHS = 100
STARTED = time.time()

LOCK = threading.Lock()
STOP = threading.Event()
CONNECTIONS = {}   # port -> accepted connections
REQUESTS = {}      # "METHOD /path" (query dropped) -> count
PROBES = {}        # var name -> {"reached": bool, "attempts": int, "last_error": str|None}
LISTENING = []
VERSION = None     # STANDIN_VERSION, None when unset
BROKEN = False     # VERSION is listed in STANDIN_BROKEN_VERSIONS


def log(msg):
    sys.stderr.write("[standin] %s\n" % msg)
    sys.stderr.flush()


def int_env(name, default):
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


def float_env(name, default):
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def parse_ports(text):
    ports = []
    for word in text.replace(",", " ").split():
        try:
            port = int(word)
        except ValueError:
            log("ignoring port %r (not a number)" % word)
            continue
        if 0 < port < 65536 and port not in ports:
            ports.append(port)
    return ports


def wanted_ports():
    explicit = os.environ.get("STANDIN_PORTS", "").strip()
    if explicit:
        return parse_ports(explicit)
    ports = parse_ports(os.environ.get("PORT", "") + " " + os.environ.get("STANDIN_DEFAULT_PORTS", ""))
    return ports or [8080]


def bare_version(text):
    text = text.strip()
    return text[1:] if text[:1] in ("v", "V") else text


def version_state(environ):
    """(version or None, broken) from STANDIN_VERSION and STANDIN_BROKEN_VERSIONS."""
    version = environ.get("STANDIN_VERSION", "").strip() or None
    if version is None:
        return None, False
    listed = environ.get("STANDIN_BROKEN_VERSIONS", "").replace(",", " ").split()
    broken = {bare_version(word) for word in listed}
    return version, bare_version(version) in broken


FAULTS = ("exit", "exit-after", "no-listen", "unhealthy")


def version_fault(environ, version):
    """(fault or None, seconds) for ``version`` from STANDIN_FAULTS (an unknown fault is logged, ignored)."""
    if version is None:
        return None, 0.0
    for entry in environ.get("STANDIN_FAULTS", "").replace(",", " ").split():
        listed, _sep, spec = entry.partition("=")
        if bare_version(listed) != bare_version(version):
            continue
        fault, _colon, seconds = spec.partition(":")
        if fault not in FAULTS:
            log("ignoring STANDIN_FAULTS entry %r: the faults are %s" % (entry, ", ".join(FAULTS)))
            continue
        try:
            delay = float(seconds) if seconds else 3.0
        except ValueError:
            log("ignoring STANDIN_FAULTS entry %r: %r is not a number of seconds" % (entry, seconds))
            continue
        return fault, delay
    return None, 0.0


def names(text):
    """Variable names of a space or comma separated list, each once, in their order."""
    return list(dict.fromkeys(text.replace(",", " ").split()))


def config_problem(environ):
    """The ``[FATAL]`` line of an all-in-one image whose environment is incomplete or bad, else None."""
    missing = [name for name in names(environ.get("STANDIN_REQUIRED", "")) if not environ.get(name)]
    if missing:
        return "[FATAL] Missing required environment variables: %s" % ", ".join(missing)
    for name in names(environ.get("STANDIN_JSON", "")):
        value = environ.get(name)
        if value is None:
            continue  # unset: STANDIN_REQUIRED says whether it must be there
        try:
            json.loads(value)
        except ValueError:
            return "[FATAL] Invalid JSON in environment variable %s" % name
    return None


def probe_targets():
    """{VAR: (host, port)} for every *_URL variable holding an http(s)/ws(s) URL."""
    targets = {}
    for name, value in os.environ.items():
        if not name.endswith("_URL"):
            continue
        try:
            url = urlsplit(value.strip())
            scheme = url.scheme.lower()
            if scheme not in DEFAULT_PORTS or not url.hostname:
                continue
            targets[name] = (url.hostname, url.port or DEFAULT_PORTS[scheme])
        except ValueError:
            continue  # e.g. a port that is not a number
    return targets


def status():
    with LOCK:
        return {
            "image": os.environ.get("STANDIN_IMAGE", ""),
            "version": VERSION,
            "broken": BROKEN,
            "hostname": socket.gethostname(),
            "uptime": round(time.time() - STARTED, 1),
            "listening": list(LISTENING),
            "reached": {name: p["reached"] for name, p in sorted(PROBES.items())},
            "probes": {name: dict(p) for name, p in sorted(PROBES.items())},
            "env_names": sorted(os.environ),
            "connections": {str(port): n for port, n in sorted(CONNECTIONS.items())},
            "requests": dict(sorted(REQUESTS.items())),
        }


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "voiceops-standin/1"
    timeout = 30  # an idle plain-TCP client must not hold a thread forever

    def log_message(self, fmt, *args):  # keep the container log quiet
        pass

    def _answer(self):
        path = self.path.split("?", 1)[0]
        with LOCK:
            key = "%s %s" % (self.command, path[:200])
            if key in REQUESTS or len(REQUESTS) < MAX_PATHS:
                REQUESTS[key] = REQUESTS.get(key, 0) + 1
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0:  # drain the body so keep-alive stays in sync
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                break
            length -= len(chunk)
        code = 200
        if path == "/status":
            body = (json.dumps(status(), indent=1, sort_keys=True) + "\n").encode()
            ctype = "application/json"
        elif path == "/health":
            if BROKEN:
                code, health = 503, {"status": "broken", "version": VERSION}
            else:
                health = {"status": "ok", "version": VERSION, "image": os.environ.get("STANDIN_IMAGE", "")}
            body, ctype = (json.dumps(health, sort_keys=True) + "\n").encode(), "application/json"
        else:
            body, ctype = b"standin\n", "text/plain"
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def verify_request(self, request, client_address):
        port = self.server_address[1]
        with LOCK:
            CONNECTIONS[port] = CONNECTIONS.get(port, 0) + 1
        return True

    def handle_error(self, request, client_address):
        pass  # resets, timeouts and non-HTTP bytes are normal here


def probe(name, host, port, attempts, interval):
    for attempt in range(1, attempts + 1):
        if STOP.is_set():
            return
        try:
            with socket.create_connection((host, port), timeout=min(interval, 2.0)):
                pass
        except (OSError, ValueError) as exc:
            with LOCK:
                PROBES[name].update(attempts=attempt, last_error=type(exc).__name__)
            STOP.wait(interval)
            continue
        with LOCK:
            PROBES[name].update(attempts=attempt, reached=True, last_error=None)
        log("%s reached after %d attempt(s)" % (name, attempt))
        return
    log("%s not reached after %d attempts" % (name, attempts))


def write_ports_file(ports):
    path = os.environ.get("STANDIN_PORTS_FILE", "/run/standin.ports")
    try:
        tmp = path + ".tmp"
        with open(tmp, "w") as handle:
            handle.write(" ".join(str(p) for p in ports) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        log("cannot write %s: %s" % (path, exc))


def main(argv):
    global VERSION, BROKEN
    problem = config_problem(os.environ)
    if problem:
        sys.stderr.write(problem + "\n")
        sys.stderr.flush()
        return 1
    VERSION, BROKEN = version_state(os.environ)
    fault, delay = version_fault(os.environ, VERSION)
    if BROKEN:
        print("standin: version %s is marked broken (STANDIN_BROKEN_VERSIONS)" % VERSION, flush=True)
    elif fault == "unhealthy":
        BROKEN = True
        print("standin: version %s answers /health with 503 (STANDIN_FAULTS: unhealthy)" % VERSION, flush=True)
    if fault == "exit":
        print("standin: version %s exits at once (STANDIN_FAULTS: exit)" % VERSION, flush=True)
        return 1
    if argv:
        log("ignoring arguments: %d given" % len(argv))
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: STOP.set())

    if fault == "no-listen":
        print("standin: version %s never listens (STANDIN_FAULTS: no-listen)" % VERSION, flush=True)
        while not STOP.wait(0.5):
            pass
        return 0
    if fault == "exit-after":
        print("standin: version %s exits after %g s (STANDIN_FAULTS: exit-after)" % (VERSION, delay), flush=True)
        deadline = time.time() + delay
    else:
        deadline = None

    servers = []
    for port in wanted_ports():
        try:
            server = Server(("0.0.0.0", port), Handler)
        except OSError as exc:
            log("cannot listen on %d: %s" % (port, exc))
            continue
        servers.append(server)
        LISTENING.append(port)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True, name="serve-%d" % port).start()
    if not servers:
        log("no port to listen on")
        return 1
    write_ports_file(LISTENING)
    log("listening on %s" % " ".join(map(str, LISTENING)))

    attempts = max(1, int_env("STANDIN_PROBE_ATTEMPTS", 600))
    interval = max(0.05, float_env("STANDIN_PROBE_INTERVAL", 1.0))
    for name, (host, port) in sorted(probe_targets().items()):
        PROBES[name] = {"reached": False, "attempts": 0, "last_error": None}
        threading.Thread(target=probe, args=(name, host, port, attempts, interval),
                         daemon=True, name="probe-%s" % name).start()

    while not STOP.wait(0.2 if deadline else 0.5):
        if deadline and time.time() >= deadline:
            print("standin: version %s exiting now (STANDIN_FAULTS: exit-after)" % VERSION, flush=True)
            for server in servers:
                server.server_close()
            return 1
    log("stopping")
    for server in servers:
        server.server_close()  # serve_forever threads are daemons; closing the sockets is enough
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
