"""`python -m bench.load [--seconds 60] [--connections 32] [--workers 4] [--scale 1]`: a bounded
load test of `planner serve` on PostgreSQL, over loopback only.

It creates a scratch database (dropped at the end, also after a failure or Ctrl-C), fills it with
bench.generate at --scale, makes an API client token, starts `planner serve --workers N` on a free
port, warms it up with reads, then runs wrk with bench/load.lua: about 80% reads (catalogue pages,
search, course, instrument and plan detail, plan validation, coverage gaps, SCIM filters,
transcripts) and 20% writes (record batches with an Idempotency-Key, If-Match edits of courses and
of people over SCIM). It prints a Markdown report and exits non-zero when any request failed:
every 4xx or 5xx answer, every request left without an answer and every wrk socket error counts,
and so does a database that afterwards holds fewer writes than were acknowledged (or more than
that plus the writes still in flight when wrk stopped).
"""

import argparse
import os
import platform
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.config import ROOT
from app.db import build_engine
from app.models.accounts import ClientCreate, Role, Scope, UserCreate
from app.models.courses import COURSE_CODE
from app.services import accounts
from bench.fixtures import ADMIN_URL, cpu_model, postgres_version, ram
from bench.generate import generate
from bench.throughput import free_port

SCRIPT = ROOT / "bench" / "load.lua"
SCOPES = [
    Scope.catalog_read,
    Scope.catalog_write,
    Scope.plans_read,
    Scope.personnel_read,
    Scope.personnel_write,
    Scope.records_read,
    Scope.records_write,
]
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
TIMEOUT_S = 10  # wrk counts a slower answer as a timeout error (and leaves it out of its latency)
LATENCY_KEYS = ("p50", "p90", "p99", "max", "mean")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- the scratch database ----------------------------------------------------------------------


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new, empty PostgreSQL database; dropped WITH (FORCE) however the block ends."""
    name = f"load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        log(f"dropped {name}")


def raw(url: str) -> psycopg.Connection:
    u = make_url(url)
    return psycopg.connect(
        host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database,
        autocommit=True,
    )  # fmt: skip


def credentials(url: str) -> str:
    """An API client token with the scopes the workload needs. A staff account is made first, so
    that the server does not print a first-run setup link."""
    engine = build_engine(url)
    try:
        with Session(engine) as session:
            accounts.create_user(
                session,
                UserCreate(
                    username="load-admin",
                    role=Role.admin,
                    password=secrets.token_urlsafe(24),
                    display_name="Load test",
                ),
                actor="bench",
            )
            _, token = accounts.create_client(
                session, ClientCreate(name="load-test", scopes=SCOPES), actor="bench"
            )
        return token
    finally:
        engine.dispose()


def lua(value: object) -> str:
    """A Python value as Lua source (str, int, list, dict with identifier keys)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "{" + ",".join(lua(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}={lua(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def sample(conn: psycopg.Connection, threads: int, seed: int) -> dict:
    """What the workload picks from: every course, instrument, plan and current person, search
    words taken from course titles, and family-name prefixes."""
    rnd = random.Random(seed)
    rows = conn.execute("SELECT code, title FROM course ORDER BY code").fetchall()
    # Only codes the API accepts in a path or a record; the report names any left out.
    courses = [c for c, _ in rows if re.fullmatch(COURSE_CODE, c)]
    titles = [t for _, t in rows]
    words = sorted({w.lower() for t in titles for w in t.split() if w.isalpha() and len(w) > 4})
    searches = []
    for title in rnd.sample(titles, min(60, len(titles))):
        mine = [w.lower() for w in title.split() if w.isalpha() and len(w) > 4] or words[:1]
        searches.append(quote(" ".join(rnd.sample(mine, min(len(mine), rnd.choice((1, 2)))))))
    people = [
        [number, scim_id]
        for number, scim_id in conn.execute(
            "SELECT employee_number, scim_id FROM person WHERE deleted_at IS NULL "
            "AND employee_number IS NOT NULL ORDER BY employee_number"
        )
    ]
    families = sorted({f[:3] for (f,) in conn.execute("SELECT DISTINCT family_name FROM person")})
    return {
        "unaddressable": [c for c, _ in rows if not re.fullmatch(COURSE_CODE, c)],
        "run": uuid.uuid4().hex[:8],
        "seed": seed,
        "threads": threads,
        "courses": courses,
        "total_courses": len(courses),
        "instruments": [c for (c,) in conn.execute("SELECT code FROM instrument ORDER BY code")],
        "plans": [i for (i,) in conn.execute("SELECT id FROM plan ORDER BY id")],
        "people": people,
        "searches": searches,
        "number_filter": quote(f'{ENTERPRISE}:employeeNumber eq "', safe=""),
        "family_filters": [
            quote(f'name.familyName sw "{f}"', safe="") for f in families if f.isalpha()
        ],
    }


TALLIES = {
    "training_record": "SELECT count(*) FROM training_record",
    "audit_event": "SELECT count(*) FROM audit_event",
    "idempotency_key": "SELECT count(*) FROM idempotency_key",
}


def tallies(conn: psycopg.Connection) -> dict[str, int]:
    return {name: conn.execute(sql).fetchone()[0] for name, sql in TALLIES.items()}


# ---- the server --------------------------------------------------------------------------------


@contextmanager
def server(url: str, workers: int, logfile: Path) -> Iterator[str]:
    """`planner serve` on a free loopback port, its log in `logfile`; stopped on exit."""
    port = free_port()
    env = {
        **os.environ,
        "PLANNER_DATABASE_URL": url,
        "PLANNER_SECRET_KEY": secrets.token_urlsafe(48),  # not the development key under var/
        "PLANNER_LOG_LEVEL": "warning",  # no access log; errors still reach the log
        "PLANNER_ENVIRONMENT": "development",
    }
    planner = Path(sys.executable).with_name("planner")
    command = [str(planner)] if planner.exists() else [sys.executable, "-m", "app.cli"]
    command += ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with logfile.open("wb") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"planner serve exited ({proc.returncode}):\n{tail(logfile)}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"planner serve did not answer /healthz:\n{tail(logfile)}")
            time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:  # uvicorn finishes the requests in flight on SIGTERM
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ---- wrk ---------------------------------------------------------------------------------------


@dataclass
class Op:
    id: str
    kind: str
    label: str
    statuses: Counter = field(default_factory=Counter)
    latencies_us: list[float] = field(default_factory=list)
    records: int = 0
    samples: dict[int, str] = field(default_factory=dict)  # status -> first error body

    @property
    def count(self) -> int:
        return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if not 200 <= s < 400)


@dataclass
class Result:
    ops: dict[str, Op]
    wrk_output: str
    duration_s: float
    requests: int
    socket_errors: dict[str, int]
    wrk_latency_us: dict[str, float]
    inflight: Counter  # op -> requests still unanswered when wrk stopped
    inflight_records: int

    @property
    def latencies_us(self) -> list[float]:
        return [v for op in self.ops.values() for v in op.latencies_us]

    @property
    def errors(self) -> int:
        return sum(op.errors for op in self.ops.values()) + sum(self.socket_errors.values())

    def acknowledged(self, op: str) -> int:
        return self.ops[op].count - self.ops[op].errors if op in self.ops else 0


def wrk(base: str, token: str, data: dict, seconds: int, warmup: bool = False) -> Result:
    """Run wrk with one connection per thread (see bench/load.lua) and gather what it logged."""
    connections = data["threads"]
    with tempfile.TemporaryDirectory(prefix="planner-load-") as tmp:
        (Path(tmp) / "data.lua").write_text("return " + lua(data) + "\n", encoding="utf-8")
        env = {
            **os.environ,
            "LOAD_DATA": str(Path(tmp) / "data.lua"),
            "LOAD_OUT": tmp,
            "LOAD_TOKEN": token,
            "LOAD_MODE": "warmup" if warmup else "run",
        }
        command = [
            "wrk", f"-t{connections}", f"-c{connections}", f"-d{seconds}s",
            f"--timeout={TIMEOUT_S}s", "--latency", "-s", str(SCRIPT), base,
        ]  # fmt: skip
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=seconds + 120
        )
        if done.returncode != 0 or "@summary" not in done.stdout:
            raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        ops: dict[str, Op] = {}
        summary: list[int] = []
        wrk_latency: dict[str, float] = {}
        inflight: Counter = Counter()
        inflight_records = 0
        for line in done.stdout.splitlines():
            parts = line.split("\t")
            if parts[0] == "@op":
                ops[parts[1]] = Op(parts[1], parts[2], parts[3])
            elif parts[0] == "@summary":
                summary = [int(p) for p in parts[1:]]
            elif parts[0] == "@inflight":
                inflight[parts[1]] += 1
                inflight_records += int(parts[2])
            elif parts[0] == "@latency":
                wrk_latency = dict(zip(LATENCY_KEYS, map(float, parts[1:]), strict=True))
        for path in Path(tmp).glob("thread-*.tsv"):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                op_id, status, us, records, detail = line.split("\t", 4)
                op = ops[op_id]
                op.statuses[int(status)] += 1
                op.latencies_us.append(float(us))
                op.records += int(records)
                if detail and int(status) not in op.samples:
                    op.samples[int(status)] = detail
    duration_us, requests, _bytes, connect, read, write, _status, timeout = summary
    return Result(
        ops={k: op for k, op in ops.items() if op.count},
        wrk_output="\n".join(
            line for line in done.stdout.splitlines() if not line.startswith("@")
        ).strip(),
        duration_s=duration_us / 1e6,
        requests=requests,
        socket_errors={"connect": connect, "read": read, "write": write, "timeout": timeout},
        wrk_latency_us=wrk_latency,
        inflight=inflight,
        inflight_records=inflight_records,
    )


# ---- the report --------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(p * 10) - 1]


def ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def machine() -> list[str]:
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()
    return [
        f"- Machine: {cpu_model()}, {os.cpu_count()} logical core(s), {ram()} RAM; {platform.platform()}",
        f"- Python {platform.python_version()}; PostgreSQL {postgres_version() or '?'} on "
        f"127.0.0.1; wrk {wrk_version[1] if len(wrk_version) > 1 else '?'}",
    ]


def report(
    args: argparse.Namespace,
    counts: dict[str, int],
    db_size: str,
    result: Result,
    before: dict[str, int],
    after: dict[str, int],
    server_log: str,
    skipped: list[str],
) -> tuple[str, bool]:
    """The Markdown report, and whether the run was clean."""
    lat = result.latencies_us
    total = sum(op.count for op in result.ops.values())
    if not total:
        return f"No request was answered.\n\n```\n{result.wrk_output}\n{server_log}\n```", False
    lines = [
        "# Planner load test",
        "",
        *machine(),
        f"- Data: scale {args.scale:g}, database {db_size}: "
        + ", ".join(f"{t} {n:,}" for t, n in counts.items()),
        f"- Server: `planner serve --workers {args.workers}` on 127.0.0.1, PostgreSQL; "
        f"client: wrk, {args.connections} connections (one per thread), "
        f"{result.duration_s:.1f} s after a {args.warmup} s read-only warm-up, timeout {TIMEOUT_S} s",
    ]
    if skipped:
        lines.append(
            f"- **Left out:** {len(skipped):,} of {counts.get('course', 0):,} course codes do not "
            f"match the API's pattern `{COURSE_CODE}` (e.g. {', '.join(skipped[:3])}): the API "
            "answers 422 for them in a path or a record, so the workload uses the others only"
        )
    lines += [
        "",
        "| requests | throughput | p50 | p90 | p99 | max | errors |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {total:,} | {total / result.duration_s:,.1f} req/s | {ms(percentile(lat, 50))} ms "
        f"| {ms(percentile(lat, 90))} ms | {ms(percentile(lat, 99))} ms | {ms(max(lat))} ms "
        f"| {result.errors} |",
        "",
        "Latency is measured per request in the script (from handing the request to wrk to its "
        "answer). wrk's own histogram, corrected for coordinated omission: "
        + ", ".join(f"{k} {ms(v)} ms" for k, v in result.wrk_latency_us.items())
        + f"; wrk counted {result.requests:,} answers.",
        "",
        "| operation | kind | requests | share | errors | p50 ms | p99 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for op in result.ops.values():
        lines.append(
            f"| `{op.label}` | {op.kind} | {op.count:,} | {op.count / total:.1%} | {op.errors} "
            f"| {ms(percentile(op.latencies_us, 50))} | {ms(percentile(op.latencies_us, 99))} |"
        )
    kinds = Counter()
    for op in result.ops.values():
        kinds[op.kind] += op.count
    lines += [
        "",
        f"Reads {kinds['read'] / total:.1%}, writes {kinds['write'] / total:.1%}.",
        "",
        "## Errors",
        "",
    ]
    failed = [(op, s, n) for op in result.ops.values() for s, n in op.statuses.items()]
    failed = [(op, s, n) for op, s, n in failed if not 200 <= s < 400]
    sockets = ", ".join(f"{k} {v}" for k, v in result.socket_errors.items())
    lines.append(f"- Socket errors (wrk): {sockets}")
    if not failed:
        lines.append("- Every answer was 2xx or 3xx.")
    for op, status, n in sorted(failed, key=lambda f: -f[2]):
        what = "no answer" if status == 0 else f"status {status}"
        lines.append(f"- `{op.label}`: {n} x {what}; first: {op.samples.get(status, '')[:300]}")

    # What the database gained must lie between what was acknowledged and that plus the writes
    # still in flight when wrk stopped (the server finishes them, nobody reads the answer).
    write_ops = ("records", "course_patch", "person_patch")
    acked = {k: result.acknowledged(k) for k in write_ops}
    unanswered = sum(result.inflight[k] for k in write_ops)
    records = result.ops["records"].records if "records" in result.ops else 0
    gained = {k: after[k] - before[k] for k in TALLIES}
    bounds = {
        "training_record": (records, records + result.inflight_records),
        "audit_event": (sum(acked.values()), sum(acked.values()) + unanswered),
        "idempotency_key": (acked["records"], acked["records"] + result.inflight["records"]),
    }
    wrong = [k for k, (low, high) in bounds.items() if not low <= gained[k] <= high]
    lines += [
        "",
        "## Writes",
        "",
        f"- writes applied: {gained['training_record']:,} records, {gained['audit_event']:,} "
        f"audit events, {gained['idempotency_key']:,} idempotency keys",
        f"- acknowledged (2xx): {records:,} records in {acked['records']:,} batches, "
        f"{acked['course_patch']:,} course edits, {acked['person_patch']:,} person edits "
        f"(one audit event each); in flight when wrk stopped: {unanswered} write(s)",
        "- "
        + (
            "MISMATCH in "
            + ", ".join(
                f"{k} (+{gained[k]}, expected {bounds[k][0]}-{bounds[k][1]})" for k in wrong
            )
            if wrong
            else "the database holds every acknowledged write, and nothing else"
        ),
    ]
    if server_log.strip():
        lines += ["", "## Server log (last lines)", "", "```", server_log, "```"]
    lines += ["", "<details><summary>wrk output</summary>", "", "```", result.wrk_output, "```"]
    lines += ["", "</details>"]
    return "\n".join(lines), result.errors == 0 and not wrong


# ---- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--seconds", type=int, default=60, help="length of the run (default 60)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--workers", type=int, default=4, help="planner serve workers (4)")
    parser.add_argument("--scale", type=float, default=1.0, help="data volume (bench.generate)")
    parser.add_argument("--warmup", type=int, default=5, help="read-only warm-up seconds (5)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed: `make wrk` (as root) or `sudo apt-get install wrk`")
    if postgres_version() is None:
        parser.error("no PostgreSQL answers at 127.0.0.1:5432 (user postgres, database test)")
    # SIGTERM unwinds like Ctrl-C, so that the server stops and the scratch database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        log(f"filling {make_url(url).database} at scale {args.scale:g} ...")
        started = time.monotonic()
        counts = generate(url, scale=args.scale)
        log(f"filled in {time.monotonic() - started:.0f} s")
        token = credentials(url)
        with raw(url) as conn:
            data = sample(conn, args.connections, seed=8)
            skipped = data.pop("unaddressable")
            before = tallies(conn)
            db_size = conn.execute(
                "SELECT pg_size_pretty(pg_database_size(current_database()))"
            ).fetchone()[0]
        logfile = Path(tmp) / "server.log"
        with server(url, args.workers, logfile) as base:
            log(f"planner serve --workers {args.workers} at {base}; warming up {args.warmup} s")
            if args.warmup > 0:
                warm = wrk(base, token, data, args.warmup, warmup=True)
                if warm.errors:
                    log(f"warm-up: {warm.errors} error(s)")
            log(f"wrk: {args.connections} connections for {args.seconds} s ...")
            result = wrk(base, token, data, args.seconds)
        with raw(url) as conn:
            after = tallies(conn)
        text_, clean = report(args, counts, db_size, result, before, after, tail(logfile), skipped)
    print(text_)
    return 0 if clean else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the server is stopped and the database dropped by then
        log("interrupted")
        sys.exit(130)
