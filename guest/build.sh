#!/bin/bash
# Builds the default machine bundle (v86 + Debian bookworm i386 + Docker) into dist/guest/.
# Everything comes from Debian's archive and npm. Results are cached outside the repo in
# $DT_CACHE (default ~/.cache/docker-terminal), keyed by a hash of the recipe and package versions:
# an unchanged recipe is a cache hit, a changed one rebuilds.
#
# The host never runs a guest (i386) program: its kernel may refuse them (CI's does), and arm64 hosts
# never run them. Packages are unpacked on the host; their maintainer scripts and every other guest
# step run inside v86 (guest/configure/dt-configure, then guest/tools/bake.mjs). The whole build runs
# under guest/tools/no-i386.c, which kills any i386 program at its first system call, so a step that
# breaks this rule fails here as it would on CI.
#
# Root: only to install missing host tools with apt-get. Without root the build runs under fakeroot,
# which records the guest files' owners for mke2fs.
# Usage: guest/build.sh [OUTDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=${1:-$repo/dist/guest}
cache=${DT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/docker-terminal}
suite=bookworm
memory_mb=${DT_MEMORY_MB:-512}
disk_size=2G
chunk_size=262144
steps=9
say() { echo "build-guest: $*" >&2; }
step() { say "[$1/$steps] $2 ($(($(date +%s) - started)) s)"; }
started=${DT_BUILD_STARTED:-$(date +%s)}
export DT_BUILD_STARTED=$started

# ---- host tools: installed if missing (root), else named ----
if [ -z "${DT_NO_I386_GUARD:-}" ]; then
  need=""
  for t in zstd:zstd lz4:lz4 gzip:gzip mke2fs:e2fsprogs cpio:cpio depmod:kmod dpkg-deb:dpkg apt-get:apt \
    cc:gcc fakeroot:fakeroot; do
    command -v "${t%%:*}" >/dev/null || need="$need ${t#*:}"
  done
  [ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || need="$need debian-archive-keyring"
  [ -e /usr/include/linux/seccomp.h ] || need="$need linux-libc-dev"
  if [ -n "$need" ]; then
    if [ "$(id -u)" != 0 ]; then say "missing host tools: run \`sudo apt-get install -y$need\` once"; exit 1; fi
    say "installing host tools:$need"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >&2
  fi
  # ---- the guard: no i386 system call from here on, in this build or anything it starts ----
  mkdir -p "$cache"
  guard=$cache/no-i386-$(sha256sum "$here/tools/no-i386.c" | cut -c1-16)
  [ -x "$guard" ] || cc -O2 -o "$guard" "$here/tools/no-i386.c"
  export DT_NO_I386_GUARD=$guard
  if [ "$(id -u)" != 0 ]; then exec "$guard" fakeroot -- bash "$0" "$@"; fi
  exec "$guard" bash "$0" "$@"
fi
# (the filter is in place: the kernel counts it in this shell's status)
grep -q '^Seccomp:[[:space:]]*2' /proc/$$/status || { say "DT_NO_I386_GUARD is set, but the no-i386 guard is not active"; exit 1; }

mirror=${DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' | awk -v s=$suite '$2==s{print $1; exit}')}
mirror=${mirror:-http://deb.debian.org/debian/}
v86_version=$(node -p "require('$repo/node_modules/v86/package.json').version")

# Private apt configurations, one per suite, read Debian's signed i386 package lists without touching
# the host's apt or dpkg settings. Nothing counts as installed (the status file is empty), so
# `apt-get install -s` gives a package set's whole closure.
apt_in() {
  local d=$cache/apt-$1
  shift
  "$@" -q -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o Dir::State::Status=/dev/null \
    -o APT::Architecture=i386 -o APT::Architectures::=i386 -o APT::Sandbox::User=root \
    -o APT::Install-Recommends=0 -o Debug::NoLocking=1
}
# (Refreshed once a day, by a stamp: apt dates the lists by the server's Last-Modified.)
update_lists() {
  local d=$cache/apt-$1
  [ -z "$(find "$d/updated" -mtime -1 2>/dev/null)" ] || return 0
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
  echo "deb [arch=i386 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $1 main" >"$d/sources.list"
  apt_in "$1" apt-get update >&2
  touch "$d/updated"
}
# "package version source" of a .deb, for SOURCES.md.
deb_line() { dpkg-deb -f "$1" Package Version Source | awk -F': ' '{ v[$1] = $2 } END { print v["Package"], v["Version"], v["Source"] }'; }
# "package=version" for each package a set needs, sorted.
closure() { local s=$1; shift; apt_in "$s" apt-get install -s "$@" | awk '/^Inst /{sub(/^\(/, "", $3); print $2 "=" $3}' | sort; }

update_lists $suite
# debootstrap's minbase set (every package of priority required, and apt), and ours; usr-is-merged
# named so that apt takes it for init-system-helpers rather than usrmerge, as debootstrap does.
required=$(apt_in $suite apt-cache dumpavail | awk '/^Package:/{p=$2} /^Priority: required/{print p}' | sort -u)
packages=$(awk '!/^#/ && NF {print $1}' "$here/packages.txt")
pkg_versions=$(closure $suite $required apt usr-is-merged $packages)
[ -n "$pkg_versions" ] || { say "apt found no packages for $suite i386"; exit 1; }
boot_versions=$(for p in seabios busybox-static; do apt_in $suite apt-cache show --no-all-versions "$p" | awk -v p=$p '/^Version:/{print p "=" $2; exit}'; done)

# Docker itself (dockerd and the CLI 26.1, containerd 1.7) and its compose and buildx plugins come
# from trixie's i386 packages: Go binaries that need only libc >= 2.34 (bookworm has 2.36).
# Bookworm's Docker 20.10 re-ran its whole 55 MB dockerd binary for every container to turn IPv6
# off in the new network namespace (`set-ipv6`): Docker 26 does not, and a warm `docker run` under
# Node went from 6.2 s to about 4 s. The kernel stays bookworm's (trixie has no 686 kernel).
trixie_pkgs="docker.io docker-cli containerd docker-buildx docker-compose"
update_lists trixie
trixie_versions=$(for p in $trixie_pkgs; do echo "$p=$(apt_in trixie apt-cache show --no-all-versions "$p" | awk '/^Version:/{print $2; exit}')"; done)
case $trixie_versions in *=$'\n'*|*=) say "trixie's lists lack one of: $trixie_pkgs"; exit 1 ;; esac

# ---- stage 1: the configured Debian root file system, kernel and initramfs, keyed by suite, package
# versions and the files that make them (about 5 minutes, most of it the configure boot) ----
stage1_hash=$( (cd "$here" && sha256sum initramfs/init configure/dt-configure tools/unpack-debs.sh tools/flat-kernel.mjs tools/configure.mjs) | sha256sum | cut -c1-16)
# (stage1_layout: what the cached folder holds; raise it when stage 1 keeps more)
stage1_layout=2
rootfs_key=$(printf '%s\n' "$suite" "$pkg_versions" "$boot_versions" "$stage1_hash" "$stage1_layout" | sha256sum | cut -c1-16)
base=$cache/rootfs-$rootfs_key
if [ ! -e "$base/.complete" ]; then
  bw=$cache/rootfs-work-$rootfs_key
  rm -rf "$cache"/rootfs-work-* && mkdir -p "$bw/debs" "$bw/boot"
  step 1 "downloading $(echo "$pkg_versions" | wc -l) Debian $suite i386 packages from $mirror"
  (cd "$bw/debs" && apt_in $suite apt-get download $pkg_versions >&2)
  (cd "$bw/boot" && apt_in $suite apt-get download $boot_versions >&2 && for f in *.deb; do dpkg-deb -x "$f" x; done)
  step 2 "unpacking them on the host (no maintainer script runs here)"
  root=$bw/root
  bash "$here/tools/unpack-debs.sh" "$root" "$bw"/debs/*.deb
  # (what debootstrap writes itself)
  echo "deb ${mirror%/} $suite main" >"$root/etc/apt/sources.list"
  kver=$(ls "$root/lib/modules" | head -1)
  # Debian signs its modules, and the kernel checks the signature (SHA-256 over the whole module,
  # then RSA) at every load, though it does not require one. Without them, under Node, the
  # initramfs's 17 modules load in 1.5 s instead of 2.3 s, and 9p's in 0.4 s instead of 0.8 s.
  # The kernel then notes "module verification failed" once, and marks itself tainted (E).
  find "$root/lib/modules/$kver" -name '*.ko' | while read -r ko; do
    tail -c 28 "$ko" | cmp -s - <(printf '~Module signature appended~\n') || continue
    # (before the marker: struct module_signature, 12 bytes, lengths at 3, 4 and 8..11)
    set -- $(tail -c 40 "$ko" | head -c 12 | od -An -tu1)
    truncate -s -$((40 + $4 + $5 + ($9 << 24) + (${10} << 16) + (${11} << 8) + ${12})) "$ko"
  done
  depmod -b "$root" "$kver"

  step 3 "kernel (flat, see tools/flat-kernel.mjs) and initramfs"
  node "$here/tools/flat-kernel.mjs" "$root/boot/vmlinuz-$kver" "$bw/vmlinuz" >&2
  # initramfs: busybox + the modules that reach the ext4 root (IDE, SCSI disk, ext4 are modules)
  ird=$bw/initramfs
  mkdir -p "$ird"/{bin,proc,sys,dev,newroot,mods}
  cp "$bw/boot/x/bin/busybox" "$ird/bin/busybox"
  install -m 755 "$here/initramfs/init" "$ird/init"
  # (crc32c-intel needs SSE4.2, which v86 lacks: crc32c_generic does the work)
  for m in ata_piix ata_generic sd_mod ext4 crc32c_generic; do
    /sbin/modprobe -d "$root" -S "$kver" --show-depends "$m" | awk '$1=="insmod"{print $2}'
  done | awk '!seen[$0]++' | while read -r ko; do
    cp "$ko" "$ird/mods/"; echo "/mods/$(basename "$ko")"
  done | grep -v crc32c-intel >"$ird/modules.order"
  [ -s "$ird/modules.order" ] || { say "no disk modules found for $kver"; exit 1; }
  # (lz4, legacy format as the kernel wants it: 2.1 MB against gzip's 1.8 MB, and /init starts
  # about 0.5 s sooner under Node)
  (cd "$ird" && find . | cpio -o -H newc --quiet | lz4 -l -9 -q) >"$bw/initrd.img"
  [ "$(lz4 -dc "$bw/initrd.img" | cpio -t --quiet | grep -c .)" -gt 10 ] || { say "initramfs came out empty"; exit 1; }
  cp "$bw/boot/x/usr/share/seabios/bios.bin" "$bw/seabios.bin"
  cp "$bw/boot/x/usr/share/seabios/vgabios-stdvga.bin" "$bw/vgabios.bin"
  cp "$here/cmdline.txt" "$bw/cmdline.txt"

  step 4 "configuring the packages inside v86: their maintainer scripts and triggers (about 3 minutes)"
  install -m 755 "$here/configure/dt-configure" "$root/dt-configure"
  mke2fs -q -t ext4 -O ^has_journal,^metadata_csum -L dtroot -d "$root" "$bw/disk.img" 1G
  node "$here/tools/configure.mjs" "$bw" "$memory_mb" "$bw/root.tar" $(($(du -sm "$root" | cut -f1) * 3 / 2 + 64)) >&2
  rm -rf "$root" "$bw/disk.img" "$bw/debs" "$bw/initramfs"
  mkdir -p "$bw/out"
  mv "$bw"/{root.tar,vmlinuz,initrd.img,seabios.bin,vgabios.bin,configure.log} "$bw/out/"
  cp "$bw/boot/x/bin/busybox" "$bw/out/busybox"
  # (busybox's and the BIOS's licences and sources, for the bundle's licenses/ and SOURCES.md)
  cp -rL "$bw/boot/x/usr/share/doc" "$bw/out/doc"
  for f in "$bw"/boot/*.deb; do deb_line "$f"; done >"$bw/out/boot-packages"
  echo "$kver" >"$bw/out/kver"
  echo "$pkg_versions" >"$bw/out/packages"
  rm -rf "$base" && mv "$bw/out" "$base" && rm -rf "$bw"
  touch "$base/.complete"
else
  say "root file system: cache hit ($base)"
fi

# ---- stage 2: the bundle, keyed by the root file system, the recipe and v86 ----
# (The state is baked by guest/tools/machine.mjs with the element's v86 configuration and protocols,
# so their sources are part of the recipe too.)
recipe_hash=$( { (cd "$here" && find . -path ./tools/node_modules -prune -o \( -type f -o -type l \) -print | LC_ALL=C sort | xargs sha256sum)
  (cd "$here/.." && sha256sum src/engines/v86/config.ts src/engines/v86/jit.ts src/engines/v86/ide-trim.ts src/protocol/*.ts); } | sha256sum | cut -c1-16)
bundle_key=$(printf '%s\n' "$rootfs_key" "$recipe_hash" "$v86_version" "$memory_mb" "$disk_size" "$chunk_size" "$pkg_versions" "$trixie_versions" | sha256sum | cut -c1-16)
bundle=$cache/bundle-$bundle_key
if [ -e "$bundle/manifest.json" ]; then
  say "cache hit: $bundle"
else
  work=$cache/work-$bundle_key
  rm -rf "$cache"/work-* && mkdir -p "$work"
  step 5 "root file system: Docker from trixie, our init and settings (in $work)"
  cp "$base"/{seabios.bin,vgabios.bin,vmlinuz,initrd.img} "$work/"
  busybox=$base/busybox
  kver=$(cat "$base/kver")
  cp "$here/cmdline.txt" "$work/cmdline.txt"
  root=$work/root
  mkdir -p "$root"
  tar -x --numeric-owner --xattrs -C "$root" -f "$base/root.tar"
  # (their maintainer scripts add the docker group and service files: unpacking plus the group is
  # installing)
  mkdir -p "$work/trixie"
  (cd "$work/trixie" && apt_in trixie apt-get download $trixie_pkgs >&2 && for f in *.deb; do dpkg-deb -x "$f" "$root"; done)
  for f in "$work"/trixie/*.deb; do deb_line "$f"; done >"$work/trixie-packages"
  # (groupadd -r as docker.io's scripts run it: the highest free system gid; groupadd -R itself would
  # chroot, which needs real root)
  gid=$(awk -F: '{ used[$3] = 1 } END { for (g = 999; g >= 100; g--) if (!used[g]) { print g; exit } }' "$root/etc/group")
  echo "docker:x:$gid:" >>"$root/etc/group" && echo "docker:!::" >>"$root/etc/gshadow"
  for f in usr/sbin/dockerd usr/bin/docker usr/bin/containerd usr/bin/containerd-shim-runc-v2 \
    usr/libexec/docker/cli-plugins/docker-compose usr/libexec/docker/cli-plugins/docker-buildx; do
    [ -x "$root/$f" ] || { say "trixie's Docker packages did not unpack /$f"; exit 1; }
  done

  # our init and settings, the preloaded images, and less of what is never used
  cp -a "$here/rootfs/." "$root/"
  mkdir -p "$root/usr/share/docker-terminal/images" "$root/etc/containerd"
  printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' >"$root/etc/containerd/config.toml"
  # The busybox image's files; dt-provision adds its applet links in the guest (which runs busybox).
  bb=$root/usr/share/docker-terminal/images/busybox
  mkdir -p "$bb"/{bin,etc,tmp,proc,sys,dev,root}
  cp "$busybox" "$bb/bin/busybox"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$bb/etc/passwd"; printf 'root:x:0:\n' >"$bb/etc/group"
  # dt-warm's container: busybox as its /bin/true (busybox runs the applet its name says), read-only
  mkdir -p "$root/usr/share/docker-terminal/warm/rootfs"/{bin,proc,dev,sys}
  cp "$busybox" "$root/usr/share/docker-terminal/warm/rootfs/bin/true"
  # The licences of what the machine holds (each package's Debian copyright file, and the texts they
  # name), and the Debian sources it comes from: shipped with the bundle, as the GPL asks.
  mkdir -p "$work/licenses"
  for d in "$root"/usr/share/doc/*/ "$base"/doc/*/; do
    if [ -f "$d/copyright" ]; then cp -L "$d/copyright" "$work/licenses/$(basename "$d").copyright"; fi
  done
  cp -rL "$root/usr/share/common-licenses" "$work/licenses/common-licenses"
  node "$here/tools/sources.mjs" "$root/var/lib/dpkg/status" "$work/trixie-packages" "$base/boot-packages" >"$work/SOURCES.md"
  # (and udev's hardware database, 13 MB: no udevd runs in this guest)
  rm -rf "$root"/usr/share/{doc,man,info,locale}/* "$root/boot"/* "$root"/var/log/* \
    "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/usr/lib/udev/hwdb.bin
  (cd "$root/lib/modules/$kver/kernel" && rm -rf sound drivers/gpu drivers/media drivers/net/wireless \
    drivers/infiniband drivers/staging drivers/iio drivers/input drivers/hid drivers/usb drivers/bluetooth \
    net/bluetooth net/wireless net/mac80211 drivers/isdn drivers/mtd)
  depmod -b "$root" "$kver"

  # ext4 without journal or metadata checksums: cheaper I/O in the emulator; overlay2 works on it
  mke2fs -q -t ext4 -O ^has_journal,^metadata_csum -L dtroot -E lazy_itable_init=0 -d "$root" "$work/disk.img" "$disk_size"
  # (discard by default: ext4 tells the disk what it frees, and the tab lets those blocks go; see
  # src/engines/v86/ide-trim.ts)
  tune2fs -o discard "$work/disk.img" >/dev/null
  rm -rf "$root"

  step 6 "booting the guest in v86 to provision images, save the state and list the first reads (a few minutes)"
  node "$here/tools/bake.mjs" "$work" "$memory_mb" "$chunk_size" >&2

  step 7 "compressing the state and splitting the disk into ${chunk_size}-byte zstd chunks"
  # (level 22 with a 64 MiB window: 34.5 MB against 37.0 MB at -19; v86's decoder then holds a
  # 64 MiB window while it unpacks, 128 MiB would save only 0.4 MB more)
  zstd -q --ultra -22 --zstd=wlog=26 -T0 -f "$work/state.bin" -o "$work/state.bin.zst"
  # (in parts of 16 MiB: CDNs serve no file of 20 MB or more)
  split -b 16777216 -d -a 1 "$work/state.bin.zst" "$work/state.bin.zst."
  mkdir -p "$work/disk"
  split -b "$chunk_size" -a 6 -d "$work/disk.img" "$work/disk/part-"
  (cd "$work/disk" && for f in part-*; do
    i=$((10#${f#part-})); mv "$f" "disk-$((i * chunk_size))-$(((i + 1) * chunk_size)).img"
  done && ls | xargs -P "$(nproc)" -n 256 zstd -q -19 --rm)

  step 8 "writing the bundle"
  bundle_tmp=$bundle.tmp
  rm -rf "$bundle_tmp" && mkdir -p "$bundle_tmp"
  cp "$work"/{seabios.bin,vgabios.bin,initrd.img,SOURCES.md} "$work"/state.bin.zst.? "$bundle_tmp/"
  cp -r "$work/licenses" "$bundle_tmp/licenses"
  # (the flat kernel is 15 MB: gzip, 7 MB, which the browser unpacks natively)
  gzip -9 -n -c "$work/vmlinuz" >"$bundle_tmp/vmlinuz.gz"
  mv "$work/disk" "$bundle_tmp/disk"
  node "$here/tools/manifest.mjs" "$bundle_tmp" "$work" "$memory_mb" "$chunk_size" \
    "$(printf '%s\n' "$pkg_versions" "$trixie_versions" | tr '\n' ' ')" "$DT_NO_I386_GUARD" >"$bundle_tmp/manifest.json"
  rm -rf "$bundle" && mv "$bundle_tmp" "$bundle"
  rm -rf "$work"
fi

step 9 "copying the bundle to $out"
rm -rf "$out" && mkdir -p "$(dirname "$out")"
cp -al "$bundle" "$out" 2>/dev/null || cp -a "$bundle" "$out"
say "bundle ready in $out ($(du -sh --apparent-size "$out" | cut -f1) on disk, $(($(date +%s) - started)) s)"
