"""Checks the CLI runs before any model loads, so a wrong flag fails in a second with one line
naming the fix rather than a traceback after a minute of loading."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from typing import Any

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def parse_auth(auth: str | None, source: str = "--auth") -> tuple[str, str] | None:
    """USER:PASS as a (user, password) pair; None when not given."""
    if not auth:
        return None
    user, sep, password = auth.strip().partition(":")
    if not sep or not user or not password:
        raise ValueError(f"{source} takes USER:PASS")
    return user, password


def read_auth_file(path: Path) -> tuple[str, str]:
    """The login from the first non-blank line of a file: unlike --auth, never visible in `ps`."""
    try:
        lines = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as err:
        raise ValueError(f"cannot read --auth-file {path} ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise ValueError(f"--auth-file {path} is not a text file; it holds USER:PASS on one line") from None
    credentials = parse_auth(lines[0] if lines else "", f"--auth-file {path} (first line)")
    assert credentials is not None
    return credentials


def resolve_auth(auth: str | None, auth_file: Path | None) -> tuple[str, str] | None:
    """The login from --auth-file, --auth or QUOTEBACK_AUTH, in that order; at most one flag."""
    if auth and auth_file:
        raise ValueError("give either --auth or --auth-file, not both")
    if auth_file:
        return read_auth_file(auth_file)
    if auth:
        return parse_auth(auth)
    return parse_auth(os.environ.get("QUOTEBACK_AUTH"), "QUOTEBACK_AUTH")


def check_listen(host: str, port: int) -> None:
    """Raise ValueError unless `port` is valid and free on `host` (checked before the model loads)."""
    if not 1 <= port <= 65535:
        raise ValueError(f"--port {port} is not a port number; choose one from 1 to 65535 (default 7860)")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as err:
        raise ValueError(f"cannot listen on --host {host} ({err.strerror}); use an address of this machine such as 127.0.0.1") from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the web server does
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise ValueError(f"port {port} on {host} is already in use (another quoteback chat?); "
                                 "choose another with --port") from None
            if err.errno == errno.EACCES:
                raise ValueError(f"port {port} needs administrator rights; choose one above 1023 with --port") from None
            raise ValueError(f"cannot listen on {host}:{port} ({err.strerror or err}); check --host and --port") from None


def check_exposure(host: str, credentials: Any, allow_unauthenticated: bool) -> None:
    """Beyond loopback anyone on the network could upload, delete and rebuild: demand a login."""
    if host in LOOPBACK or credentials or allow_unauthenticated:
        return
    raise ValueError(f"--host {host} makes the chat reachable from other machines, where anyone could upload "
                     "and remove documents; give a login with --auth-file FILE (USER:PASS), or "
                     "--allow-unauthenticated if the network is trusted")


def check_eval_sets(folders: list[Path]) -> list[Path]:
    """Evaluation folders named on the command line, each in the BEIR layout."""
    out = []
    for folder in folders:
        if not (Path(folder) / "queries.jsonl").is_file():
            raise ValueError(f"--eval-set {folder} is not an evaluation set (no queries.jsonl); "
                             "give a BEIR-layout folder")
        out.append(Path(folder).resolve())
    return out


def describe_model(model: Any) -> str | None:
    """The manifest's model as a person reads it: name (dimensions, runtime)."""
    if not isinstance(model, dict):
        return None if model is None else str(model)
    details = [f"{model['dimension']} dimensions" if "dimension" in model else "", model.get("backend", "torch")]
    return f"{model.get('name')} ({', '.join(d for d in details if d)})"


def check_output_folder(folder: Path, flag: str) -> None:
    """Raise ValueError unless `folder` exists or can be made, and takes files: checked before an
    evaluation of minutes, not after it."""
    import tempfile

    if Path(folder).exists() and not Path(folder).is_dir():
        raise ValueError(f"{flag} {folder} is a file, not a folder")
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise ValueError(f"cannot write to {flag} {folder} ({err.strerror or err}); choose a writable folder") from None
