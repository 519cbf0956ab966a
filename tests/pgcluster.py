"""A throwaway PostgreSQL cluster in a temporary folder, on its own loopback port: tests stop,
crash, freeze and lock it, never the shared one."""

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.live import ROOT, free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def run_as_postgres() -> list[str] | None:
    """The prefix that runs a command as the `postgres` OS user (initdb refuses root), if any."""
    if os.geteuid() != 0:
        return [] if pwd.getpwuid(os.geteuid()).pw_name == "postgres" else None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return ["runuser", "-u", "postgres", "--"]


pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="runs once, in the PostgreSQL run of the suite"),
    pytest.mark.skipif(not (PG_BIN / "pg_ctl").exists(), reason=f"needs PostgreSQL 15's binaries in {PG_BIN}"),
    pytest.mark.skipif(run_as_postgres() is None, reason="needs root or the postgres OS user to run initdb"),
]


class Cluster:
    """A PostgreSQL cluster in a temporary folder, on its own loopback port."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="outage-"))
        shutil.chown(self.folder, user="postgres")
        self.data, self.port = self.folder / "data", free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/app"
        self.pg(["initdb", "--no-sync", "-A", "trust", "-U", "postgres", "-D", str(self.data)])

    def pg(self, command: list[str]) -> None:
        full = [*run_as_postgres(), str(PG_BIN / command[0]), *command[1:]]
        subprocess.run(full, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        self.pg(["pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"])

    def crash(self) -> None:
        """Stops it the hard way, as a lost server would: no goodbye to the clients."""
        self.pg(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def processes(self) -> list[int]:
        """The postmaster and every backend and helper it started."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
        return [postmaster, *map(int, children)]

    def freeze(self) -> None:
        """Stops every process of the cluster (SIGSTOP): connections stay open, nothing answers."""
        self.frozen = self.processes()
        for pid in self.frozen:
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in getattr(self, "frozen", []):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.frozen = []

    def admin(self) -> psycopg.Connection:
        """A superuser's connection to the app's database, in autocommit."""
        return psycopg.connect(self.url, autocommit=True)

    def remove(self) -> None:
        self.thaw()
        subprocess.run(
            [*run_as_postgres(), str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def migrated_cluster():
    """A started cluster with the app's database `app`, migrated; removed afterwards."""
    cluster = Cluster()
    try:
        cluster.start()
        with psycopg.connect(f"postgres://postgres@127.0.0.1:{cluster.port}/postgres", autocommit=True) as admin:
            admin.execute("CREATE DATABASE app")
        env = {**os.environ, "DATABASE_URL": cluster.url, "DJANGO_DEBUG": "true"}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
        yield cluster
    finally:
        cluster.remove()
