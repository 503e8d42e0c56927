#!/usr/bin/env python3
"""Fails when the `--features wgpu` test build would compile again a crate the default build
compiled already: a crate of the default build built with other features, or above one that is
(polars and everything else above `serde` or `proc-macro2`), is a second unit, and CI builds both.
The fix is a line in the feature-unification block of Cargo.toml; this prints the crates at the
root of each rebuild and the features each build gives them.

It reads cargo's own build plan (`--unit-graph`), not `cargo tree`: the tree merges the units a
crate is built as (for the host, for the target) and so misses a proc macro's dependency built
with other features, which rebuilds everything derived with it. `--unit-graph` is unstable; the
environment variable below lets stable cargo print it, and nothing is built.

Only burn's and cubecl's crates (and tscpipe) may differ: the `wgpu` feature changes them.
Run from the repository root: `python3 .ci/unified-features.py` (seconds; needs no network once
the crates are downloaded).
"""
import hashlib
import json
import os
import subprocess
import sys

ALLOWED = ("burn", "cubecl", "cubek", "tscpipe")
CARGO = ["cargo", "test", "--locked", "--no-run", "--unit-graph", "-Z", "unstable-options"]


def plan(*args):
    env = dict(os.environ, __CARGO_TEST_CHANNEL_OVERRIDE_DO_NOT_USE_THIS="nightly")
    out = subprocess.run([*CARGO, *args], capture_output=True, text=True, check=True, env=env).stdout
    return json.loads(out)["units"]


def package(unit):
    """`name@version` of a unit's package."""
    return unit["pkg_id"].rsplit("#", 1)[-1]


def identities(units):
    """Each unit's identity as cargo's metadata hash sees it: the unit and, recursively, its
    dependencies. Two builds share a compiled unit exactly when the identities are equal."""
    memo = {}

    def ident(i):
        if i not in memo:
            u = units[i]
            own = json.dumps(
                [u["pkg_id"], u["target"]["name"], u["target"]["kind"], u["mode"], u["platform"],
                 u["features"], u["profile"]],
                sort_keys=True,
            )
            deps = "".join(sorted(ident(d["index"]) for d in u["dependencies"]))
            memo[i] = hashlib.sha256((own + deps).encode()).hexdigest()
        return memo[i]

    return [ident(i) for i in range(len(units))]


def slot(unit):
    """What a unit is built as, apart from its features and dependencies: its package, target,
    mode and profile (host units, for build scripts and proc macros, have a profile of their own)."""
    return json.dumps([unit["pkg_id"], unit["target"]["name"], unit["mode"], unit["profile"]], sort_keys=True)


default, wgpu = plan(), plan("--features", "wgpu", "--test", "it")
default_ids, wgpu_ids = identities(default), identities(wgpu)
built = {}
for i, u in enumerate(default):
    built.setdefault(slot(u), set()).add(default_ids[i])

# A unit compiled again: one that replaces a default build's unit (same package, target and
# profile) which the wgpu build does not reuse, because its features or dependencies differ. Units
# beside the default build's (a crate's other version, or its first use as a build dependency)
# are new, not again.
present = set(wgpu_ids)
replaced = {k for k, ids in built.items() if ids - present}
again = {
    i for i, u in enumerate(wgpu)
    if not package(u).startswith(ALLOWED) and slot(u) in replaced and wgpu_ids[i] not in built[slot(u)]
}
# The profile of the crates tscpipe links (host units, for build scripts and proc macros, differ).
tscpipe = next(u for u in wgpu if package(u).startswith("tscpipe") and u["target"]["kind"] == ["lib"])
target_profile = next(
    wgpu[d["index"]]["profile"] for d in tscpipe["dependencies"] if package(wgpu[d["index"]]).startswith("polars")
)
# Its roots: units compiled again whose dependencies are not, i.e. built with other features, or
# on a unit the default build lacks (a crate shared by a build script and a new target crate is
# built once, with the target's profile, and so differs from the default build's host unit).
all_default = set(default_ids)
roots = [i for i in sorted(again) if not any(d["index"] in again for d in wgpu[i]["dependencies"])]
for i in roots:
    u = wgpu[i]
    side = "target" if u["profile"] == target_profile else "host"
    seen = sorted({tuple(d["features"]) for d in default if slot(d) == slot(u)})
    new = [f"{package(wgpu[d['index']])} ({wgpu[d['index']]['target']['name']})" for d in u["dependencies"]
           if wgpu_ids[d["index"]] not in all_default]
    print(f"{package(u)} ({u['target']['name']}, {side})\n  wgpu build:    {u['features']}\n"
          f"  default build: {[list(f) for f in seen]}" + (f"\n  on units the default build lacks: {new}" if new else ""))
if again:
    print(
        f"{len({package(wgpu[i]) for i in again})} crate(s) of the default build would be compiled again "
        f"({len(roots)} root unit(s) above); add their wgpu features to Cargo.toml's unification block "
        "(a host unit's under [build-dependencies])"
    )
    sys.exit(1)
count = len({package(u) for u in wgpu if slot(u) in built and not package(u).startswith(ALLOWED)})
print(f"feature sets unified: the wgpu build reuses the default build's units of all {count} non-burn packages")
