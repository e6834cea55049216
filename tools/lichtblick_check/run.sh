#!/usr/bin/env bash
# Open .mcap files with Lichtblick's own MCAP loading code and print a JSON report per file.
#
#   tools/lichtblick_check/run.sh LICHTBLICK_DIR FILE.mcap [FILE.mcap ...]
#
# LICHTBLICK_DIR: a Lichtblick source checkout (git clone https://github.com/lichtblick-suite/lichtblick),
# or a bare git directory of one (its HEAD is used). Needs node >= 20 and npm (registry access
# on the first run: the packages Lichtblick's mcap-support pins, in package.json).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lichtblick="$1"; shift
build="$here/.build"
mkdir -p "$build"
if [ ! -d "$build/node_modules" ]; then
  cp "$here/package.json" "$build/"
  (cd "$build" && npm install --no-audit --no-fund --silent)
fi
rm -rf "$build/lichtblick" && mkdir -p "$build/lichtblick"
if [ -d "$lichtblick/packages" ]; then
  cp -r "$lichtblick/packages/mcap-support" "$lichtblick/packages/den" "$build/lichtblick/"
else  # a bare repository
  for path in packages/mcap-support/src packages/den/image; do
    mkdir -p "$build/lichtblick/${path#packages/}"
    git --git-dir="$lichtblick" ls-tree --name-only HEAD "$path/" | while read -r file; do
      git --git-dir="$lichtblick" show "HEAD:$file" > "$build/lichtblick/${file#packages/}"
    done
  done
fi
cp "$here/check.ts" "$build/"
"$build/node_modules/.bin/esbuild" "$build/check.ts" --bundle --platform=node --format=cjs \
  --log-level=warning --loader:.wasm=file --asset-names=[name] --outfile="$build/check.cjs" \
  --alias:@lichtblick/mcap-support="$build/lichtblick/mcap-support/src/index.ts" \
  --alias:@lichtblick/den/image="$build/lichtblick/den/image/decodings.ts"
node "$build/check.cjs" "$@"
