#!/usr/bin/env python3
"""Makes TiUP-format test mirrors the way `tiup mirror clone` lays them out.

Python 3 standard library plus the `openssl` command line only: nothing here shares code
with tiferry's C verifier. Throwaway RSA-2048 keys, 3 root keys with threshold 3, one key
each for index, snapshot and timestamp, one owner key ("pingcap"); canonical JSON (keys
sorted, no white space, no trailing newline); RSASSA-PSS-SHA256 signatures over the bytes
of "signed"; keys/ (the private keys) and local_install.sh present as in real packages.

Components: tiup and cluster v1.10.0 and v1.16.1, ctl v7.5.0 and v8.1.0, on linux/amd64 and
linux/arm64; like clone, versions that were not cloned stay listed but yanked (v1.17.0,
v8.5.0, and darwin/arm64). tiup-<os>-<arch>.tar.gz is a copy of the newest tiup tarball.

Usage: mkmirror.py OUT_DIR [options]   (see --help)
"""
import argparse
import base64
import datetime
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

FAR = "2075-11-27T00:00:00Z"
PAST = "2001-01-01T00:00:00Z"
RELEASED = "2024-05-24T12:00:00+08:00"

VERSIONS = {
    "tiup": (["v1.10.0", "v1.16.1"], ["v1.17.0"]),
    "cluster": (["v1.10.0", "v1.16.1"], ["v1.17.0"]),
    "ctl": (["v7.5.0", "v8.1.0"], ["v8.5.0"]),
}
PLATFORMS = ["linux/amd64", "linux/arm64"]
YANKED_PLATFORMS = ["darwin/arm64"]


def canon(obj):
    """Canonical JSON as TiUP writes it (gibson042/canonicaljson-go)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def run(*args, data=None):
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          check=True).stdout


KEY_CACHE = None


class Key:
    def __init__(self, tmp, name, salt="max"):
        self.path = os.path.join(tmp, name + ".pem")
        cached = os.path.join(KEY_CACHE, name + ".pem") if KEY_CACHE else None
        if cached and os.path.exists(cached):
            shutil.copyfile(cached, self.path)
        else:
            run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                "-out", self.path)
            if cached:
                os.makedirs(KEY_CACHE, exist_ok=True)
                part = "%s.%d" % (cached, os.getpid())
                shutil.copyfile(self.path, part)
                os.replace(part, cached)
        self.pem = run("openssl", "pkey", "-in", self.path, "-pubout").decode()
        self.salt = salt
        self.info = {"keytype": "rsa", "keyval": {"public": self.pem},
                     "scheme": "rsassa-pss-sha256"}
        self.id = hashlib.sha256(canon(self.info)).hexdigest()

    def sign(self, data):
        sig = run("openssl", "dgst", "-sha256", "-sign", self.path,
                  "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:" + self.salt,
                  "-sigopt", "rsa_mgf1_md:sha256", data=data)
        return {"keyid": self.id, "sig": base64.b64encode(sig).decode()}


def envelope(signed, keys, extra_sigs=()):
    body = canon(signed)
    sigs = [k.sign(body) for k in keys] + list(extra_sigs)
    return b'{"signatures":' + canon(sigs) + b',"signed":' + body + b"}"


def keyset(keys):
    return {k.id: k.info for k in keys}


def entry_of(name):
    """The package's entry as TiUP's releases publish it: `tiup`, `tiup-cluster` for cluster
    (pingcap/tiup .github/workflows/release-tiup.yaml, `mirror publish cluster … tiup-cluster`,
    v1.16.1); bin/<name> for the others here."""
    return {"tiup": "tiup", "cluster": "tiup-cluster"}.get(name, "bin/" + name)


def make_tarball(name, version, plat, size):
    """A small real tar.gz holding bin/<name>, with random bytes so every file differs."""
    payload = b"#!/bin/sh\necho %s %s %s\n" % (name.encode(), version.encode(), plat.encode())
    if size > 0:
        payload += os.urandom(size)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        ti = tarfile.TarInfo(entry_of(name))
        ti.size = len(payload)
        ti.mode = 0o755
        ti.mtime = 1700000000
        tar.addfile(ti, io.BytesIO(payload))
    return gzip.compress(raw.getvalue(), compresslevel=1, mtime=0)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="folder to create (must not exist)")
    ap.add_argument("--tarball-size", type=int, default=2048,
                    help="random payload bytes per tarball (default 2048)")
    ap.add_argument("--expired-timestamp", action="store_true",
                    help="timestamp.json expired in " + PAST[:4])
    ap.add_argument("--expires", default=FAR, help="expiry of every manifest (default %s)" % FAR)
    ap.add_argument("--rotate", choices=["good", "old-only", "new-only"],
                    help="add 2.root.json with new root keys, signed by old and new keys "
                         "(good) or only by one set")
    ap.add_argument("--salt-mix", action="store_true",
                    help="one root key signs with a 32-byte salt instead of the maximum")
    ap.add_argument("--unknown-sig", action="store_true",
                    help="add a valid signature by a key the index role does not list")
    ap.add_argument("--dup-sig", action="store_true", help="index carries one signature twice")
    ap.add_argument("--dep", action="store_true",
                    help="cluster v1.16.1 depends on component insight v0.4.2")
    ap.add_argument("--tamper", choices=["index-sig", "tarball-byte", "tarball-length",
                                         "snapshot-byte", "component-byte", "tiup-copy"],
                    help="spoil one thing after signing")
    ap.add_argument("--package", metavar="DIR",
                    help="also pack OUT as DIR/tidb-community-server-v8.1.0-linux-amd64.tar.gz")
    ap.add_argument("--key-cache", metavar="DIR",
                    help="reuse throwaway keys kept in DIR (made there when absent): tests "
                         "run faster; never for anything but tests")
    a = ap.parse_args()
    global KEY_CACHE
    KEY_CACHE = a.key_cache

    if os.path.exists(a.out):
        sys.exit("mkmirror: %s exists" % a.out)
    os.makedirs(os.path.join(a.out, "keys"))
    tmp = tempfile.mkdtemp(prefix="mkmirror-")
    try:
        build(a, tmp)
    finally:
        shutil.rmtree(tmp)


def build(a, tmp):
    out = a.out
    root_keys = [Key(tmp, "root%d" % i, "digest" if (a.salt_mix and i == 1) else "max")
                 for i in range(3)]
    index_key, snap_key, ts_key, owner_key = (Key(tmp, n) for n in
                                              ("index", "snapshot", "timestamp", "pingcap"))
    for k, role in [(root_keys[0], "root"), (root_keys[1], "root"), (root_keys[2], "root"),
                    (index_key, "index"), (snap_key, "snapshot"), (ts_key, "timestamp"),
                    (owner_key, "pingcap")]:
        # like TiUP's keys/<id>-<role>.json: the private key, never to be shipped
        with open(k.path, "rb") as f:
            priv = f.read().decode()
        write(os.path.join(out, "keys", "%s-%s.json" % (k.id[:16], role)),
              canon({"keytype": "rsa", "keyval": {"private": priv}, "scheme": "rsassa-pss-sha256"}))

    exp = a.expires

    def roles(rkeys):
        return {
            "root": {"keys": keyset(rkeys), "threshold": 3, "url": "/root.json"},
            "index": {"keys": keyset([index_key]), "threshold": 1, "url": "/index.json"},
            "snapshot": {"keys": keyset([snap_key]), "threshold": 1, "url": "/snapshot.json"},
            "timestamp": {"keys": keyset([ts_key]), "threshold": 1, "url": "/timestamp.json"},
        }

    root1 = {"_type": "root", "expires": exp, "roles": roles(root_keys),
             "spec_version": "0.1.0", "version": 1}
    roots = {1: envelope(root1, root_keys)}
    if a.rotate:
        new_keys = [Key(tmp, "newroot%d" % i) for i in range(3)]
        root2 = {"_type": "root", "expires": exp, "roles": roles(new_keys),
                 "spec_version": "0.1.0", "version": 2}
        signers = {"good": root_keys + new_keys, "old-only": root_keys,
                   "new-only": new_keys}[a.rotate]
        roots[2] = envelope(root2, signers)

    comps = {}
    files = {}
    versions = dict(VERSIONS)
    if a.dep:
        versions["insight"] = (["v0.4.2"], [])
    for name, (good, yanked) in versions.items():
        platforms = {}
        for plat in PLATFORMS + YANKED_PLATFORMS:
            entries = {}
            for v in good + yanked:
                os_, arch = plat.split("/")
                fname = "%s-%s-%s-%s.tar.gz" % (name, v, os_, arch)
                is_yanked = v in yanked or plat in YANKED_PLATFORMS
                item = {"dependencies": None, "entry": entry_of(name),
                        "released": RELEASED, "url": "/" + fname, "yanked": is_yanked}
                if not is_yanked:
                    data = make_tarball(name, v, plat, a.tarball_size)
                    files[fname] = data
                else:
                    data = b"not cloned"
                item["hashes"] = {"sha256": hashlib.sha256(data).hexdigest(),
                                  "sha512": hashlib.sha512(data).hexdigest()}
                item["length"] = len(data)
                if a.dep and name == "cluster" and v == "v1.16.1":
                    item["dependencies"] = {"insight": "v0.4.2"}
                entries[v] = item
            platforms[plat] = entries
        comps[name] = {"_type": "component", "description": "test component " + name,
                       "expires": exp, "id": name, "nightly": "", "platforms": platforms,
                       "spec_version": "0.1.0", "version": 1}

    index = {"_type": "index",
             "components": {n: {"hidden": False, "owner": "pingcap", "standalone": False,
                                "url": "/%s.json" % n, "yanked": False} for n in comps},
             "default_components": [], "expires": exp,
             "owners": {"pingcap": {"keys": keyset([owner_key]), "name": "PingCAP",
                                    "threshold": 1}},
             "spec_version": "0.1.0", "version": 1}
    extra = []
    if a.unknown_sig:
        stranger = Key(tmp, "stranger")
        extra.append(stranger.sign(canon(index)))
    index_bytes = envelope(index, [index_key], extra)
    if a.dup_sig:
        doc = json.loads(index_bytes)
        doc["signatures"].append(doc["signatures"][0])
        index_bytes = canon(doc)
    if a.tamper == "index-sig":
        doc = json.loads(index_bytes)
        s = bytearray(base64.b64decode(doc["signatures"][0]["sig"]))
        s[10] ^= 0x01
        doc["signatures"][0]["sig"] = base64.b64encode(bytes(s)).decode()
        index_bytes = canon(doc)

    comp_bytes = {n: envelope(c, [owner_key]) for n, c in comps.items()}
    last_root = roots[max(roots)]
    meta = {"/root.json": {"length": len(last_root), "version": max(roots)},
            "/index.json": {"length": len(index_bytes), "version": 1}}
    for n, b in comp_bytes.items():
        meta["/%s.json" % n] = {"length": len(b), "version": 1}
    snap_signers = [snap_key]
    snapshot = {"_type": "snapshot", "expires": exp, "meta": meta, "spec_version": "0.1.0",
                "version": 0}
    snap_bytes = envelope(snapshot, snap_signers)
    timestamp = {"_type": "timestamp", "expires": PAST if a.expired_timestamp else exp,
                 "meta": {"/snapshot.json": {
                     "hashes": {"sha256": hashlib.sha256(snap_bytes).hexdigest(),
                                "sha512": hashlib.sha512(snap_bytes).hexdigest()},
                     "length": len(snap_bytes)}},
                 "spec_version": "0.1.0", "version": 1}
    ts_bytes = envelope(timestamp, [ts_key])

    if a.tamper == "snapshot-byte":
        snap_bytes = snap_bytes.replace(b'"version":0', b'"version":9')
    if a.tamper == "component-byte":
        comp_bytes["cluster"] = comp_bytes["cluster"].replace(b"test component", b"test Component")

    for v, b in roots.items():
        write(os.path.join(out, "%d.root.json" % v), b)
    write(os.path.join(out, "root.json"), last_root)
    write(os.path.join(out, "1.index.json"), index_bytes)
    for n, b in comp_bytes.items():
        write(os.path.join(out, "1.%s.json" % n), b)
    write(os.path.join(out, "snapshot.json"), snap_bytes)
    write(os.path.join(out, "timestamp.json"), ts_bytes)
    newest_tiup = VERSIONS["tiup"][0][-1]
    for fname, data in files.items():
        write(os.path.join(out, fname), data)
    for plat in PLATFORMS:
        os_, arch = plat.split("/")
        src = files["tiup-%s-%s-%s.tar.gz" % (newest_tiup, os_, arch)]
        if a.tamper == "tiup-copy" and plat == PLATFORMS[0]:
            src = make_tarball("tiup", newest_tiup, plat, a.tarball_size)
        write(os.path.join(out, "tiup-%s-%s.tar.gz" % (os_, arch)), src)
    if a.tamper in ("tarball-byte", "tarball-length"):
        victim = os.path.join(out, "cluster-v1.16.1-linux-amd64.tar.gz")
        with open(victim, "r+b") as f:
            if a.tamper == "tarball-byte":
                f.seek(20)
                byte = f.read(1)
                f.seek(20)
                f.write(bytes([byte[0] ^ 0xFF]))
            else:
                f.seek(0, 2)
                f.write(b"\0")
    write(os.path.join(out, "local_install.sh"),
          b"#!/bin/sh\n# as in offline packages: unpacks tiup unchecked, switches the mirror\n"
          b"exit 0\n")

    if a.package:
        os.makedirs(a.package, exist_ok=True)
        top = "tidb-community-server-v8.1.0-linux-amd64"
        pkg = os.path.join(a.package, top + ".tar.gz")
        with tarfile.open(pkg, "w:gz", compresslevel=1) as tar:
            tar.add(out, arcname=top)


if __name__ == "__main__":
    main()
