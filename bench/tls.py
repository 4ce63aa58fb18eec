"""TLS: SET and GET over TLS at P1 and P16, redis-server vs Taipan.

    python bench/tls.py                        # 3 interleaved rounds
    python bench/tls.py --requests 50000 --rounds 1

Both servers listen on a plain port and a TLS port with the same certificates
(made at run time with trustme; mutual TLS, as ``tls-auth-clients yes``), and
redis-benchmark ``--tls`` (-c 50, a client certificate) drives them, round by round
in turn. A plain-port GET P1 row is the baseline the TLS cost is read against.

A benchmark, never a test: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trustme  # noqa: E402

from bench.parsing import parse_csv  # noqa: E402
from bench.report import side_by_side  # noqa: E402
from bench.servers import Server, free_port, start_redis, start_taipan, versions  # noqa: E402


def make_certs(workdir: str) -> dict[str, str]:
    ca = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1")
    client = ca.issue_cert("bench-client")
    paths = {name: str(Path(workdir) / f"{name}.pem")
             for name in ("ca", "cert", "key", "client-cert", "client-key")}
    ca.cert_pem.write_to_path(paths["ca"])
    server.cert_chain_pems[0].write_to_path(paths["cert"])
    server.private_key_pem.write_to_path(paths["key"])
    client.cert_chain_pems[0].write_to_path(paths["client-cert"])
    client.private_key_pem.write_to_path(paths["client-key"])
    return paths


def _benchmark(port: int, tls: list[str], pipeline: int, requests: int,
               test: str) -> float:
    out = subprocess.run(["redis-benchmark", "-p", str(port), *tls, "-c", "50", "-P",
                          str(pipeline), "-n", str(requests), "-t", test, "--csv"],
                         capture_output=True, text=True, timeout=900, check=False)
    rows = parse_csv(out.stdout)
    if not rows:
        print(f"redis-benchmark gave nothing on port {port}: {out.stderr.strip()}",
              file=sys.stderr)
    return next(iter(rows.values()), 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000,
                        help="requests per redis-benchmark run")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    help_text = subprocess.run(["redis-benchmark", "--help"], capture_output=True,
                               text=True, check=False)
    if "--tls" not in help_text.stdout + help_text.stderr:
        print("this redis-benchmark has no TLS support", file=sys.stderr)
        return 1
    certdir = tempfile.mkdtemp(prefix="bench-tls-")
    paths = make_certs(certdir)
    client_tls = ["--tls", "--cacert", paths["ca"], "--cert", paths["client-cert"],
                  "--key", paths["client-key"]]
    results: dict[str, dict[str, list[float]]] = {"redis": {}, "taipan": {}}
    servers: dict[str, Server] = {}
    tls_ports: dict[str, int] = {}
    try:
        for kind, start in (("redis", start_redis), ("taipan", start_taipan)):
            tls_ports[kind] = free_port()
            servers[kind] = start(("--tls-port", str(tls_ports[kind]),
                                   "--tls-cert-file", paths["cert"],
                                   "--tls-key-file", paths["key"],
                                   "--tls-ca-cert-file", paths["ca"]))
        for round_no in range(args.rounds):
            for kind, server in servers.items():
                rows = results[kind]
                for test in ("SET", "GET"):
                    for pipeline in (1, 16):
                        rows.setdefault(f"TLS {test} P{pipeline}", []).append(_benchmark(
                            tls_ports[kind], client_tls, pipeline, args.requests, test))
                rows.setdefault("plain GET P1", []).append(
                    _benchmark(server.port, [], 1, args.requests, "GET"))
            print(f"round {round_no + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(certdir, ignore_errors=True)
    info = versions()
    print("\n" + side_by_side(f"{info['redis_server']}\n{info['taipan']} "
                              f"({info['taipan_event_loop']}), TLS (mutual, -c 50)",
                              args.rounds, results, {}, {}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
