#!/usr/bin/env bash
# Prepares root file systems holding other Debian releases' C libraries (Debian 13's glibc 2.41 and
# Debian 11's 2.31, from Debian's own signed archive), for the test that runs the Lambda package's
# bootstrap chrooted into each: a process that loaded any shared library would load theirs, not the
# build host's (Tests/SwitchyardTests/LambdaPackageTests.swift).
# Usage: deploy/lambda/foreign-libc.sh [folder]   (default .build-release/foreign-libc)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(realpath -m "${1:-.build-release/foreign-libc}")
for release in trixie:debian-13 bullseye:debian-11; do
  suite=${release%%:*} name=${release##*:}
  [ -e "$out/$name/.complete" ] && continue
  work=$(mktemp -d)
  mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/cache"
  echo "deb http://deb.debian.org/debian $suite main" >"$work/sources.list"
  opts=(-qq -o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$work/lists"
        -o Dir::Cache="$work/cache" -o Dir::Cache::Archives="$work/archives" -o APT::Architectures=amd64
        -o APT::Sandbox::User=root -o Debug::NoLocking=1)
  apt-get "${opts[@]}" update
  (cd "$work" && apt-get "${opts[@]}" download "libc6/$suite" "libgcc-s1/$suite" "libstdc++6/$suite" >/dev/null)
  rm -rf "${out:?}/$name"
  mkdir -p "$out/$name"
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$out/$name"; done
  # Merged /usr, as Debian's base-files lays it out.
  [ -e "$out/$name/lib" ] || ln -s usr/lib "$out/$name/lib"
  [ -e "$out/$name/lib64" ] || ln -s usr/lib64 "$out/$name/lib64"
  mkdir -p "$out/$name/proc" "$out/$name/tmp" "$out/$name/var/task" "$out/$name/etc" "$out/$name/dev"
  mknod -m 666 "$out/$name/dev/null" c 1 3 2>/dev/null || true
  mknod -m 444 "$out/$name/dev/urandom" c 1 9 2>/dev/null || true
  chmod 1777 "$out/$name/tmp"
  echo "127.0.0.1 localhost" >"$out/$name/etc/hosts"
  printf 'passwd: files\nhosts: files dns\n' >"$out/$name/etc/nsswitch.conf"
  libc=$(find "$out/$name" -name 'libc.so.6' | head -1)
  echo "$suite: $(strings "$libc" | grep -m1 -E '^GNU C Library') in $out/$name"
  rm -rf "$work"
  touch "$out/$name/.complete"
done
