#!/usr/bin/env python3
"""Compare kbagent's --json output with the Python kbagent's, command by command.

Starts keboola-emulator with TLS (the Python tool accepts only https), registers the same
project in both tools (each with its own config dir), runs the commands both have and
prints, per command, the exit codes, the envelope keys and the keys of `data` (and of the
first element of every list) that only one side has or that differ in JSON type.

Installs nothing. Usage:
  scripts/compare_python.py PYTHON_KBAGENT [--rust BIN] [--emulator BIN]
(build first: cargo build -p kbagent -p keboola-emulator)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

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


def start_emulator(binary, cert_dir):
    proc = subprocess.Popen(
        [binary, "--tls", "--cert-dir", cert_dir, "--projects", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        sys.exit("the emulator printed no ready line")
    return proc, json.loads(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("python_kbagent", help="path of the Python kbagent binary")
    ap.add_argument("--rust", default=os.path.join(ROOT, "target/debug/kbagent"))
    ap.add_argument("--emulator", default=os.path.join(ROOT, "target/debug/keboola-emulator"))
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="kbagent-compare-")
    emu, ready = start_emulator(args.emulator, os.path.join(work, "cert"))
    try:
        url, ca = ready["url"], ready["ca_cert"]
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
        py_cfg, rs_cfg = os.path.join(work, "py"), os.path.join(work, "rs")
        for name, argv, stdin in commands:
            py, py_code = run(args.python_kbagent, py_cfg, argv, stdin)
            rs, rs_code = run(args.rust, rs_cfg, argv, stdin)
            keys = lambda d: sorted(d) if isinstance(d, dict) else "?"
            print(f"== {name}: exit python={py_code} rust={rs_code}; "
                  f"envelope python={keys(py)} rust={keys(rs)}")
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
