#!/usr/bin/env bash
# Installs what the privileged helper (native/) builds and tests with, on Debian/Ubuntu:
# the BPF toolchain (clang, llvm, libbpf-dev, bpftool), libnetfilter_conntrack/libmnl, and the
# tools the privileged tests drive (conntrack, nftables, tshark and its capinfos, iproute2, setcap,
# and sudo, strace, curl, useradd for the attack tests). No libpcap: the helper reads the packet
# capture itself (native/src/capture.c). Non-interactive; safe to run again (installs only what is missing).
set -euo pipefail
pkgs=(clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev make gcc g++ python3 pkg-config
      libnetfilter-conntrack-dev libmnl-dev
      conntrack nftables tshark iproute2 util-linux libcap2-bin
      sudo strace curl passwd)
need=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -eq 0 ]; then echo "install-native-deps: all present"; exit 0; fi
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; else SUDO=""; fi
export DEBIAN_FRONTEND=noninteractive
# tshark's wireshark-common asks whether non-root users may capture; answer "no" up front so the
# install never stops at a debconf prompt (the helper captures as root, not through dumpcap).
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "install-native-deps: installed ${need[*]}"
