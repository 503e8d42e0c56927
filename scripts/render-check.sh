#!/usr/bin/env bash
# Renders an SVG or HTML file to PNG with headless Chromium, so a person (or a reviewer's image
# viewer) can see a figure the way a browser shows it.
#
#   scripts/render-check.sh FILE.svg [OUT.png] [WIDTHxHEIGHT]
#
# OUT defaults to FILE with .png appended (FILE.svg.png, so it never overwrites a PNG the code
# wrote). The window size defaults to the SVG's own width/height attributes (plus a small margin),
# or 1280x900 for HTML. Installs Debian's `chromium` with apt-get when it is missing.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 3 ]]; then
    echo "usage: $0 FILE.svg|FILE.html [OUT.png] [WIDTHxHEIGHT]" >&2
    exit 2
fi
in=$1
out=${2:-$in.png}
size=${3:-}
if [[ ! -f $in ]]; then
    echo "$0: no such file: $in" >&2
    exit 1
fi

browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
    echo "$0: chromium not found, installing it with apt-get" >&2
    if [[ $(id -u) -eq 0 ]]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
    browser=$(command -v chromium)
fi

if [[ -z $size ]]; then
    w=1280
    h=900
    if [[ $in == *.svg ]]; then
        # width="123" height="45" on the root element, as plotters writes them.
        root=$(grep -m1 -o '<svg [^>]*>' "$in" || true)
        sw=$(sed -n 's/.* width="\([0-9.]*\)".*/\1/p' <<<"$root")
        sh=$(sed -n 's/.* height="\([0-9.]*\)".*/\1/p' <<<"$root")
        if [[ -n $sw && -n $sh ]]; then
            w=$(( ${sw%.*} + 16 ))
            h=$(( ${sh%.*} + 16 ))
        fi
    fi
    size="${w}x${h}"
fi

abs=$(realpath "$in")
out_abs=$(realpath -m "$out")
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# --no-sandbox: needed when running as root (containers, CI); the page is a local file.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
    --window-size="${size/x/,}" --screenshot="$out_abs" "file://$abs" >/dev/null 2>&1
if [[ ! -s $out_abs ]]; then
    echo "$0: chromium wrote no screenshot for $in" >&2
    exit 1
fi
echo "$out_abs ($size)"
