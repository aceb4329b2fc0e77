#!/bin/bash
# Builds the default machine bundle (v86 + Debian bookworm i386 + Docker) into dist/guest/.
# Everything comes from Debian's archive and npm. Results are cached outside the repo in
# $DT_CACHE (default ~/.cache/docker-terminal), keyed by a hash of the recipe and package versions:
# an unchanged recipe is a cache hit, a changed one rebuilds.
# Usage: guest/build.sh [OUTDIR]   (as root: debootstrap and the disk image need it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=${1:-$repo/dist/guest}
cache=${DT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/docker-terminal}
suite=bookworm
memory_mb=${DT_MEMORY_MB:-512}
disk_size=2G
chunk_size=262144
say() { echo "build-guest: $*" >&2; }

[ "$(id -u)" = 0 ] || { say "run as root (debootstrap and mke2fs -d need it)"; exit 1; }
need=""
for t in debootstrap:debootstrap zstd:zstd lz4:lz4 xz:xz-utils gzip:gzip mke2fs:e2fsprogs cpio:cpio depmod:kmod; do
  command -v "${t%%:*}" >/dev/null || need="$need ${t#*:}"
done
if ! dpkg --print-foreign-architectures | grep -qx i386; then dpkg --add-architecture i386; fresh=1; fi
if [ -n "$need" ] || [ -n "${fresh:-}" ] || ! apt-cache show busybox-static:i386 >/dev/null 2>&1; then
  say "installing host tools:${need:- (none)}; updating package lists"
  apt-get update -q >&2
  [ -z "$need" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >&2
fi
mirror=${DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' | awk -v s=$suite '$2==s{print $1; exit}')}
[ -n "$mirror" ] || { say "no $suite source in apt's lists; set DEBIAN_MIRROR"; exit 1; }

# (Architecture: all packages have no :i386 entry; ask for them without it.)
version() { { apt-cache show --no-all-versions "$1"; apt-cache show --no-all-versions "${1%:*}"; } 2>/dev/null | awk '/^Version:/{print $2; exit}'; }
packages=$(awk '!/^#/ && NF {print $1}' "$here/packages.txt")
pkg_versions=$(for p in $packages busybox-static; do echo "$p=$(version "$p:i386")"; done; echo "seabios=$(version seabios)")
v86_version=$(node -p "require('$repo/node_modules/v86/package.json').version")

# Docker itself (dockerd and the CLI 26.1, containerd 1.7) and its compose and buildx plugins come
# from trixie's i386 packages: Go binaries that need only libc >= 2.34 (bookworm has 2.36).
# Bookworm's Docker 20.10 re-ran its whole 55 MB dockerd binary for every container to turn IPv6
# off in the new network namespace (`set-ipv6`): Docker 26 does not, and a warm `docker run` under
# Node went from 6.2 s to about 4 s. The kernel stays bookworm's (trixie has no 686 kernel).
# A private apt configuration reads trixie's (signed) package lists without touching the host's.
trixie_pkgs="docker.io docker-cli containerd docker-buildx docker-compose"
trixie_dir=$cache/apt-trixie
trixie() {
  "$@" -q -o Dir::Etc::SourceList="$trixie_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$trixie_dir/lists" -o Dir::Cache="$trixie_dir/cache" -o Dir::State::Status=/dev/null \
    -o APT::Architecture=i386 -o APT::Architectures::=i386 -o APT::Sandbox::User=root
}
# (Refreshed once a day, by a stamp: apt dates the lists by the server's Last-Modified.)
if [ -z "$(find "$trixie_dir/updated" -mtime -1 2>/dev/null)" ]; then
  mkdir -p "$trixie_dir/lists/partial" "$trixie_dir/cache/archives/partial"
  echo "deb [arch=i386 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$trixie_dir/sources.list"
  trixie apt-get update >&2
  touch "$trixie_dir/updated"
fi
trixie_versions=$(for p in $trixie_pkgs; do echo "$p=$(trixie apt-cache show --no-all-versions "$p" | awk '/^Version:/{print $2; exit}')"; done)
case $trixie_versions in *=$'\n'*|*=) say "trixie's lists lack one of: $trixie_pkgs"; exit 1 ;; esac

# ---- stage 1: the Debian root file system (slow: minutes), keyed by suite + package versions ----
rootfs_key=$(printf '%s\n' "$suite" "$pkg_versions" | sha256sum | cut -c1-16)
rootfs=$cache/rootfs-$rootfs_key
if [ ! -e "$rootfs/.complete" ]; then
  say "debootstrap $suite i386 from $mirror -> $rootfs"
  rm -rf "$rootfs" && mkdir -p "$cache"
  debootstrap --arch=i386 --variant=minbase --include="$(echo $packages | tr ' ' ,)" \
    "$suite" "$rootfs" "$mirror" >&2
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  touch "$rootfs/.complete"
fi

# ---- stage 2: the bundle, keyed by the root file system, the recipe and v86 ----
recipe_hash=$( (cd "$here" && find . -path ./tools/node_modules -prune -o \( -type f -o -type l \) -print | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-16)
bundle_key=$(printf '%s\n' "$rootfs_key" "$recipe_hash" "$v86_version" "$memory_mb" "$disk_size" "$chunk_size" "$pkg_versions" "$trixie_versions" | sha256sum | cut -c1-16)
bundle=$cache/bundle-$bundle_key
if [ -e "$bundle/manifest.json" ]; then
  say "cache hit: $bundle"
else
  work=$cache/work-$bundle_key
  rm -rf "$cache"/work-* && mkdir -p "$work/dl"
  say "building bundle in $work"
  (cd "$work/dl" && apt-get download -q seabios busybox-static:i386 >&2 2>/dev/null && for f in *.deb; do dpkg -x "$f" x; done)
  cp "$work/dl/x/usr/share/seabios/bios.bin" "$work/seabios.bin"
  cp "$work/dl/x/usr/share/seabios/vgabios-stdvga.bin" "$work/vgabios.bin"
  busybox=$work/dl/x/bin/busybox
  cp "$here/cmdline.txt" "$work/cmdline.txt"

  root=$work/root
  cp -a "$rootfs" "$root" && rm -f "$root/.complete"
  # (their maintainer scripts add the docker group and service files: unpacking plus the group is
  # installing)
  mkdir -p "$work/trixie"
  (cd "$work/trixie" && trixie apt-get download $trixie_pkgs >&2 && for f in *.deb; do dpkg -x "$f" "$root"; done)
  groupadd -R "$root" -r docker
  for f in usr/sbin/dockerd usr/bin/docker usr/bin/containerd usr/bin/containerd-shim-runc-v2 \
    usr/libexec/docker/cli-plugins/docker-compose usr/libexec/docker/cli-plugins/docker-buildx; do
    [ -x "$root/$f" ] || { say "trixie's Docker packages did not unpack /$f"; exit 1; }
  done
  kver=$(ls "$root/lib/modules" | head -1)
  # (the kernel without its xz decompressor, which took 3 s of a cold boot: see tools/flat-kernel.mjs)
  node "$here/tools/flat-kernel.mjs" "$root/boot/vmlinuz-$kver" "$work/vmlinuz" >&2
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

  # initramfs: busybox + the modules that reach the ext4 root (IDE, SCSI disk, ext4 are modules)
  ird=$work/initramfs
  mkdir -p "$ird"/{bin,proc,sys,dev,newroot,mods}
  cp "$busybox" "$ird/bin/busybox"
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
  (cd "$ird" && find . | cpio -o -H newc --quiet | lz4 -l -9 -q) >"$work/initrd.img"
  [ "$(lz4 -dc "$work/initrd.img" | cpio -t --quiet | grep -c .)" -gt 10 ] || { say "initramfs came out empty"; exit 1; }

  # root file system: our init and settings, the preloaded images, and less of what is never used
  cp -a "$here/rootfs/." "$root/"
  mkdir -p "$root/usr/share/docker-terminal/images" "$root/etc/containerd"
  printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' >"$root/etc/containerd/config.toml"
  bb=$work/busybox-image
  mkdir -p "$bb"/{bin,etc,tmp,proc,sys,dev,root}
  cp "$busybox" "$bb/bin/busybox"
  for a in $("$busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$bb/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$bb/etc/passwd"; printf 'root:x:0:\n' >"$bb/etc/group"
  tar --numeric-owner -C "$bb" -cf "$root/usr/share/docker-terminal/images/busybox.tar" .
  # dt-warm's container: busybox as its /bin/true (busybox runs the applet its name says), read-only
  mkdir -p "$root/usr/share/docker-terminal/warm/rootfs"/{bin,proc,dev,sys}
  cp "$busybox" "$root/usr/share/docker-terminal/warm/rootfs/bin/true"
  rm -rf "$root"/usr/share/{doc,man,info,locale}/* "$root/boot"/* "$root"/var/log/*
  (cd "$root/lib/modules/$kver/kernel" && rm -rf sound drivers/gpu drivers/media drivers/net/wireless \
    drivers/infiniband drivers/staging drivers/iio drivers/input drivers/hid drivers/usb drivers/bluetooth \
    net/bluetooth net/wireless net/mac80211 drivers/isdn drivers/mtd)
  depmod -b "$root" "$kver"

  # ext4 without journal or metadata checksums: cheaper I/O in the emulator; overlay2 works on it
  mke2fs -q -t ext4 -O ^has_journal,^metadata_csum -L dtroot -E lazy_itable_init=0 -d "$root" "$work/disk.img" "$disk_size"

  say "booting the guest in v86 to provision images and save the state (a few minutes)"
  node "$here/tools/bake.mjs" "$work" "$memory_mb" "$chunk_size" >&2

  say "compressing the state and splitting the disk into ${chunk_size}-byte zstd chunks"
  # (level 22 with a 64 MiB window: 34.5 MB against 37.0 MB at -19; v86's decoder then holds a
  # 64 MiB window while it unpacks, 128 MiB would save only 0.4 MB more)
  zstd -q --ultra -22 --zstd=wlog=26 -T0 -f "$work/state.bin" -o "$work/state.bin.zst"
  mkdir -p "$work/disk"
  split -b "$chunk_size" -a 6 -d "$work/disk.img" "$work/disk/part-"
  (cd "$work/disk" && for f in part-*; do
    i=$((10#${f#part-})); mv "$f" "disk-$((i * chunk_size))-$(((i + 1) * chunk_size)).img"
  done && ls | xargs -P "$(nproc)" -n 256 zstd -q -19 --rm)

  bundle_tmp=$bundle.tmp
  rm -rf "$bundle_tmp" && mkdir -p "$bundle_tmp"
  cp "$work"/{seabios.bin,vgabios.bin,initrd.img,state.bin.zst} "$bundle_tmp/"
  # (the flat kernel is 15 MB: gzip, 7 MB, which the browser unpacks natively)
  gzip -9 -n -c "$work/vmlinuz" >"$bundle_tmp/vmlinuz.gz"
  mv "$work/disk" "$bundle_tmp/disk"
  node "$here/tools/manifest.mjs" "$bundle_tmp" "$work" "$memory_mb" "$chunk_size" \
    "$(printf '%s\n' "$pkg_versions" "$trixie_versions" | tr '\n' ' ')" >"$bundle_tmp/manifest.json"
  rm -rf "$bundle" && mv "$bundle_tmp" "$bundle"
  rm -rf "$work"
fi

rm -rf "$out" && mkdir -p "$(dirname "$out")"
cp -al "$bundle" "$out" 2>/dev/null || cp -a "$bundle" "$out"
say "bundle ready in $out ($(du -sh --apparent-size "$out" | cut -f1) on disk)"
