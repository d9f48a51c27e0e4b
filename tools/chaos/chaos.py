#!/usr/bin/env python3
"""The fault campaign of issue 6 ("Orders whose fate is unknown"): nzeza against nzeza-sim.

    python3 tools/chaos/chaos.py [--trials N] [--seed S] [--keep] [--bin-dir DIR]

Each trial starts a fresh nzeza-sim and a fresh engine (separate processes, loopback only, in a
temporary directory), lets the engine quote, injects one scenario's faults through nzeza-sim's
admin endpoint (and SIGKILLs the engine when the scenario asks), restarts the engine on the same
journal for a few seconds of trading and a clean stop, and then checks the engine's record
against the venue's, exactly (see docs/reliability.md):

  clean_stop     without a kill, the first run exited 0 on SIGTERM
  restart_exit   the restarted engine exited 0
  restart_trades the restarted engine sent orders (it traded after recovery)
  position       the engine's position (its summary) = the venue's position (admin account),
                 less fills of orders that are not ours (foreign orders)
  fills          per venue order of ours: the engine's fills (journal, duplicates by trade id
                 removed as the order manager removes them) sum to the venue's filled_size, in
                 as many fills as the venue's number_of_fills; no engine fill for an order the
                 venue does not have; the journaled venue order id is the venue's
  no_working     no order of ours left OPEN at the venue
  unique_ids     no client order id sent twice in a new-order command (journal), none held by
                 two venue orders, and every venue order of ours was journaled

Trial k of a campaign with seed S has seed S + k (k from 0), and every choice a trial makes (the
scenario, the venue's seed, every delay and count) comes from its own seed, so
`--trials 1 --seed <trial seed>` replays that trial's choices. Exit status: 0 when every trial
passed, 1 when one had a mismatch or could not run (the line names the seed and the replay
command), 2 on usage errors.

Python 3 standard library only; the ES256 JWTs for the venue's REST list endpoints are signed
with the `openssl` command.
"""

import argparse
import base64
import collections
import decimal
import hashlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

KEY_NAME = "organizations/nzeza-chaos/apiKeys/engine"
PRODUCT = "BTC-USD"
SIZE_SCALE = 8  # base_increment 0.00000001: the engine's size mantissas
REQUEST_TIMEOUT_MS = 1500  # the engine's REST timeout: a withheld reply becomes in doubt fast
RESTART_DURATION_S = 3
MAX_PRINTED = 12  # mismatch lines printed per trial (all of them go to the trial's mismatches.txt)

SIM_TOML = """seed = {seed}
model_step_us = 10000
rest_rate_limit_per_sec = 30
[[products]]
product_id = "{product}"
price_increment = "0.01"
base_increment = "0.00000001"
base_min_size = "0.00000001"
start_price = "50000"
volatility_bps = 3
participant_orders_per_sec = 200
[[api_keys]]
key_name = "{key_name}"
public_key_file = "engine-pub.pem"
"""

NZEZA_TOML = """[engine]
status_interval_ms = 500
[journal]
dir = "{dir}/journal"
segment_bytes = 4194304
[ops]
port = 0
token_file = "{dir}/ops-token"
[sim]
embedded = false
[venue]
kind = "sim"
rest_host = "127.0.0.1"
rest_port = {rest}
ws_host = "127.0.0.1"
ws_port = {ws}
user_ws_host = "127.0.0.1"
user_ws_port = {ws}
ca_file = "{ca}"
request_timeout_ms = {timeout}
[venue.credentials]
key_name = "{key_name}"
key_file = "{dir}/engine-key.pem"
"""

# The scenarios; each names what it does to the first run (docs/reliability.md has the detail).
SCENARIOS = [
    "kill_resting",  # SIGKILL with quotes resting; nothing traded through
    "kill_trade_through",  # SIGKILL, then the market trades through the dead engine's quotes
    "kill_withheld_create",  # SIGKILL while a create's reply is withheld (order placed)
    "kill_withheld_cancel",  # SIGKILL while a cancel's reply is withheld (cancel done)
    "kill_user_outage",  # SIGKILL during a private-stream outage with fills happening
    "kill_reconnect",  # SIGKILL while reconnecting after every WebSocket was dropped
    "kill_list_lag",  # SIGKILL, restart while new orders are missing from List Orders
    "accept_timeout",  # a create executed, its reply withheld past the timeout; no kill
    "accept_5xx",  # creates executed then answered 503; no kill
    "duplicate_fills",  # user-channel frames sent twice while fills happen; no kill
    "reorder_fills",  # user-channel frames swapped in pairs while fills happen; no kill
    "foreign_order",  # another client's order on our account; kill or clean stop
]


class TrialError(Exception):
    """The trial could not run as planned (not a mismatch: the harness or a process failed)."""


# ---------------------------------------------------------------------------------------------
# Processes: each child in its own process group, killed on every exit path.

_children = []


def spawn(args, out_path, err_path, cwd):
    """Starts a child in a new session (its own process group) with stdout/stderr to files."""
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        p = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd,
                             start_new_session=True)
    _children.append(p)
    return p


def kill_group(p, sig=signal.SIGKILL):
    """Sends sig to p's process group (nothing if it already exited)."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass


def wait_exit(p, timeout_s):
    """p's exit status, or None if it did not exit within timeout_s (then it is SIGKILLed)."""
    try:
        return p.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kill_group(p)
        p.wait(timeout=10)
        return None


def stop_all():
    """Kills every child still running (their whole process groups) and reaps them."""
    for p in _children:
        kill_group(p)
    for p in _children:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    _children.clear()


def _on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


# ---------------------------------------------------------------------------------------------
# HTTP: the sim's plain admin endpoint, and its TLS REST endpoints with an ES256 JWT.


def admin(port, method, path, params=None):
    """One request to nzeza-sim's admin endpoint: (status, parsed JSON or None). A GET is tried
    three times (the sim answers from its I/O thread, which a loaded machine can hold up for
    seconds); a POST once (it is not idempotent). 10 s per try."""
    if params:
        path += "?" + urllib.parse.urlencode(params)
    tries = 3 if method == "GET" else 1
    for attempt in range(tries):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request(method, path, headers={"Content-Length": "0"})
            r = conn.getresponse()
            body = r.read()
            break
        except OSError as e:
            if attempt + 1 == tries:
                raise TrialError(f"admin {method} {path}: {e}") from e
        finally:
            conn.close()
    try:
        return r.status, json.loads(body)
    except ValueError:
        return r.status, None


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der_to_raw(der):
    """An ECDSA DER signature (SEQUENCE of two INTEGERs) as raw r||s, 32 bytes each."""

    def read_int(buf, at):
        assert buf[at] == 0x02, "DER: INTEGER expected"
        n = buf[at + 1]
        return int.from_bytes(buf[at + 2:at + 2 + n], "big"), at + 2 + n

    assert der[0] == 0x30, "DER: SEQUENCE expected"
    at = 3 if der[1] & 0x80 else 2
    r, at = read_int(der, at)
    s, _ = read_int(der, at)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def jwt(key_file, uri):
    """A Coinbase CDP JWT (ES256) for one REST request `uri` ("GET host:port/path")."""
    header = {"alg": "ES256", "kid": KEY_NAME, "nonce": secrets.token_hex(32), "typ": "JWT"}
    now = int(time.time())
    claims = {"sub": KEY_NAME, "iss": "cdp", "nbf": now, "exp": now + 120, "uri": uri}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_file],
                         input=signing_input.encode(), capture_output=True, check=True,
                         timeout=10).stdout
    return signing_input + "." + b64url(der_to_raw(der))


class Venue:
    """nzeza-sim's endpoints for one trial."""

    def __init__(self, ports, ca_file, key_file):
        self.admin_port = ports["admin_port"]
        self.rest_port = ports["rest_port"]
        self.jwt_host = ports.get("jwt_host") or f"127.0.0.1:{self.rest_port}"
        self.key_file = key_file
        self.tls = ssl.create_default_context(cafile=ca_file)

    def fault(self, ftype, **params):
        status, body = admin(self.admin_port, "POST", "/admin/fault", {"type": ftype, **params})
        if status != 200:
            raise TrialError(f"fault {ftype}: HTTP {status} {body}")
        return body

    def trade_through(self):
        status, body = admin(self.admin_port, "POST", "/admin/trade_through", {"key": KEY_NAME})
        if status != 200:
            raise TrialError(f"trade_through: HTTP {status} {body}")
        return body

    def account(self):
        """The admin account view of our product: base_position, open_orders, fills."""
        status, body = admin(self.admin_port, "GET", "/admin/account", {"key": KEY_NAME})
        if status != 200 or not body:
            raise TrialError(f"account: HTTP {status} {body}")
        for p in body.get("products", []):
            if p.get("product_id") == PRODUCT:
                return p
        raise TrialError(f"account: no {PRODUCT} in {body}")

    def health(self):
        status, body = admin(self.admin_port, "GET", "/admin/health")
        if status != 200 or not body:
            raise TrialError(f"health: HTTP {status} {body}")
        return body

    def rest_get(self, path, params):
        """An authenticated GET on the REST port; the parsed JSON body."""
        for attempt in range(6):
            token = jwt(self.key_file, f"GET {self.jwt_host}{path}")  # a JWT is used once
            conn = http.client.HTTPSConnection("127.0.0.1", self.rest_port, context=self.tls,
                                               timeout=10)
            try:
                conn.request("GET", path + "?" + urllib.parse.urlencode(params),
                             headers={"Authorization": "Bearer " + token})
                r = conn.getresponse()
                body = r.read()
            except OSError as e:
                raise TrialError(f"GET {path}: {e}") from e
            finally:
                conn.close()
            # The key's 30 requests/s are shared with the engine that just stopped: wait for
            # the next window rather than fail.
            if r.status != 429:
                break
            time.sleep(1.1)
        if r.status != 200:
            raise TrialError(f"GET {path}: HTTP {r.status} {body[:300]!r}")
        return json.loads(body)

    def list_all(self, path, field):
        """Every entry of a cursor-paginated list endpoint (List Orders, List Fills)."""
        out, cursor = [], ""
        for _ in range(1000):  # bounded: 1000 pages of 1000
            params = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            page = self.rest_get(path, params)
            out.extend(page.get(field, []))
            cursor = page.get("cursor", "")
            if not cursor or page.get("has_next") is False:
                return out
        raise TrialError(f"{path}: more than 1000 pages")

    def orders(self):
        return self.list_all("/api/v3/brokerage/orders/historical/batch", "orders")

    def fills(self):
        return self.list_all("/api/v3/brokerage/orders/historical/fills", "fills")


# ---------------------------------------------------------------------------------------------
# One trial.


def size_mantissa(text):
    """A venue size string ("0.00100000") as the engine's mantissa at SIZE_SCALE, exactly."""
    m = decimal.Decimal(text).scaleb(SIZE_SCALE)
    if m != m.to_integral_value():
        raise TrialError(f"size {text} is not a multiple of 10^-{SIZE_SCALE}")
    return int(m)


def is_ours(client_order_id):
    """Our client order ids are positive decimals without a leading zero (venues/coinbase)."""
    return client_order_id.isdigit() and not client_order_id.startswith("0")


class Trial:
    """One trial: its directory, processes, choices and what it found."""

    def __init__(self, number, seed, bins, keep, verbose):
        self.number = number
        self.seed = seed
        self.rng = random.Random(seed)
        self.bins = bins
        self.keep = keep
        self.verbose = verbose
        self.dir = tempfile.mkdtemp(prefix=f"nzeza-chaos-{seed}-")
        self.faults = collections.Counter()
        self.killed = False
        self.mismatches = []  # "check: what differed"
        self.notes = []  # what happened, for the log
        self.venue = None
        self.sim = None
        self.engine = None
        self.runs = 0
        self.at_kill = None  # the venue's account view right after the SIGKILL
        self.venue_fills = 0  # fills of ours at the venue at the end
        # Every choice is drawn here, up front, in a fixed order, so a replay makes the same.
        self.scenario = self.rng.choice(SCENARIOS)
        self.sim_seed = self.rng.randrange(1, 1 << 31)
        self.draws = [self.rng.random() for _ in range(8)]
        self.restart_delay_s = self.rng.choice([0.0, 0.0, 0.5, 1.5])

    def note(self, text):
        self.notes.append(text)
        if self.verbose:
            print(f"    [{self.seed}] {text}", flush=True)

    def uniform(self, i, lo, hi):
        return lo + (hi - lo) * self.draws[i]

    def choose(self, i, options):
        return options[int(self.draws[i] * len(options)) % len(options)]

    # -- set-up --------------------------------------------------------------------------------

    def start_sim(self):
        d = self.dir
        key = os.path.join(d, "engine-key.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-out", key], check=True, capture_output=True,
                       timeout=20)
        os.chmod(key, 0o600)
        subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out",
                        os.path.join(d, "engine-pub.pem")], check=True, capture_output=True,
                       timeout=20)
        with open(os.path.join(d, "sim.toml"), "w") as f:
            f.write(SIM_TOML.format(seed=self.sim_seed, product=PRODUCT, key_name=KEY_NAME))
        ca = os.path.join(d, "sim-ca.pem")
        out = os.path.join(d, "sim.out")
        self.sim = spawn([self.bins["nzeza-sim"], "--config",
                          os.path.join(d, "sim.toml"), "--cert-out", ca, "--duration", "600"],
                         out, os.path.join(d, "sim.err"), d)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(out) as f:
                line = f.readline()
            if line.endswith("\n"):
                ports = json.loads(line)
                break
            if self.sim.poll() is not None:
                raise TrialError(f"nzeza-sim exited {self.sim.returncode} at start")
            time.sleep(0.05)
        else:
            raise TrialError("nzeza-sim printed no ports within 30 s")
        self.venue = Venue(ports, ca, key)
        with open(os.path.join(d, "nzeza.toml"), "w") as f:
            f.write(NZEZA_TOML.format(dir=d, rest=ports["rest_port"], ws=ports["ws_port"], ca=ca,
                                      timeout=REQUEST_TIMEOUT_MS, key_name=KEY_NAME))

    def start_engine(self, duration_s, summary=None):
        self.runs += 1
        args = [self.bins["nzeza"], "--config",
                os.path.join(self.dir, "nzeza.toml"), "--duration", str(duration_s)]
        if summary:
            args += ["--summary-json", summary]
        n = self.runs
        self.engine = spawn(args, os.path.join(self.dir, f"run{n}.out"),
                            os.path.join(self.dir, f"run{n}.err"), self.dir)
        return self.engine

    # -- waits (every one bounded) -------------------------------------------------------------

    def wait_until(self, what, pred, timeout_s, poll_s=0.02):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.engine is not None and self.engine.poll() is not None:
                raise TrialError(f"engine exited {self.engine.returncode} while waiting for {what}")
            if pred():
                return
            time.sleep(poll_s)
        raise TrialError(f"timed out after {timeout_s} s waiting for {what}")

    def wait_resting(self, timeout_s=30):
        self.wait_until("an order of ours resting at the venue",
                        lambda: self.venue.account()["open_orders"] > 0, timeout_s)

    def try_wait_resting(self, timeout_s):
        """Waits for a resting order of ours; if none comes (the engine may be holding back, e.g.
        its breaker open), notes it and returns: the kill goes ahead anyway."""
        try:
            self.wait_resting(timeout_s)
        except TrialError as e:
            if self.engine.poll() is not None:
                raise
            self.note(f"no order of ours resting at the kill ({e})")

    def withheld(self):
        return self.venue.health()["replies_withheld"]

    def sleep(self, seconds):
        """Sleeps, but fails the trial if the engine dies meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.engine is not None and self.engine.poll() is not None:
                raise TrialError(f"engine exited {self.engine.returncode} unexpectedly")
            time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))

    def fault(self, ftype, **params):
        self.faults[ftype] += 1
        self.note(f"fault {ftype} {params}")
        return self.venue.fault(ftype, **params)

    def trade_through(self):
        self.faults["trade_through"] += 1
        r = self.venue.trade_through()
        self.note(f"trade_through {r}")

    def sigkill(self):
        self.killed = True
        self.faults["sigkill"] += 1
        kill_group(self.engine)
        rc = wait_exit(self.engine, 10)
        a = self.venue.account()
        self.at_kill = a
        self.note(f"SIGKILL: engine exit {rc}; venue then: {a['open_orders']} open, "
                  f"{a['fills']} fills, position {a['base_position']}")

    def sigterm(self):
        kill_group(self.engine, signal.SIGTERM)
        rc = wait_exit(self.engine, 20)
        self.note(f"SIGTERM: engine exit {rc}")
        if rc != 0:
            self.mismatches.append(f"clean_stop: the first run exited {rc} on SIGTERM "
                                   "(None: it did not exit within 20 s)")

    # -- the scenarios: what happens to the first run --------------------------------------------

    def first_run(self):
        self.start_engine(0)
        self.wait_resting()
        s = self.scenario
        timeout_s = REQUEST_TIMEOUT_MS / 1000
        if s == "kill_resting":
            self.sleep(self.uniform(0, 0, 1.5))
            self.try_wait_resting(5)
            self.sigkill()
        elif s == "kill_trade_through":
            self.sleep(self.uniform(0, 0, 1.5))
            self.try_wait_resting(5)
            self.sigkill()
            self.trade_through()
        elif s in ("kill_withheld_create", "kill_withheld_cancel"):
            before = self.withheld()
            self.fault("withhold_create" if s == "kill_withheld_create" else "withhold_cancel",
                       count=1, ms=0)
            self.wait_until("a withheld reply", lambda: self.withheld() > before, 20)
            self.sleep(self.uniform(0, 0, timeout_s + 0.5))
            self.sigkill()
            if self.draws[1] < 0.5:
                self.trade_through()
        elif s == "kill_user_outage":
            outage_ms = int(self.uniform(0, 2000, 5000))
            self.fault("user_disconnect", ms=outage_ms, key=KEY_NAME)
            # Fills while the private stream is down: the quotes it left resting are traded
            # through before the engine has canceled them (at once) or after (some delay).
            self.sleep(self.choose(1, [0.0, 0.0, 0.05, 0.3]))
            self.trade_through()
            self.sleep(self.uniform(2, 0, max(0.0, outage_ms / 1000 - 1.0)))
            self.sigkill()
        elif s == "kill_reconnect":
            refuse_ms = int(self.uniform(0, 300, 3000))
            self.fault("disconnect", ms=refuse_ms)
            self.sleep(self.uniform(2, 0, refuse_ms / 1000 + 1.0))
            self.sigkill()
            if self.draws[1] < 0.5:
                self.trade_through()
        elif s == "kill_list_lag":
            self.fault("list_lag", ms=int(self.uniform(0, 2000, 6000)))
            self.sleep(self.uniform(2, 0.3, 2.0))
            self.sigkill()
        elif s == "accept_timeout":
            count = self.choose(0, [1, 1, 2])
            # Never answered, answered late (after the timeout), or answered slowly in time.
            delay_ms = self.choose(1, [0, REQUEST_TIMEOUT_MS + 700, REQUEST_TIMEOUT_MS // 2])
            before = self.withheld()
            self.fault("withhold_create", count=count, ms=delay_ms)
            self.wait_until("withheld replies", lambda: self.withheld() >= before + count, 30)
            self.sleep(timeout_s + self.uniform(2, 1.0, 3.0))
            self.sigterm()
        elif s == "accept_5xx":
            count = self.choose(0, [1, 2, 3])
            self.fault("error_after_accept", count=count)
            self.sleep(self.uniform(2, 2.0, 4.0))
            self.sigterm()
        elif s in ("duplicate_fills", "reorder_fills"):
            count = int(self.uniform(0, 4, 30))
            self.wait_resting(5)
            self.fault("duplicate_user" if s == "duplicate_fills" else "reorder_user", count=count)
            self.sleep(self.choose(1, [0.0, 0.0, 0.05, 0.2]))
            self.trade_through()  # fills on the user channel while its frames are damaged
            self.sleep(self.uniform(2, 1.0, 2.5))
            self.sigterm()
        elif s == "foreign_order":
            r = self.fault("foreign_order", key=KEY_NAME)
            self.note(f"foreign order {r.get('order_id')} {r.get('client_order_id')}")
            self.sleep(self.uniform(1, 0.5, 2.5))
            if self.draws[2] < 0.5:
                self.sigkill()
            else:
                self.sigterm()
        else:
            raise TrialError(f"unknown scenario {s}")

    # -- the restart and the checks ------------------------------------------------------------

    def restart(self):
        # At once (a supervisor restarting a crashed engine within the same rate-limit second)
        # or after a pause.
        time.sleep(self.restart_delay_s)
        summary_path = os.path.join(self.dir, "summary.json")
        self.start_engine(RESTART_DURATION_S, summary_path)
        rc = wait_exit(self.engine, 60 + RESTART_DURATION_S)
        self.note(f"restart: exit {rc}")
        if rc != 0:
            self.mismatches.append(f"restart_exit: the restarted engine exited {rc} "
                                   "(None: still running after 60 s; see "
                                   f"{self.dir}/run{self.runs}.err)")
            return None
        with open(os.path.join(self.dir, f"run{self.runs}.err"), errors="replace") as f:
            for line in f:
                if "reconciliation with the venue" in line:
                    self.note("restart: " + line.split("nzeza: ", 1)[-1].strip())
        try:
            with open(summary_path) as f:
                summary = json.load(f)
        except (OSError, ValueError) as e:
            self.mismatches.append(f"restart_exit: no readable summary ({e})")
            return None
        if summary.get("orders", 0) <= 0:
            self.mismatches.append("restart_trades: the restarted engine sent no order in "
                                   f"{RESTART_DURATION_S} s")
        return summary

    def journal(self):
        """The journal's records (nzeza-decode journal), the end line checked."""
        r = subprocess.run([self.bins["nzeza-decode"], "journal",
                            os.path.join(self.dir, "journal")], capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            raise TrialError(f"nzeza-decode journal: exit {r.returncode}: {r.stderr.strip()}")
        records = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        if not records or records[-1].get("type") != "end":
            raise TrialError("nzeza-decode journal: no end line")
        end = records.pop()
        if end.get("torn_tail"):
            self.note(f"journal torn tail: {end.get('tail_reason')}")
        bad = [r for r in records if "error" in r]
        if bad:
            raise TrialError(f"journal records nzeza-decode cannot read: {bad[:3]}")
        return records

    def check(self, summary):
        v = self.venue
        v.fault("clear")  # ends list_lag, so List Orders shows every order
        time.sleep(0.2)
        account = v.account()
        orders = v.orders()
        venue_fills = v.fills()
        records = self.journal()
        with open(os.path.join(self.dir, "venue.json"), "w") as f:
            json.dump({"account": account, "health": v.health(), "orders": orders,
                       "fills": venue_fills}, f, indent=1)

        ours = [o for o in orders if is_ours(o["client_order_id"])]
        foreign_ids = {o["order_id"] for o in orders if not is_ours(o["client_order_id"])}

        # The engine's fills per client order id, duplicates removed as the order manager does
        # (by trade id; without one, a cumulative size not beyond what was applied).
        fills = collections.defaultdict(list)
        seen_trades = collections.defaultdict(set)
        cum = collections.Counter()
        duplicates = 0
        venue_order_id = {}
        new_ids = collections.Counter()
        for r in records:
            if r["type"] == "venue_order_id":
                venue_order_id.setdefault(r["client_order_id"], set()).add(r["venue_order_id"])
            elif r["type"] == "cmd" and r["cmd"] == "new":
                new_ids[r["client_order_id"]] += 1
            elif r["type"] == "exec" and r["exec"] == "fill":
                cid = r["client_order_id"]
                if r["trade_id"] != 0:
                    dup = r["trade_id"] in seen_trades[cid]
                else:
                    dup = r["cum_size"] != 0 and r["cum_size"] <= cum[cid]
                if dup:
                    duplicates += 1
                    continue
                seen_trades[cid].add(r["trade_id"])
                cum[cid] += r["last_size"]
                fills[cid].append(r)
        if duplicates:
            self.note(f"journal: {duplicates} duplicate fills (not counted)")

        # position
        foreign_base = 0
        for f in venue_fills:
            if f["order_id"] in foreign_ids:
                sz = size_mantissa(f["size"])
                foreign_base += sz if f["side"] == "BUY" else -sz
        venue_pos = size_mantissa(account["base_position"]) - foreign_base
        if summary is not None:
            eng = [p for p in summary.get("positions", []) if p.get("instrument") in (PRODUCT, 0)]
            eng = eng or summary.get("positions", [])[:1]
            if not eng:
                self.mismatches.append("position: the summary has no position")
            else:
                eng_pos = size_mantissa(eng[0]["position"])
                if eng_pos != venue_pos:
                    self.mismatches.append(
                        f"position: engine {eng[0]['position']} != venue "
                        f"{account['base_position']} (less foreign "
                        f"{decimal.Decimal(foreign_base).scaleb(-SIZE_SCALE)})")
        journal_pos = sum(r["last_size"] if r["side"] == "buy" else -r["last_size"]
                          for fs in fills.values() for r in fs)
        if journal_pos != venue_pos:
            self.mismatches.append(f"position: the journal's fills sum to {journal_pos}, the "
                                   f"venue's position is {venue_pos} (mantissas)")

        # fills, per venue order of ours
        venue_by_cid = {}
        for o in ours:
            cid = int(o["client_order_id"])
            if cid in venue_by_cid:
                self.mismatches.append(f"unique_ids: client order id {cid} held by venue orders "
                                       f"{venue_by_cid[cid]['order_id']} and {o['order_id']}")
            venue_by_cid[cid] = o
            want = size_mantissa(o["filled_size"])
            got = sum(r["last_size"] for r in fills.get(cid, []))
            n_want = int(o["number_of_fills"])
            n_got = len(fills.get(cid, []))
            if got != want or n_got != n_want:
                self.mismatches.append(
                    f"fills: order {cid} ({o['order_id']}, {o['status']}): engine {n_got} "
                    f"fills of {got}, venue {n_want} fills of {want} (mantissas)")
            vids = venue_order_id.get(cid, set())
            if vids and vids != {o["order_id"]}:
                self.mismatches.append(f"fills: order {cid}: journaled venue order id "
                                       f"{sorted(vids)} != the venue's {o['order_id']}")
            if new_ids[cid] == 0:
                self.mismatches.append(f"unique_ids: venue order {o['order_id']} has our client "
                                       f"order id {cid} but the journal never sent it")
        for cid, fs in fills.items():
            if cid not in venue_by_cid:
                self.mismatches.append(f"fills: engine has {len(fs)} fills for order {cid}, "
                                       "which the venue does not have")
        for cid, n in new_ids.items():
            if n > 1:
                self.mismatches.append(f"unique_ids: client order id {cid} sent in {n} new-order "
                                       "commands")

        # no order of ours left working
        working = [o for o in ours if o["status"] in ("OPEN", "PENDING", "QUEUED")]
        for o in working:
            self.mismatches.append(f"no_working: order {o['client_order_id']} ({o['order_id']}) "
                                   f"is {o['status']} at the venue after the clean stop")
        foreign_open = sum(1 for o in orders if o["order_id"] in foreign_ids and
                           o["status"] == "OPEN")
        if account["open_orders"] - foreign_open != len(working):
            self.mismatches.append(f"no_working: the venue's account shows "
                                   f"{account['open_orders']} open orders, {foreign_open} "
                                   f"foreign, List Orders {len(working)} of ours")
        self.venue_fills = sum(int(o["number_of_fills"]) for o in ours)
        self.note(f"venue: {len(ours)} orders of ours, {len(venue_fills)} fills, position "
                  f"{account['base_position']}; journal: {len(records)} records")

    def run(self):
        """Runs the trial; returns "ok", "MISMATCH" or "ERROR"."""
        try:
            self.start_sim()
            self.first_run()
            summary = self.restart()
            self.check(summary)
            return "MISMATCH" if self.mismatches else "ok"
        except KeyboardInterrupt:
            raise
        except (TrialError, subprocess.SubprocessError, OSError, ValueError, KeyError) as e:
            self.notes.append(f"error: {type(e).__name__}: {e}")
            # A mismatch already found stands even if the checks could not all run.
            return "MISMATCH" if self.mismatches else "ERROR"
        finally:
            stop_all()

    def save_report(self, result):
        with open(os.path.join(self.dir, "mismatches.txt"), "w") as f:
            f.write(f"seed {self.seed} scenario {self.scenario} result {result}\n")
            f.writelines(f"mismatch: {m}\n" for m in self.mismatches)
            f.writelines(f"{n}\n" for n in self.notes)

    def cleanup(self, result):
        if self.keep or result != "ok":
            return
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=12, help="how many trials (default 12)")
    ap.add_argument("--seed", type=int, default=None,
                    help="campaign seed; trial k has seed S + k (default: random, printed)")
    ap.add_argument("--keep", action="store_true", help="keep every trial's directory")
    ap.add_argument("--bin-dir", default="build/release",
                    help="where nzeza, nzeza-sim and nzeza-decode are (searched below it)")
    ap.add_argument("--verbose", action="store_true", help="print what each trial does")
    args = ap.parse_args(argv)
    if args.trials < 1:
        ap.error("--trials must be at least 1")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 1 << 31)
    if args.seed < 0:
        ap.error("--seed must be >= 0")
    bins = find_binaries(args.bin_dir)
    if bins is None:
        print(f"chaos: nzeza, nzeza-sim and nzeza-decode not found under {args.bin_dir}",
              file=sys.stderr)
        return 2
    # The campaign runs one build throughout: a copy taken now, so a rebuild meanwhile (other
    # engineers' work in the same tree) cannot change or remove the binaries under it.
    snapshot = tempfile.mkdtemp(prefix="nzeza-chaos-bin-")
    for name, path in bins.items():
        bins[name] = os.path.join(snapshot, name)
        shutil.copy2(path, bins[name])
    try:
        return run_campaign(args, bins)
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)


def run_campaign(args, bins):
    """Runs args.trials trials with the binaries in bins; the exit status."""
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    seed = args.seed
    digest = hashlib.sha256()
    for name in sorted(bins):
        with open(bins[name], "rb") as f:
            digest.update(f.read())
    print(f"chaos: binaries {', '.join(sorted(bins))} sha256 {digest.hexdigest()[:16]}")

    print(f"chaos: {args.trials} trials, seed {seed} (replay one trial: bash scripts/chaos.sh "
          f"--trials 1 --seed <its seed>)", flush=True)
    results = collections.Counter()
    faults = collections.Counter()
    scenarios = collections.Counter()
    kills = 0
    failed = []
    started = time.monotonic()
    for k in range(args.trials):
        t = Trial(k + 1, seed + k, bins, args.keep, args.verbose)
        t0 = time.monotonic()
        result = t.run()
        results[result] += 1
        faults.update(t.faults)
        scenarios[t.scenario] += 1
        kills += 1 if t.killed else 0
        print(f"trial {k + 1:4d}  {t.scenario:22s} seed {t.seed:<11d} kill "
              f"{'yes' if t.killed else 'no ':3s}  {result:8s} fills {t.venue_fills:3d}  "
              f"{time.monotonic() - t0:5.1f} s", flush=True)
        if result != "ok":
            failed.append(t)
            for m in t.mismatches[:MAX_PRINTED]:
                print(f"      mismatch: {m}", flush=True)
            if len(t.mismatches) > MAX_PRINTED:
                print(f"      ... and {len(t.mismatches) - MAX_PRINTED} more", flush=True)
            for n in t.notes:
                print(f"      {n}", flush=True)
            print(f"      trial dir: {t.dir}", flush=True)
            print(f"      replay: bash scripts/chaos.sh --trials 1 --seed {t.seed}", flush=True)
        t.save_report(result)
        t.cleanup(result)

    elapsed = time.monotonic() - started
    print()
    print(f"seed {seed}, {args.trials} trials in {elapsed:.0f} s")
    rows = [("trials", args.trials), ("kills", kills)]
    rows += [(f"scenario {s}", n) for s, n in sorted(scenarios.items())]
    rows += [(f"fault {f}", n) for f, n in sorted(faults.items())]
    rows += [("errors (trial could not run)", results["ERROR"]),
             ("mismatches (trials)", results["MISMATCH"])]
    width = max(len(r[0]) for r in rows)
    print(f"| {'what':{width}s} | count |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, n in rows:
        print(f"| {name:{width}s} | {n:5d} |")
    if failed:
        print()
        for t in failed:
            print(f"FAILED trial {t.number} ({t.scenario}): replay with bash scripts/chaos.sh "
                  f"--trials 1 --seed {t.seed}")
        return 1
    return 0


def find_binaries(bin_dir):
    """{name: path} of the three programs: in bin_dir itself or in a build tree's tools/."""
    names = {"nzeza": "tools/nzeza", "nzeza-sim": "tools/sim", "nzeza-decode": "tools/decode"}
    found = {}
    for name, sub in names.items():
        for cand in (os.path.join(bin_dir, name), os.path.join(bin_dir, sub, name)):
            if os.access(cand, os.X_OK):
                found[name] = os.path.abspath(cand)
                break
        else:
            return None
    return found


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    finally:
        stop_all()
