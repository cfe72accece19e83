"""Course-list throughput over HTTP: the planner beside a bare Starlette baseline, with wrk.

`python -m bench.throughput --database-url URL [--seconds 10] [--connections 16] [--threads 2]`
prints a Markdown table. From code:

    from bench.throughput import compare, markdown
    results = compare("sqlite:////tmp/bench.db", seconds=10)
    print(markdown(results))

`compare` serves the planner (`planner serve --workers N`) and the baseline
(`uvicorn bench.baseline_app:app --workers N`, same uvicorn options) on free local ports over the
SAME database, creates a bearer token holding `catalog:read` (revoked afterwards; its row stays),
checks once that both answer `GET /api/v1/courses?limit=50` with the same document, then runs
`wrk --latency` against the planner's course list, the planner's `/healthz` (the framework
floor) and the baseline, one after the other, each after a short untimed warm-up. Nothing is
read from or written to the environment of the calling process; the servers are stopped on
return, also on errors. Non-2xx answers and socket errors are counted and reported, never hidden.

Writes to the database: the client row (and its audit records); and, on a database without
users, `planner serve` itself adds a first-run setup token at every start.

On a shared or virtual machine, req/s of thread-pool handlers swings widely with other load (the
same baseline measured 450-3,100 req/s at 16 connections within one hour); compare figures from
one run, use `rounds`, and read `server_cpu_ms` beside req/s.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COURSES = "/api/v1/courses?limit=50"
HEALTH = "/healthz"


@dataclass(frozen=True)
class Result:
    """One wrk run against one URL."""

    name: str  # "planner courses", "planner healthz" or "baseline courses"
    path: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int  # wrk's "Non-2xx or 3xx responses" (status >= 400)
    socket_errors: dict[str, int] = field(default_factory=dict)  # connect, read, write, timeout
    seconds: float = 0.0
    # CPU time the server's processes spent per request during the run (Linux /proc), or None.
    # Less disturbed than req/s by other load on a shared machine.
    server_cpu_ms: float | None = None

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())


class BenchError(RuntimeError):
    """The measurement could not be made honestly (a server failed, the answers differ...)."""


# ---- wrk -------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
_DURATION = re.compile(r"([\d.]+)(us|ms|s|m)\b")


def _ms(text: str) -> float:
    m = _DURATION.fullmatch(text.strip())
    if m is None:
        raise BenchError(f"cannot read wrk duration {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(output: str, *, name: str = "", path: str = "") -> Result:
    """A Result from the text `wrk --latency` prints."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    done = re.search(r"^\s+(\d+) requests in ([\d.]+)(\w+)", output, re.M)
    if not (rps and p50 and p99 and done):
        raise BenchError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Result(
        name=name,
        path=path,
        requests_per_second=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        requests=int(done.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=dict(
            zip(("connect", "read", "write", "timeout"), map(int, sock.groups()), strict=True)
        )
        if sock
        else {},
        seconds=_ms(done.group(2) + done.group(3)) / 1e3,
    )


def run_wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int,
    headers: dict[str, str] | None = None,
    name: str = "",
    path: str = "",
) -> Result:
    """`wrk --latency` against one URL; raises if wrk itself fails."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed (Debian: apt-get install wrk)")
    cmd = [
        wrk,
        "--latency",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(round(seconds), 1)}s",
    ]  # wrk takes whole seconds
    for key, value in (headers or {}).items():
        cmd += ["-H", f"{key}: {value}"]
    done = subprocess.run(
        [*cmd, url], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout, name=name, path=path)


def group_cpu_seconds(pgid: int) -> float | None:
    """User + system CPU seconds of the live processes in a process group (Linux), else None."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    total = 0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the process ended meanwhile
        # fields[0] is the state (field 3 of proc(5)): pgrp is field 5, utime 14, stime 15.
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure(url: str, server_pgid: int | None, **wrk_options) -> Result:
    """run_wrk, plus the server's CPU time per request when its process group is known."""
    before = group_cpu_seconds(server_pgid) if server_pgid else None
    result = run_wrk(url, **wrk_options)
    after = group_cpu_seconds(server_pgid) if server_pgid else None
    if before is None or after is None or not result.requests:
        return result
    return replace(result, server_cpu_ms=(after - before) * 1e3 / result.requests)


# ---- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextmanager
def serve(cmd: list[str], env: dict[str, str], ready_url: str, *, timeout: float = 60) -> Iterator:
    """Run a server until the block ends; ready once `ready_url` answers 200."""
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: workers are stopped with it
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise BenchError(
                    f"{cmd[0]} exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}"
                )
            try:
                if _get(ready_url, timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"{' '.join(cmd)} did not answer {ready_url} in {timeout}s")
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        proc.stderr.close()


def _bin(name: str) -> str:
    """A console script of the running interpreter's environment (the venv's planner, uvicorn)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def _planner(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [_bin("planner"), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"planner {' '.join(args)} failed: {done.stderr or done.stdout}")
    return done.stdout


@contextmanager
def bearer_token(env: dict[str, str]) -> Iterator[str]:
    """A fresh client token with `catalog:read`, revoked when the block ends."""
    name = f"bench-throughput-{secrets.token_hex(4)}"
    token = _planner(env, "client", "create", name, "--scope", "catalog:read").split()[-1]
    try:
        yield token
    finally:
        _planner(env, "client", "revoke", name)


# ---- the comparison --------------------------------------------------------------------------


def _same_answer(planner: bytes, baseline: bytes) -> None:
    mine, theirs = json.loads(planner), json.loads(baseline)
    if not mine.get("items"):
        raise BenchError("the planner's course list is empty: nothing to compare")
    if mine != theirs:
        diff = next(
            (
                (i, a, b)
                for i, (a, b) in enumerate(zip(mine["items"], theirs["items"], strict=False))
                if a != b
            ),
            None,
        )
        raise BenchError(
            "the planner and the baseline answer differently "
            f"(total {mine.get('total')} vs {theirs.get('total')}, "
            f"{len(mine['items'])} vs {len(theirs['items'])} items, first difference: {diff})"
        )


def compare(
    database_url: str,
    *,
    seconds: float = 10,
    connections: int = 16,
    threads: int = 2,
    workers: int = 1,
    warmup: float = 2,
    rounds: int = 1,
    planner_settings: Mapping[str, str] | None = None,
) -> list[Result]:
    """Planner course list, planner /healthz and baseline course list, measured on one database.

    Returns three Results in that order. With `rounds` > 1 each target is measured that many
    times, interleaved, and the run with the median requests/s is kept. Raises BenchError when a
    server does not start, when the two course lists differ, or when wrk fails; error counts of a
    run (non-2xx, socket errors) are returned in the Result, not raised. `planner_settings`
    adds PLANNER_* variables for the planner server only (e.g. {"PLANNER_DB_POOL_SIZE": "20"}).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANNER_", "BASELINE_"))}
    env.update(
        PLANNER_DATABASE_URL=database_url,
        PLANNER_LOG_LEVEL="warning",  # no access log lines: they would be timed too
        PLANNER_SECRET_KEY=secrets.token_urlsafe(48),
        PLANNER_WORKERS=str(workers),
        BASELINE_DATABASE_URL=database_url,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    planner_env = {**env, **(planner_settings or {})}
    planner_port, baseline_port = free_port(), free_port()
    planner_url = f"http://127.0.0.1:{planner_port}"
    baseline_url = f"http://127.0.0.1:{baseline_port}"
    uvicorn_options = ["--workers", str(workers), "--log-level", "warning"]
    planner_cmd = [
        _bin("planner"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(planner_port),
        "--workers",
        str(workers),
    ]
    # The same options `planner serve` gives uvicorn.run (loop and http: uvicorn's "auto").
    baseline_cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.baseline_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(baseline_port),
        "--proxy-headers",
        *uvicorn_options,
    ]
    with (
        bearer_token(env) as token,
        serve(planner_cmd, planner_env, planner_url + HEALTH) as planner,
        serve(baseline_cmd, env, baseline_url + COURSES) as baseline,
    ):
        auth = {"Authorization": f"Bearer {token}"}
        status, mine = _get(planner_url + COURSES, auth)
        if status != 200:
            raise BenchError(f"the planner answered {status}: {mine[:500]!r}")
        status, theirs = _get(baseline_url + COURSES)
        if status != 200:
            raise BenchError(f"the baseline answered {status}: {theirs[:500]!r}")
        _same_answer(mine, theirs)

        targets = [
            ("planner courses", planner_url, COURSES, auth, planner.pid),
            ("planner healthz", planner_url, HEALTH, None, planner.pid),
            ("baseline courses", baseline_url, COURSES, None, baseline.pid),
        ]
        load = {"seconds": seconds, "connections": connections, "threads": threads}
        runs: dict[str, list[Result]] = {name: [] for name, *_ in targets}
        if warmup > 0:
            for _name, base, path, headers, _pid in targets:
                run_wrk(base + path, headers=headers, **{**load, "seconds": warmup})
        for _ in range(max(rounds, 1)):
            for name, base, path, headers, pid in targets:
                runs[name].append(
                    measure(base + path, pid, headers=headers, name=name, path=path, **load)
                )
    return [_median(runs[name]) for name, *_ in targets]


def _median(results: list[Result]) -> Result:
    ordered = sorted(results, key=lambda r: r.requests_per_second)
    middle = statistics.median_low(range(len(ordered)))
    return ordered[middle]


def markdown(results: list[Result]) -> str:
    """A Markdown table of results; the ratio is each row's req/s over the baseline's."""
    baseline = next((r for r in results if r.name.startswith("baseline")), None)
    lines = [
        "| target | path | req/s | p50 ms | p99 ms | requests | errors | vs baseline "
        "| server CPU ms/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        sock = sum(r.socket_errors.values())
        errors = f"{r.non_2xx} non-2xx, {sock} socket" if r.errors else "0"
        ratio = (
            f"{r.requests_per_second / baseline.requests_per_second:.2f}x"
            if baseline and baseline.requests_per_second
            else "-"
        )
        cpu = f"{r.server_cpu_ms:.3f}" if r.server_cpu_ms is not None else "-"
        lines.append(
            f"| {r.name} | `{r.path}` | {r.requests_per_second:,.0f} | {r.p50_ms:.2f} | "
            f"{r.p99_ms:.2f} | {r.requests:,} | {errors} | {ratio} | {cpu} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="SQLAlchemy URL of a loaded database")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        results = compare(
            args.database_url,
            seconds=args.seconds,
            connections=args.connections,
            threads=args.threads,
            workers=args.workers,
            warmup=args.warmup,
            rounds=args.rounds,
        )
    except BenchError as exc:
        print(f"throughput: {exc}", file=sys.stderr)
        return 1
    print(
        f"`wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s`, "
        f"{args.workers} worker(s), {args.database_url}\n"
    )
    print(markdown(results))
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
