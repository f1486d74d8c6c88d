#!/usr/bin/env python3
"""Make a small TiUP-format mirror for the lab (docs/tiup.md §1).

mkmirror.py OUT [--versions v1.9.4,v1.16.1] [--components tiup,cluster,ctl]
                [--extra pd:v7.5.1,tikv:v7.5.1] [--platforms linux/amd64] [--keys DIR]
                [--expires-days N]

--extra adds components at their own versions (the cluster's pd, tikv, tidb, which a
production mirror lists and `tls enable` resolves from it: docs/tiup.md §8, checkConfig).

Throwaway RSA-2048 keys (3 root keys, threshold 3; one each for index, snapshot,
timestamp and the owner `pingcap`), canonical JSON, RSA-PSS-SHA256 signatures made
with the `openssl` command line, `keys/` present as in `tiup mirror clone` output,
and `tiup-<os>-<arch>.tar.gz` a copy of the newest tiup tarball.  --keys reuses
(or fills) a key folder so several mirrors can be made quickly.  Stdlib only.
"""
import argparse
import base64
import datetime
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

KEY_NAMES = ["root1", "root2", "root3", "index", "snapshot", "timestamp", "pingcap"]


def cjson(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def openssl(*args, data=None):
    r = subprocess.run(["openssl"] + list(args), input=data, capture_output=True)
    if r.returncode != 0:
        sys.exit("mkmirror: openssl %s: %s" % (args[0], r.stderr.decode().strip()))
    return r.stdout


def load_keys(kdir):
    os.makedirs(kdir, exist_ok=True)
    keys = {}
    for n in KEY_NAMES:
        priv = os.path.join(kdir, n + ".pem")
        if not os.path.exists(priv):
            pem = openssl("genrsa", "-traditional", "2048")
            fd = os.open(priv, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
        pub = openssl("rsa", "-in", priv, "-pubout").decode()
        info = {"keytype": "rsa", "keyval": {"public": pub}, "scheme": "rsassa-pss-sha256"}
        keys[n] = (priv, hashlib.sha256(cjson(info)).hexdigest(), info)
    return keys


def sign(signed, keyset):
    body = cjson(signed)
    sigs = []
    for priv, kid, _ in keyset:
        with tempfile.NamedTemporaryFile() as f:
            f.write(body)
            f.flush()
            raw = openssl("dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss",
                          "-sigopt", "rsa_pss_saltlen:-2", "-sign", priv, f.name)
        sigs.append({"keyid": kid, "sig": base64.b64encode(raw).decode()})
    return b'{"signatures":' + cjson(sigs) + b',"signed":' + body + b"}"


def tarball(comp, ver, plat):
    entry = {"tiup": "tiup", "cluster": "tiup-cluster", "ctl": "ctl", "pd": "pd-server",
             "tikv": "tikv-server", "tidb": "tidb-server"}.get(comp, comp)
    script = ("#!/bin/sh\n# lab mirror payload: %s %s %s\necho '%s %s'\n" % (comp, ver, plat, comp, ver)).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT) as t:
        ti = tarfile.TarInfo(entry)
        ti.size, ti.mode, ti.mtime = len(script), 0o755, 1600000000
        t.addfile(ti, io.BytesIO(script))
    return entry, buf.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--versions", default="v1.9.4,v1.16.1")
    ap.add_argument("--components", default="tiup,cluster,ctl")
    ap.add_argument("--extra", default="")
    ap.add_argument("--platforms", default="linux/amd64")
    ap.add_argument("--keys")
    ap.add_argument("--expires-days", type=int, default=365 * 50)
    a = ap.parse_args()

    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    keys = load_keys(a.keys or os.path.join(out, "keys"))
    if a.keys:
        os.makedirs(os.path.join(out, "keys"), exist_ok=True)
        for n in KEY_NAMES:
            with open(keys[n][0], "rb") as src, open(os.path.join(out, "keys", n + ".pem"), "wb") as dst:
                dst.write(src.read())
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    expires = (now + datetime.timedelta(days=a.expires_days)).isoformat().replace("+00:00", "Z")
    released = now.isoformat().replace("+00:00", "Z")
    versions = [v for v in a.versions.split(",") if v]
    comps = [c for c in a.components.split(",") if c]
    comp_versions = {c: versions for c in comps}
    for e in [e for e in a.extra.split(",") if e]:
        c, _, v = e.partition(":")
        comp_versions.setdefault(c, []).append(v)
    comps = list(comp_versions)
    plats = [p for p in a.platforms.split(",") if p]

    def role(names, threshold, url):
        return {"keys": {keys[n][1]: keys[n][2] for n in names}, "threshold": threshold, "url": url}

    root = {"_type": "root", "expires": expires, "roles": {
        "root": role(["root1", "root2", "root3"], 3, "/root.json"),
        "index": role(["index"], 1, "/index.json"),
        "snapshot": role(["snapshot"], 1, "/snapshot.json"),
        "timestamp": role(["timestamp"], 1, "/timestamp.json")},
        "spec_version": "0.1.0", "version": 1}
    root_raw = sign(root, [keys[n] for n in ("root1", "root2", "root3")])
    files = {"root.json": root_raw, "1.root.json": root_raw}
    meta = {"/root.json": {"length": len(root_raw), "version": 1}}

    index = {"_type": "index", "components": {}, "default_components": [], "expires": expires,
             "owners": {"pingcap": {"keys": {keys["pingcap"][1]: keys["pingcap"][2]}, "name": "PingCAP",
                                    "threshold": 1}},
             "spec_version": "0.1.0", "version": 1}
    for comp in comps:
        index["components"][comp] = {"hidden": False, "owner": "pingcap", "standalone": comp == "tiup",
                                     "url": "/%s.json" % comp, "yanked": False}
        platforms = {}
        for plat in plats:
            platforms[plat] = {}
            for ver in comp_versions[comp]:
                entry, data = tarball(comp, ver, plat)
                name = "%s-%s-%s.tar.gz" % (comp, ver, plat.replace("/", "-"))
                files[name] = data
                platforms[plat][ver] = {"dependencies": None, "entry": entry,
                                        "hashes": {"sha256": hashlib.sha256(data).hexdigest(),
                                                   "sha512": hashlib.sha512(data).hexdigest()},
                                        "length": len(data), "released": released,
                                        "url": "/" + name, "yanked": False}
                if comp == "tiup" and ver == versions[-1]:
                    files["tiup-%s.tar.gz" % plat.replace("/", "-")] = data
        cm = {"_type": "component", "description": "lab %s" % comp, "expires": expires, "id": comp,
              "nightly": "", "platforms": platforms, "spec_version": "0.1.0", "version": 1}
        raw = sign(cm, [keys["pingcap"]])
        files["1.%s.json" % comp] = raw
        meta["/%s.json" % comp] = {"length": len(raw), "version": 1}
    idx_raw = sign(index, [keys["index"]])
    files["1.index.json"] = idx_raw
    meta["/index.json"] = {"length": len(idx_raw), "version": 1}
    snap = {"_type": "snapshot", "expires": expires, "meta": meta, "spec_version": "0.1.0", "version": 0}
    snap_raw = sign(snap, [keys["snapshot"]])
    files["snapshot.json"] = snap_raw
    ts = {"_type": "timestamp", "expires": expires,
          "meta": {"/snapshot.json": {"hashes": {"sha256": hashlib.sha256(snap_raw).hexdigest()},
                                      "length": len(snap_raw)}},
          "spec_version": "0.1.0", "version": 1}
    files["timestamp.json"] = sign(ts, [keys["timestamp"]])
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(out)


if __name__ == "__main__":
    main()
