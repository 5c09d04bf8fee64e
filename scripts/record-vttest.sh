#!/usr/bin/env bash
# Records vttest's screens as byte fixtures for the terminal conformance tests
# (tests/term_conformance.rs): tests/fixtures/term/vttest-*.bin plus, per file, a
# .screens index ("NAME OFFSET": the screen vttest shows, waiting for RETURN, after
# the first OFFSET bytes). vttest runs at 80x24 in a PTY driven by
# scripts/record-fixture.py; device-attribute queries get berth's answer.
# Installs vttest (Debian package) if missing. Only the recordings are committed.
#
# Not recorded: double-size lines (menu 4; tmux, the reference, has none), the
# keyboard and report tests (menus 5, 6: input, not screens), VT52 (menu 7).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v vttest >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq vttest >/dev/null
fi
OUT=tests/fixtures/term
mkdir -p "$OUT"
rec() {
  local name=$1; shift
  python3 scripts/record-fixture.py "$OUT/$name" 24 80 'da:\x1b[?62;22c' "$@" -- vttest
  echo "$OUT/$name: $(wc -c < "$OUT/$name") bytes, $(wc -l < "$OUT/$name.screens") screens"
}
R='keys:\r'

# Menu 1: cursor movements (each at 80 and at "132" columns).
rec vttest-cursor.bin keys:1 "$R" screen:box-80 "$R" screen:box-132 "$R" screen:autowrap-80 \
  "$R" screen:autowrap-132 "$R" screen:controls-inside-escapes "$R" screen:leading-zeros "$R" screen:menu

# Menu 2: screen features (wrap, tabs, column modes, soft and jump scroll in regions,
# origin mode, graphic rendition, save/restore cursor).
rec vttest-screen.bin keys:2 "$R" screen:wraparound "$R" screen:tab-stops "$R" screen:columns-132-light \
  "$R" screen:columns-80-light "$R" sleep:5 screen:columns-132-dark "$R" sleep:3 screen:columns-80-dark \
  "$R" sleep:3 screen:soft-scroll-region "$R" sleep:3 screen:soft-scroll-screen "$R" sleep:2 screen:jump-scroll-region \
  "$R" sleep:2 screen:jump-scroll-screen "$R" screen:origin-bottom "$R" screen:origin-top \
  "$R" screen:rendition-dark "$R" screen:rendition-light "$R" screen:save-restore "$R" screen:menu

# Menu 3: character sets (VT100 sets in G0/G1, SI/SO).
rec vttest-charsets.bin keys:3 "$R" keys:8 "$R" screen:vt100-sets "$R" keys:9 "$R" screen:shift-in-out "$R" screen:menu

# Menu 8: VT102 insert/delete line and character (at 80 and at "132" columns).
rec vttest-vt102.bin keys:8 "$R" screen:accordion-80 "$R" screen:delete-lines-80 "$R" screen:insert-mode-80 \
  "$R" screen:delete-char-80 "$R" screen:stagger-80 "$R" screen:stagger-deleted-80 "$R" screen:insert-char-80 \
  "$R" screen:accordion-132 "$R" screen:delete-lines-132 "$R" screen:insert-mode-132 "$R" screen:delete-char-132 \
  "$R" screen:stagger-132 "$R" screen:stagger-deleted-132 "$R" screen:insert-char-132 "$R" screen:menu
