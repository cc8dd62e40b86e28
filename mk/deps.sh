#!/bin/sh
# Installs what building and testing nutgen needs on Debian 12, and nothing
# when it is all present (one dpkg query and a stat, well under a second).
# Debian packages through apt-get (as root, or through sudo); npm packages
# (Azurite, the Blob Storage emulator the tests upload to) into tests/node,
# which git ignores.
set -eu
cd "$(dirname "$0")/.."

PKGS="build-essential pkg-config libcjson-dev libssl-dev libcryptsetup-dev cryptsetup-bin \
libcurl4-openssl-dev zlib1g-dev libzstd-dev zstd libcunit1-dev e2fsprogs libext2fs-dev curl \
clang libclang-rt-14-dev nodejs npm python3 python3-cryptography tar gzip valgrind openssl"

missing=""
status=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $PKGS 2>/dev/null || true)
for p in $PKGS; do
	case $p in
	# node and npm may come from elsewhere than Debian (nodesource, a
	# preinstalled toolchain): any working pair on PATH will do.
	nodejs|npm) command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && continue ;;
	esac
	if ! printf '%s\n' "$status" | grep -q "^$p ii"; then
		missing="$missing $p"
	fi
done

# python3 on PATH may not be Debian's (pyenv); the tests need its
# `cryptography`, which Debian's python3-cryptography provides for /usr/bin/python3.
if [ -n "$missing" ]; then
	echo "deps: installing:$missing" >&2
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq >&2
	# nodejs/npm may already come from elsewhere (nodesource, a preinstalled
	# toolchain); only ask apt for them when no node is on PATH.
	want=""
	for p in $missing; do
		case $p in
		nodejs|npm) command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && continue ;;
		python3|python3-cryptography) ;;
		esac
		want="$want $p"
	done
	[ -z "$want" ] || $SUDO apt-get install -y -qq --no-install-recommends $want >&2
fi

# Azurite, pinned with its whole tree by tests/node/package-lock.json (npm ci);
# reinstalled only when the pin changes.
if [ ! -x tests/node/node_modules/.bin/azurite ] || \
   ! cmp -s tests/node/package.json tests/node/node_modules/.installed-package.json 2>/dev/null; then
	echo "deps: installing Azurite into tests/node" >&2
	(cd tests/node && npm ci --no-audit --no-fund --loglevel=error >&2)
	cp tests/node/package.json tests/node/node_modules/.installed-package.json
fi
