"""Demonstrate the scale-out path on Prefect itself, on one machine:

- a Prefect server (SQLite) on 127.0.0.1;
- a *process* work pool `bcf-process` with two workers;
- the LLR footprint's shared extracts on S3 (moto's S3 server on 127.0.0.1 stands in for the real bucket);
- the fortnightly deployments of `bcf deploy --pool` (flows.deployments.deploy_to_pool), one run per HWB
  (Leicester, Rutland, Leicestershire).

Each run lands from S3 into its own data dir (its own DuckDB warehouse and landing area): runs on different workers
are different processes, and two processes must never write one DuckDB file. The same deployment moves to a
Kubernetes or ECS work pool by changing the pool (see docs/scale-out.md).

    .venv/bin/python scripts/scale_out_demo.py
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
HWBS = ["E06000016", "E06000017", "E10000018"]


def port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    from bcf.devtools.servers import wait_for

    work = Path(tempfile.mkdtemp(prefix="bcf-scale-out-"))
    api, s3 = f"http://127.0.0.1:{port()}/api", f"http://127.0.0.1:{port()}"
    env = {**os.environ, "PREFECT_HOME": str(work / "prefect"), "PREFECT_API_URL": api, "DO_NOT_TRACK": "1",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "AWS_ENDPOINT_URL_S3": s3, "AWS_ACCESS_KEY_ID": "demo",
           "AWS_SECRET_ACCESS_KEY": "demo", "AWS_REGION": "eu-west-2", "PREFECT_LOGGING_LEVEL": "WARNING"}
    os.environ.update(env)
    procs: list[subprocess.Popen[bytes]] = []
    logs = work / "logs"
    logs.mkdir()

    def start(name: str, *cmd: str) -> None:
        log = open(logs / f"{name}.log", "w")  # noqa: SIM115 - the process owns it until the end
        procs.append(subprocess.Popen(list(cmd), env={**env, "PREFECT_LOGGING_LEVEL": "INFO"}, cwd=ROOT,
                                      stdout=log, stderr=subprocess.STDOUT))

    try:
        start("server", str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port",
              api.split(":")[2].split("/")[0])
        start("s3", str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", s3.rsplit(":", 1)[1])
        wait_for(f"{api}/health")
        wait_for(s3)
        print(f"server {api}, S3 {s3}, work {work}")

        # the ICB's shared extracts, uploaded to the bucket
        import boto3

        from bcf.devtools.synthetic import generate

        src = work / "extracts"
        for n, hwb in enumerate(HWBS):
            generate(hwb, dt.date(2022, 10, 1), dt.date(2023, 3, 31), 20_000, 5 + n, src, explicit_hwb=True,
                     discharges=hwb == "E10000018")
        bucket = boto3.client("s3", endpoint_url=s3, region_name="eu-west-2")
        bucket.create_bucket(Bucket="llr-bcf", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        for path in src.iterdir():
            bucket.upload_file(str(path), "llr-bcf", f"extracts/{path.name}")

        subprocess.run([str(BIN / "prefect"), "work-pool", "create", "bcf-process", "--type", "process"], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        for n in (1, 2):
            start(f"worker{n}", str(BIN / "prefect"), "worker", "start", "--pool", "bcf-process", "--limit", "1",
                  "--name", f"worker-{n}")

        from prefect.client.orchestration import get_client

        from bcf.flows.deployments import deploy_to_pool

        # the same deployments `bcf deploy --pool bcf-process` registers: one per HWB, each with its own data dir
        deploy_to_pool("bcf-process", "s3://llr-bcf/extracts/", HWBS, str(work / "returns"), str(work / "data"),
                       schedules=False)
        started = time.monotonic()
        with get_client(sync_client=True) as client:
            runs = {hwb: client.create_flow_run_from_deployment(
                client.read_deployment_by_name(f"fortnightly-return/discharge-fund-fortnightly-{hwb.lower()}").id,
                parameters={"period_end": "2023-03-30"}) for hwb in HWBS}
            deadline = time.monotonic() + 600
            states = {}
            while time.monotonic() < deadline:
                states = {hwb: client.read_flow_run(r.id) for hwb, r in runs.items()}
                if all(fr.state and fr.state.is_final() for fr in states.values()):
                    break
                time.sleep(2)
            for hwb, fr in states.items():
                worker = next((str(n) for n in (1, 2) if str(fr.id) in (logs / f"worker{n}.log").read_text()), "?")
                took = (fr.end_time - fr.start_time).total_seconds() if fr.end_time and fr.start_time else 0
                print(f"{hwb}: {fr.state.name if fr.state else '?'} in {took:.0f} s "
                      f"({fr.start_time:%H:%M:%S}-{fr.end_time:%H:%M:%S}), worker-{worker}")
        print(f"all three in {time.monotonic() - started:.0f} s; workbooks:")
        for path in sorted((work / "returns").glob("*.xlsx")):
            print(f"  {path.name}")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
