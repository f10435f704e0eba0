#!/usr/bin/env bash
# run-in-vm.sh DIR CMD...
# run-in-vm.sh --prepare
#
# Boot Debian's stock cloud kernel under QEMU (software emulation, TCG) with a small
# busybox initramfs, load the TSN-relevant modules (sch_taprio, sch_mqprio, 8021q, bridge, ...),
# copy DIR into the guest at /payload, run CMD there with bash, print its output and exit with
# its status. Needs no KVM, no disk image and no network inside the guest.
# `--prepare` only downloads and unpacks the kernel into $CACHE (CI does this up front).
#
# This is the team's verified recipe (shared/reference/kernel-vm.md), kept in the repository so
# tests and CI do not depend on anything outside the clone. tsn-testbed's `VmRun` drives it.
# Changes from the reference copy: --prepare, and a lock around the kernel cache so concurrent
# runs (nextest, several test binaries) do not unpack the same package at the same time.
#
#   tests/vm/run-in-vm.sh ./smoke './taprio-smoke.sh'
#   tests/vm/run-in-vm.sh target/vmtest 'RUST_LOG=debug ./tsn-kernel-tests --test-threads=1'
#
# Exit status: CMD's status; 124 if the VM ran past $TIMEOUT; 125 if the guest never reported
# a status (kernel panic, init failure); 2 for usage or missing host tools.
#
# Environment (all optional):
#   KPKG          kernel package or metapackage   [linux-image-cloud-amd64]
#                 (6.1 on Debian 12). For 6.12: linux-image-6.12.117+deb12-amd64-unsigned;
#                 the 6.12 cloud image from bookworm-backports double-faulted in half our boots
#   KERNEL_DEB    use this local linux-image-*.deb instead of downloading (offline runs)
#   MODS          modules to load, dependencies resolved automatically
#                 [sch_taprio sch_mqprio sch_etf sch_cbs sch_netem 8021q bridge veth dummy]
#   HOST_BINS     host programs to copy in, with their shared libraries [ip tc bridge];
#                 names or paths, e.g. "ip bridge /opt/iproute2-6.15/sbin/tc nft tcpdump"
#                 (bash is always copied; it is /bin/sh in the guest)
#   SMP MEM       guest CPUs and MiB of RAM [2] [1024]
#   TIMEOUT       seconds before the VM is killed [600]
#   ACCEL CPU     qemu accelerator and CPU model [tcg] [max]; KVM hangs or aborts on hosts
#                 without nested virtualisation
#   CACHE         where kernel packages are kept [${XDG_CACHE_HOME:-~/.cache}/tsn-kernel-vm]
#   VERBOSE=1     also print the guest console (kernel messages) to stderr
#   INSTALL_DEPS=1  apt-get install missing host packages first (root, Debian/Ubuntu)
#
# Inside the guest: bash is /bin/sh, busybox provides the other basic tools, host ELF binaries
# found in DIR get their shared libraries copied in (so binaries built on the host run as is),
# /run, /tmp, /proc, /sys, /dev are mounted, loopback is up, `ip netns` works, and
# $PAYLOAD=/payload is the working directory.
set -euo pipefail

usage() { awk 'NR>1 && !/^#/{exit} NR>1{sub(/^# ?/,""); print}' "$0" >&2; exit 2; }
PREPARE=0
if [ "${1:-}" = --prepare ]; then PREPARE=1; DIR=; CMD=; else
  [ $# -ge 2 ] || usage
  DIR=$1; shift
  CMD="$*"
  [ -d "$DIR" ] || { echo "run-in-vm: $DIR is not a directory" >&2; exit 2; }
fi

KPKG=${KPKG:-linux-image-cloud-amd64}
MODS=${MODS:-"sch_taprio sch_mqprio sch_etf sch_cbs sch_netem 8021q bridge veth dummy"}
HOST_BINS=${HOST_BINS:-"ip tc bridge"}
SMP=${SMP:-2}
MEM=${MEM:-1024}
TIMEOUT=${TIMEOUT:-600}
ACCEL=${ACCEL:-tcg}
CPU=${CPU:-max}
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tsn-kernel-vm}
log() { echo "run-in-vm: $*" >&2; }

# --- host tools -------------------------------------------------------------------------------
need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have qemu-system-x86_64 || need_pkgs+=(qemu-system-x86)
have busybox || [ -x /bin/busybox ] || need_pkgs+=(busybox-static)
have cpio || need_pkgs+=(cpio)
have modprobe && have depmod || need_pkgs+=(kmod)
have xz || need_pkgs+=(xz-utils)
have zstd || need_pkgs+=(zstd)
have tc && have ip && have bridge || need_pkgs+=(iproute2)
have flock || need_pkgs+=(util-linux)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "${INSTALL_DEPS:-0}" = 1 ]; then
    log "installing ${need_pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2 \
      || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive \
           apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2; }
  else
    log "missing host packages: ${need_pkgs[*]} (apt-get install them, or set INSTALL_DEPS=1)"; exit 2
  fi
fi
BUSYBOX=$(command -v busybox || echo /bin/busybox)

# --- kernel package: download once, extract, index modules ------------------------------------
mkdir -p "$CACHE/debs" "$CACHE/x"
# One process at a time downloads, unpacks and indexes (released after depmod).
exec 9>"$CACHE/.lock"
flock 9
fetch_deb() { # $1 = apt spec: name, name=version or name/release; prints the .deb path
  local spec=$1 name=${1%%[=/]*} dir=$CACHE/debs pat f
  case $spec in
    */*) dir=$CACHE/debs/${spec#*/}; pat="${name}_*.deb";;
    *=*) pat="${name}_${spec#*=}_*.deb";;
    *) pat="${name}_*.deb";;
  esac
  mkdir -p "$dir"
  f=$(ls "$dir"/$pat 2>/dev/null | head -1 || true)
  if [ -z "$f" ]; then
    (cd "$dir" && apt-get download -q "$spec" 2>&1 | grep -v -i unsandboxed >&2) || true
    f=$(ls "$dir"/$pat 2>/dev/null | head -1 || true)
    [ -n "$f" ] || { log "could not download $spec (try: apt-get update)"; exit 2; }
  fi
  echo "$f"
}
if [ -n "${KERNEL_DEB:-}" ]; then deb=$KERNEL_DEB; else deb=$(fetch_deb "$KPKG"); fi
# Follow metapackages (linux-image-cloud-amd64 -> linux-image-6.1.0-NN-cloud-amd64) to the image.
for _ in 1 2 3 4; do
  name=$(dpkg-deb -f "$deb" Package)
  KROOT=$CACHE/x/$name
  [ -d "$KROOT" ] || { mkdir -p "$KROOT.tmp" && dpkg-deb -x "$deb" "$KROOT.tmp" && mv "$KROOT.tmp" "$KROOT"; }
  VMLINUZ=$(ls "$KROOT"/boot/vmlinuz-* 2>/dev/null | head -1 || true)
  [ -n "$VMLINUZ" ] && break
  dep=$(dpkg-deb -f "$deb" Depends | tr ',|' '\n\n' | grep -o 'linux-image-[^ ]*\( *(= *[^)]*)\)\{0,1\}' | head -1 || true)
  [ -n "$dep" ] || { log "$name has no kernel image and no linux-image dependency"; exit 2; }
  dname=${dep%% *}; dver=$(echo "$dep" | sed -n 's/.*(= *\([^)]*\)).*/\1/p')
  deb=$(fetch_deb "$dname${dver:+=$dver}")
done
[ -n "$VMLINUZ" ] || { log "no vmlinuz found for $KPKG"; exit 2; }
KVER=${VMLINUZ##*/vmlinuz-}
if [ ! -d "$KROOT/lib/modules/$KVER" ] && [ -d "$KROOT/usr/lib/modules/$KVER" ]; then
  mkdir -p "$KROOT/lib/modules"; ln -sfn "../../usr/lib/modules/$KVER" "$KROOT/lib/modules/$KVER"
fi
[ -f "$KROOT/lib/modules/$KVER/modules.dep" ] || depmod -b "$KROOT" "$KVER"
exec 9>&-
if [ "$PREPARE" = 1 ]; then log "kernel $KVER ready in $KROOT"; exit 0; fi

# --- initramfs --------------------------------------------------------------------------------
W=$(mktemp -d "${TMPDIR:-/tmp}/tsn-vm.XXXXXX")
cleanup() { [ -n "${QPID:-}" ] && kill "$QPID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
R=$W/rootfs
mkdir -p "$R"/{bin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,root,etc,payload,tsn-vm/mods}
ln -s usr/sbin "$R/sbin"
mkdir -p "$R/var" && ln -s ../run "$R/var/run"

copy_libs() { # copy the shared libraries of ELF file $1 to the same paths in the rootfs
  local lib
  for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | sort -u); do
    [ -e "$R$lib" ] || { mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"; }
  done
}
is_elf() { [ -f "$1" ] && [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }

cp -L "$BUSYBOX" "$R/bin/busybox"; copy_libs "$R/bin/busybox"
cp -L "$(command -v bash)" "$R/bin/bash"; copy_libs "$(command -v bash)"
ln -s bash "$R/bin/sh"
for b in $HOST_BINS; do   # a name looked up in PATH, or a path (e.g. a newer tc unpacked from a .deb)
  case $b in */*) p=$b;; *) p=$(command -v "$b") || { log "host program $b not found"; exit 2; };; esac
  [ -x "$p" ] || { log "host program $p not found"; exit 2; }
  cp -L "$p" "$R/usr/sbin/$(basename "$p")"; copy_libs "$p"
done
# busybox applets for everything not provided by a real program. busybox sh would run its
# own 'ip'/'tc' applets even when PATH has the real ones, which is why bash is the shell.
for a in $("$R/bin/busybox" --list); do
  case $a in sh|bash|busybox) continue;; esac
  [ -e "$R/usr/sbin/$a" ] || [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"
done
ln -s ../../bin/busybox "$R/usr/bin/env"

: > "$R/tsn-vm/modules"
for m in $MODS; do
  deps=$(modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" 2>&1) || { log "module $m: $deps"; exit 2; }
  while read -r kind f _; do
    [ "$kind" = insmod ] || continue
    b=$(basename "$f"); b=${b%.xz}; b=${b%.zst}; b=${b%.gz}
    grep -qx "$b" "$R/tsn-vm/modules" && continue
    case $f in
      *.xz) xz -dc "$f" > "$R/tsn-vm/mods/$b";;
      *.zst) zstd -qdc "$f" > "$R/tsn-vm/mods/$b";;
      *.gz) gzip -dc "$f" > "$R/tsn-vm/mods/$b";;
      *) cp "$f" "$R/tsn-vm/mods/$b";;
    esac
    echo "$b" >> "$R/tsn-vm/modules"
  done <<< "$deps"
done

cp -a "$DIR/." "$R/payload/"
while IFS= read -r -d '' f; do if is_elf "$f"; then copy_libs "$f"; fi; done < <(find "$R/payload" -type f -print0)
printf '%s\n' "$CMD" > "$R/tsn-vm/cmd"

cat > "$R/init" <<'EOF'
#!/bin/busybox sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root PAYLOAD=/payload
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mount -t tmpfs tmpfs /run
/bin/busybox mount -t tmpfs tmpfs /tmp
/bin/busybox mkdir -p /dev/pts /dev/shm && /bin/busybox mount -t devpts devpts /dev/pts
for m in $(/bin/busybox cat /tsn-vm/modules); do
  /bin/busybox insmod /tsn-vm/mods/$m || echo "tsn-vm: insmod $m failed"
done
/usr/sbin/ip link set lo up
echo "tsn-vm: guest up, kernel $(/bin/busybox uname -r), uptime $(/bin/busybox cut -d' ' -f1 /proc/uptime) s"
# CMD's output goes to the second serial port, raw, so the host gets it without kernel noise.
exec 3<>/dev/ttyS1
/bin/busybox stty -F /dev/ttyS1 raw -echo
cd /payload && /bin/bash /tsn-vm/cmd </dev/null >&3 2>&3
rc=$?
exec 3>&-
echo "TSN-VM-EXIT-CODE=$rc"
/bin/busybox sync
/bin/busybox poweroff -f
EOF
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) > "$W/initramfs.gz"

# --- boot -------------------------------------------------------------------------------------
log "booting $KVER under qemu ($ACCEL, $SMP cpu, ${MEM} MiB), initramfs $(du -k "$W/initramfs.gz" | cut -f1) KiB"
t0=$(date +%s.%N)
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 \
  -accel "$ACCEL" -cpu "$CPU" -smp "$SMP" -m "$MEM" -nodefaults -no-reboot -display none \
  -kernel "$VMLINUZ" -initrd "$W/initramfs.gz" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init" \
  -chardev file,id=con,path="$W/console.log" -serial chardev:con \
  -chardev file,id=out,path="$W/output.log" -serial chardev:out \
  </dev/null 2> "$W/qemu.err" &
QPID=$!
for _ in $(seq 100); do [ -e "$W/output.log" ] && break; sleep 0.05; done
tail -n +1 -f --pid="$QPID" "$W/output.log" 2>/dev/null &
TPID=$!
qrc=0; wait "$QPID" || qrc=$?
QPID=
wait "$TPID" 2>/dev/null || true
t1=$(date +%s.%N)

up=$(grep -a -o 'uptime [0-9.]* s' "$W/console.log" | head -1 | cut -d' ' -f2 || true)
rc=$(tr -d '\r' < "$W/console.log" | grep -a -o 'TSN-VM-EXIT-CODE=[0-9]*' | tail -1 | cut -d= -f2 || true)
[ "${VERBOSE:-0}" = 1 ] && { echo "----- guest console -----" >&2; tr -d '\r' < "$W/console.log" >&2; }
log "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s wall (guest reached init at ${up:-?} s uptime), exit ${rc:-none}"
if [ -z "$rc" ]; then
  if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then log "timed out after $TIMEOUT s"; rc=124; else rc=125; fi
  echo "----- guest console (tail) -----" >&2; tr -d '\r' < "$W/console.log" | tail -40 >&2
  cat "$W/qemu.err" >&2
fi
exit "$rc"
