#!/usr/bin/env bash
# Bundle static/src/ with esbuild: embed.min.js (the first load, a classic script) and
# embed-extra.js (an ES module it imports on first use). Usage: build-widget.sh ESBUILD OUTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
esbuild=$1
out=$2
common=(--bundle --minify --target=es2020 --legal-comments=none --log-level=warning)
"$esbuild" static/src/index.js "${common[@]}" --format=iife --outfile="$out/embed.min.js"
"$esbuild" static/src/extra.js "${common[@]}" --format=esm --outfile="$out/embed-extra.js"
