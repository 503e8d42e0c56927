#!/usr/bin/env python3
"""Fails when a crate of the default build would be built with other features under
`--features wgpu`, i.e. when the wgpu build would compile a second copy of it (and of polars and
everything else above it) instead of reusing the default build's. The fix is a line in the
feature-unification block of Cargo.toml; this prints what the wgpu build uses.

Only burn's and cubecl's crates (and tscpipe) may differ: the `wgpu` feature changes them.
Run from the repository root: `python3 .ci/unified-features.py` (seconds; needs no network).
"""
import subprocess
import sys

ALLOWED = ("burn", "cubecl", "tscpipe ")


def units(*features):
    """Each package of the resolved tree with the feature sets it is built with."""
    out = subprocess.run(
        ["cargo", "tree", "--locked", "-e", "normal,build", "--prefix", "none", "-f", "{p}|{f}", *features],
        capture_output=True, text=True, check=True,
    ).stdout
    found = {}
    for line in out.splitlines():
        if "|" not in line:
            continue
        package, feats = line.removesuffix(" (*)").split("|", 1)
        found.setdefault(package.strip(), set()).add(feats.removesuffix(" (*)"))
    return found


default, wgpu = units(), units("--features", "wgpu")
drift = [p for p in sorted(default) if not p.startswith(ALLOWED) and p in wgpu and not default[p] <= wgpu[p]]
for p in drift:
    print(f"{p}\n  default build: {sorted(default[p])}\n  wgpu build:    {sorted(wgpu[p])}")
if drift:
    print(f"{len(drift)} crate(s) would be built twice; add their wgpu features to Cargo.toml's unification block")
    sys.exit(1)
shared = sum(1 for p in default if not p.startswith(ALLOWED))
print(f"feature sets unified: the wgpu build reuses all {shared} non-burn packages of the default build")
