#!/usr/bin/env python3
"""Compare kbagent's --json output with the Python kbagent's, command by command.

Starts keboola-emulator with TLS (the Python tool accepts only https), registers the same
project in both tools (each with its own config dir), runs the commands both have and
prints, per command, the exit codes, the envelope keys and the keys of `data` (and of the
first element of every list) that only one side has or that differ in JSON type.

The Python tool finds sibling services (Encryption, Query, AI, ...) by turning the stack
host `connection.X` into `encryption.X` and drops the port, so the emulator answers under the
host name `kbc.test` and both tools reach it through a small CONNECT proxy on 127.0.0.1 that
sends every tunnel, whatever host it names, to the emulator's loopback port: nothing resolves
or leaves the machine.

Installs nothing. Usage:
  scripts/compare_python.py PYTHON_KBAGENT [--rust BIN] [--emulator BIN]
(build first: cargo build -p kbagent -p keboola-emulator)
"""

import argparse
import json
import os
import select
import socket
import threading
import re
import subprocess
import sys
import tempfile

# {name} in a case's argv: an id saved from an earlier command (JSON braces never match).
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shape(value):
    """The value with every leaf replaced by its JSON type, lists by their first element."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def differences(py, rs, path):
    out = []
    if isinstance(py, dict) and isinstance(rs, dict):
        for k in py:
            if k not in rs:
                out.append(f"  only python: {path}.{k} ({json.dumps(py[k])[:70]})")
            else:
                out += differences(py[k], rs[k], f"{path}.{k}")
        for k in rs:
            if k not in py:
                out.append(f"  only rust:   {path}.{k}")
    elif isinstance(py, list) and isinstance(rs, list):
        if py and rs:
            out += differences(py[0], rs[0], f"{path}[]")
    elif py != rs and "null" not in (py, rs):
        out.append(f"  type:        {path} python={py} rust={rs}")
    return out


HOSTNAME = "kbc.test"


def start_proxy(emulator_port):
    """An HTTP CONNECT proxy on 127.0.0.1 whose every tunnel ends at the emulator."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def pipe(client):
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            if not head.startswith(b"CONNECT "):
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
                return
            with socket.create_connection(("127.0.0.1", emulator_port)) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                rest = head.split(b"\r\n\r\n", 1)[1]
                if rest:
                    upstream.sendall(rest)
                ends = [client, upstream]
                while True:
                    ready, _, _ = select.select(ends, [], [], 300)
                    if not ready:
                        return
                    for end in ready:
                        data = end.recv(65536)
                        if not data:
                            return
                        (upstream if end is client else client).sendall(data)

    def serve():
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=pipe, args=(client,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener


def start_emulator(binary, cert_dir):
    proc = subprocess.Popen(
        [binary, "--tls", "--cert-dir", cert_dir, "--projects", "2", "--hostname", HOSTNAME],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        sys.exit("the emulator printed no ready line")
    return proc, json.loads(line)


def run_init(tool, config_dir, argv, env, cwd, python):
    """`init` writes .kbagent/ under the working directory: run it in a fresh one. The
    Python tool copies --from-global only from its platform config directory (never from
    KBAGENT_CONFIG_DIR), so it gets a HOME whose platform directory holds its config."""
    os.makedirs(cwd, exist_ok=True)
    env = {**env, "KBAGENT_CONFIG_DIR": config_dir}
    if python:
        home = cwd + "-home"
        platform = os.path.join(home, ".config", "keboola-agent-cli")
        os.makedirs(platform, exist_ok=True)
        with open(os.path.join(config_dir, "config.json")) as src:
            text = src.read()
        with open(os.path.join(platform, "config.json"), "w") as dst:
            dst.write(text)
        os.chmod(os.path.join(platform, "config.json"), 0o600)
        env = {**env, "HOME": home}
        del env["KBAGENT_CONFIG_DIR"]
    r = subprocess.run(
        [tool, "--json", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )
    try:
        return json.loads(r.stdout), r.returncode
    except ValueError:
        return {"_stdout": r.stdout[:200], "_stderr": r.stderr[-200:]}, r.returncode


def first(data, *path):
    """data[path...], where an int picks a list element; None when absent."""
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def second_round_cases(oauth, project):
    """Configuration writes, encryption, components, search, workspaces, permissions, init.

    A case is (name, argv, stdin, opts): opts may give `py_argv`/`rs_argv` (where the
    tools' flags differ), `py_extra`/`rs_extra` (flags one side needs, such as a
    confirmation), and `save` (id name -> function of `data`) for ids later argv use as
    {name}, each side its own.
    """
    comp = oauth["component_id"]
    src = ["--component-id", comp, "--config-id", oauth["config_id"]]
    new = ["--component-id", comp, "--config-id", "{cfg}"]
    tr = ["--component-id", "keboola.snowflake-transformation", "--config-id", "10007"]
    p = ["--project", "p1"]
    body = '{"parameters": {"db": {"host": "h1"}}}'
    return [
        ("config new", ["config", "new", *p, "--component-id", comp, "--name", "Parity",
                        "--configuration", body, "--push", "--no-files"],
         None, {
                "save": {"cfg": lambda d: first(d, "config_id") or first(d, "id")
                         or first(d, "created", "id")}}),
        ("config update --set --dry-run", ["config", "update", *p, *new,
                                           "--set", "parameters.db.host=h2", "--dry-run"], None, {}),
        ("config update --set", ["config", "update", *p, *new, "--set", "parameters.db.host=h2",
                                 "--change-description", "parity"], None, {}),
        ("config update --configuration --merge",
         ["config", "update", *p, *new, "--configuration", '{"parameters": {"db": {"port": 5}}}',
          "--merge"], None, {}),
        ("config rename", ["config", "rename", *p, *new, "--name", "Parity renamed"], None, {}),
        ("config versions", ["config", "versions", *p, *new], None, {}),
        ("config rollback", ["config", "rollback", *p, *new, "--version", "1"], None, {}),
        ("config row-create", ["config", "row-create", *p, *new, "--name", "Row 1",
                               "--configuration", '{"parameters": {"table": "orders"}}'],
         None, {"save": {"row": lambda d: first(d, "row_id") or first(d, "id")
                         or first(d, "row", "id")}}),
        ("config row-update", ["config", "row-update", *p, *new, "--row-id", "{row}",
                               "--set", "parameters.table=invoices"], None, {}),
        ("config state-set", ["config", "state-set", *p, *new, "--state", '{"lastId": 1}'],
         None, {"py_extra": ["--yes"]}),
        ("config state-get", ["config", "state-get", *p, *new], None, {}),
        ("config row-delete", ["config", "row-delete", *p, *new, "--row-id", "{row}", "--yes"],
         None, {}),
        ("config clone", ["config", "clone", *p, *new, "--name", "Parity copy"], None, {}),
        ("config delete --dry-run", ["config", "delete", *p, *new, "--dry-run"], None, {}),
        ("config delete", ["config", "delete", *p, *new], None, {"rs_extra": ["--yes"]}),
        ("config restore", ["config", "restore", *p, *new], None, {}),
        ("encrypt values", ["encrypt", "values", *p, "--component-id", comp,
                            "--input", '{"#password": "parity-secret"}'], None, {}),
        ("component list", ["component", "list", "--all-projects"], None, {}),
        ("component detail", ["component", "detail", *p, "--component-id", comp], None, {}),
        ("search", ["search", "orders", *p], None, {}),
        ("search --search-type config-based", ["search", "h2", "--search-type", "config-based",
                                               "--all-projects"], None, {}),
        ("workspace create", ["workspace", "create", *p, "--name", "parity"], None,
         {"save": {"ws": lambda d: first(d, "workspace_id")}}),
        ("workspace list", ["workspace", "list", *p], None, {}),
        ("workspace detail", ["workspace", "detail", *p, "--workspace-id", "{ws}"], None, {}),
        ("workspace load", ["workspace", "load", *p, "--workspace-id", "{ws}",
                            "--tables", "in.c-crm.orders"], None, {}),
        ("workspace query", ["workspace", "query", *p, "--workspace-id", "{ws}",
                             "--sql", "SELECT 1 AS one"], None, {}),
        ("workspace delete", ["workspace", "delete", *p, "--workspace-id", "{ws}"], None,
         {"rs_extra": ["--yes"]}),
        ("workspace from-transformation", ["workspace", "from-transformation", *p, *tr], None,
         {}),
        ("query", ["query", *p, "--sql", "SELECT 1 AS one"], None, {}),
        ("permissions show", ["permissions", "show"], None, {}),
        ("permissions check", ["permissions", "check", "config.update"], None, {}),
        ("init", ["init"], None, {"cwd_init": True}),
        ("init --project --read-only", ["init", "--project", "p1", "--read-only"], None,
         {"cwd_init": "fresh"}),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("python_kbagent", help="path of the Python kbagent binary")
    ap.add_argument("--rust", default=os.path.join(ROOT, "target/debug/kbagent"))
    ap.add_argument("--emulator", default=os.path.join(ROOT, "target/debug/keboola-emulator"))
    ap.add_argument("--dump", metavar="DIR", help="also write each side's JSON to DIR/<case>.<side>.json")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="kbagent-compare-")
    emu, ready = start_emulator(args.emulator, os.path.join(work, "cert"))
    try:
        ca = ready["ca_cert"]
        # As on a real stack: no port; the proxy knows where the emulator listens.
        url = f"https://connection.{HOSTNAME}"
        emulator_port = int(ready["url"].rsplit(":", 1)[1])
        proxy = start_proxy(emulator_port)
        proxy_url = f"http://127.0.0.1:{proxy.getsockname()[1]}"
        project = ready["projects"][0]
        oauth = project["oauth_config"]
        home = os.path.join(work, "home")
        os.makedirs(home)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": home,
            "SSL_CERT_FILE": ca,
            "KBAGENT_CA_FILE": ca,
            "BROWSER": "true",
            "KBAGENT_OAUTH_WIZARD_URL": ready["oauth_wizard_url"],
            "KBAGENT_AUTO_UPDATE": "false",
            "KBAGENT_DISABLE_TELEMETRY": "1",
            "NO_COLOR": "1",
            "HTTPS_PROXY": proxy_url,
            "https_proxy": proxy_url,
        }

        def run(tool, config_dir, argv, stdin=None):
            r = subprocess.run(
                [tool, "--json", "--config-dir", config_dir, *argv],
                input=stdin,
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )
            try:
                return json.loads(r.stdout), r.returncode
            except ValueError:
                return {"_stdout": r.stdout[:200], "_stderr": r.stderr[-200:]}, r.returncode

        table = "in.c-crm.orders"
        config = ["--component-id", oauth["component_id"], "--config-id", oauth["config_id"]]
        commands = [
            ("project add", ["project", "add", "--project", "p1", "--url", url, "--token-stdin"],
             project["tokens"]["admin"] + "\n"),
            ("project list", ["project", "list"], None),
            ("project status", ["project", "status"], None),
            ("project info", ["project", "info", "--project", "p1"], None),
            ("project current", ["project", "current"], None),
            ("project use", ["project", "use", "p1"], None),
            ("token list", ["token", "list", "--project", "p1"], None),
            ("config list", ["config", "list", "--project", "p1"], None),
            ("config detail", ["config", "detail", "--project", "p1", *config], None),
            ("config oauth-url", ["config", "oauth-url", "--project", "p1", *config, "--no-open"], None),
            ("token create", ["token", "create", "--project", "p1", "--description", "compare",
                              "--expires-in", "3600"], None),
            ("storage buckets", ["storage", "buckets", "--project", "p1"], None),
            ("storage bucket-detail", ["storage", "bucket-detail", "--project", "p1",
                                       "--bucket-id", "in.c-crm"], None),
            ("storage tables", ["storage", "tables", "--project", "p1"], None),
            ("storage table-detail", ["storage", "table-detail", "--project", "p1",
                                      "--table-id", table], None),
            ("storage files", ["storage", "files", "--project", "p1"], None),
            ("branch list", ["branch", "list", "--project", "p1"], None),
            ("branch use", ["branch", "use", "--project", "p1",
                            "--branch", str(project["id"] * 100 + 2)], None),
            ("branch reset", ["branch", "reset", "--project", "p1"], None),
            ("doctor", ["doctor"], None),
            ("version", ["version"], None),
        ]
        commands = [(name, argv, stdin, {}) for name, argv, stdin in commands]
        commands += second_round_cases(oauth, project)
        py_cfg, rs_cfg = os.path.join(work, "py"), os.path.join(work, "rs")
        # Ids each tool created itself (a workspace, a configuration, a row), by side.
        saved = {"py": {}, "rs": {}}
        for name, argv, stdin, opts in commands:
            sides = {}
            for side, tool, cfg in (("py", args.python_kbagent, py_cfg), ("rs", args.rust, rs_cfg)):
                full = list(opts.get(f"{side}_argv", argv)) + list(opts.get(f"{side}_extra", []))
                missing = [m for a in full for m in PLACEHOLDER.findall(a) if m not in saved[side]]
                if missing:
                    sides[side] = ({"_skipped": f"no {missing[0]} from an earlier command"}, None)
                    continue
                full = [PLACEHOLDER.sub(lambda m: saved[side][m.group(1)], a) for a in full]
                if "cwd_init" in opts:
                    where = f"init-{side}" + ("-2" if opts["cwd_init"] == "fresh" else "")
                    sides[side] = run_init(tool, cfg, full, env, os.path.join(work, where),
                                           side == "py")
                else:
                    sides[side] = run(tool, cfg, full, stdin)
                data = sides[side][0].get("data") if isinstance(sides[side][0], dict) else None
                for key, pick in opts.get("save", {}).items():
                    value = pick(data) if data is not None else None
                    if value is not None:
                        saved[side][key] = str(value)
            (py, py_code), (rs, rs_code) = sides["py"], sides["rs"]
            if args.dump:
                os.makedirs(args.dump, exist_ok=True)
                for side, doc in (("py", py), ("rs", rs)):
                    with open(os.path.join(args.dump, f"{name.replace(' ', '_')}.{side}.json"), "w") as f:
                        json.dump(doc, f, indent=1)
            keys = lambda d: sorted(d) if isinstance(d, dict) else "?"
            print(f"== {name}: exit python={py_code} rust={rs_code}; "
                  f"envelope python={keys(py)} rust={keys(rs)}")
            if py_code not in (0, None) or rs_code not in (0, None):
                for label, doc in (("python", py), ("rust", rs)):
                    if isinstance(doc, dict) and doc.get("error"):
                        print(f"  {label} error: {json.dumps(doc['error'])[:300]}")
                    elif isinstance(doc, dict) and "_stderr" in doc:
                        print(f"  {label} stderr: {doc['_stderr']}")
            py_data = py.get("data", py) if isinstance(py, dict) else py
            rs_data = rs.get("data", rs) if isinstance(rs, dict) else rs
            for line in differences(shape(py_data), shape(rs_data), "data"):
                print(line)
            if isinstance(py, dict) and isinstance(rs, dict) and "targets" in py:
                for line in differences(shape(py["targets"]), shape(rs.get("targets")), "targets"):
                    print(line)
    finally:
        emu.terminate()
        emu.wait(timeout=10)


if __name__ == "__main__":
    main()
