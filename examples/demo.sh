#!/bin/sh
# `make demo`: the main job on embedded sample inputs. Until the bundle
# builder lands this shows the two programs and their commands.
set -eu
BIN=${BIN:-bin}
"$BIN/nutgen" --version
"$BIN/nutgen" --help
echo
"$BIN/nutapply" --help
