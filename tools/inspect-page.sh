#!/usr/bin/env bash
# Writes a `tessera inspect` page and screenshots it in headless Chromium, to check the page in a
# real browser (Debian: apt-get install chromium).
# Usage: tools/inspect-page.sh [--hf DIR | --checkpoint DIR] [--prompt TEXT] [--out DIR]
#   default: the Hugging Face GPT-2 test fixture, prompt "THE QUICK BROWN FOX", out /tmp/tessera-inspect-<time>
# Prints the page and the screenshot's path; fails if Chromium is missing or the screenshot is blank.
set -euo pipefail
cd "$(dirname "$0")/.."
source=(--hf models/src/test/resources/hf-fixtures/gpt2)
prompt="THE QUICK BROWN FOX"  # the GPT-2 fixture has 101 byte tokens
out="${TMPDIR:-/tmp}/tessera-inspect-$(date +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
  case "$1" in
    --hf|--checkpoint) source=("$1" "$2"); shift 2 ;;
    --prompt) prompt="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "inspect-page.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "inspect-page.sh: no Chromium on PATH (Debian: apt-get install chromium)" >&2; exit 2; }
page=$(./tessera inspect "${source[@]}" --prompt "$prompt" --out "$out")
shot="$out.png"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,2600 --screenshot="$shot" "file://$(realpath "$page")" 2>/dev/null
# a blank or error page compresses to a few kB; the rendered heatmaps, tables and graph do not
size=$(stat -c %s "$shot")
[ "$size" -gt 50000 ] || { echo "inspect-page.sh: the screenshot $shot looks blank ($size bytes)" >&2; exit 1; }
echo "page: $page"
echo "screenshot: $shot"
