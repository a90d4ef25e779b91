#!/usr/bin/env bash
# Runs `panoptes bench` on a lent GPU machine with the webgpu provider and with cpu, on the same
# clip, from what scripts/device/pack.sh packed. Two device calls, back to back (the machine keeps
# /opt/panoptes while it is warm, about 30 s):
#
#   1. carry [.device/tools]            command: bash scripts/device/gpu-bench.sh tools
#   2. carry [.device/runtime, .gl]     command: bash scripts/device/gpu-bench.sh bench [frames]
#
# Step 2 writes under $OUT: webgpu.json and cpu.json (bench --json), webgpu.txt and cpu.txt (the
# tables and the log: which provider ran each model, and why webgpu fell back if it did), and
# machine.txt (GPU, driver, Vulkan devices). Outside a device machine, set OUT, TOOLS (default
# /opt/panoptes) and GL_ROOT (default /) to try it in a copy of the repository.
set -uo pipefail
cd "$(dirname "$0")/../.."
tools="${TOOLS:-/opt/panoptes}"
out="${OUT:?set OUT to the folder the results go to}"

case "${1:-}" in
  tools)
    mkdir -p "$tools"
    for name in node ffmpeg ffprobe; do xz -dc ".device/tools/$name.xz" >"$tools/$name" && chmod +x "$tools/$name"; done
    "$tools/node" -v && "$tools/ffmpeg" -version | head -1
    ;;
  bench)
    frames="${2:-200}"
    [ -x "$tools/node" ] || { echo "no $tools/node: run step 1 (tools) first, less than 30 s before this" >&2; exit 1; }
    tar -xJf .device/runtime/node_modules.tar.xz
    # Vulkan and EGL loaders for onnxruntime's WebGPU (Dawn); the device README's recipe.
    # GL_ROOT elsewhere than / is for trying this script without installing them.
    if ls .gl/*.deb >/dev/null 2>&1; then
      for f in .gl/*.deb; do dpkg -x "$f" "${GL_ROOT:-/}"; done
      [ "${GL_ROOT:-/}" = / ] && ldconfig
    fi
    export PATH="$tools:$PATH" FFMPEG_PATH="$tools/ffmpeg" FFPROBE_PATH="$tools/ffprobe"
    export PANOPTES_DATA="$PWD/.device/runtime/data" PANOPTES_LOG=info
    {
      nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
      ldconfig -p | grep -E 'libvulkan|libEGL' 2>&1
      ls /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d 2>&1
      nproc
    } >"$out/machine.txt"
    # The device README's fallback when the loader finds no driver by itself.
    if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
      export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
      export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    fi
    status=0
    for ep in webgpu cpu; do
      echo "== bench --ep $ep, $frames frames"
      "$tools/node" bin/panoptes.js bench --ep "$ep" --frames "$frames" --json >"$out/$ep.json" 2>"$out/$ep.txt" || status=1
      "$tools/node" -e "const r=require('$out/$ep.json'); console.log(JSON.stringify({providers:r.providers, ceilingFps:r.inference?.ceilingFps, fps:r.pipeline.fps, ratio:r.pipeline.ratio, liveP50:r.live?.latency.p50, notes:r.notes}))" || status=1
      grep -E 'runs on|falling back|unavailable' "$out/$ep.txt"
    done
    exit $status
    ;;
  *)
    echo "usage: gpu-bench.sh tools | bench [frames]" >&2
    exit 2
    ;;
esac
