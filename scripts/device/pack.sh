#!/usr/bin/env bash
# Packs what `panoptes bench` needs on a lent GPU machine that has no Node.js, no registry and no
# internet, into .device/ (ignored by git). A device call carries at most 64 MiB, so it is two
# parts, carried by two calls made back to back (the machine keeps /opt while it is warm):
#
#   .device/tools/    node, ffmpeg and ffprobe, each xz-packed                      (about 60 MB)
#   .device/runtime/  node_modules without dev tools and foreign binaries, the models and clip
#                     the config uses (data laid out as PANOPTES_DATA expects)      (about 35 MB)
#   .gl/              Vulkan and EGL loaders from Debian, for onnxruntime's WebGPU  (about 2 MB)
#
#   bash scripts/device/pack.sh [config]      # default configs/dashcam.yaml
#
# Then, on the device: scripts/device/gpu-bench.sh (its header says how to call it).
set -euo pipefail
cd "$(dirname "$0")/../.."
config="${1:-configs/dashcam.yaml}"
data="${PANOPTES_DATA:-../shared}"
rm -rf .device/tools .device/runtime
mkdir -p .device/tools .device/runtime/data .gl

echo "pack: tools (node $(node -v), ffmpeg, ffprobe)"
ffmpeg_bin=$(node -e "console.log(require('@ffmpeg-installer/ffmpeg').path)")
ffprobe_bin=$(node -e "console.log(require('@ffprobe-installer/ffprobe').path)")
xz -T0 -9 -c "$(command -v node)" >.device/tools/node.xz
xz -T0 -9 -c "$ffmpeg_bin" >.device/tools/ffmpeg.xz
xz -T0 -9 -c "$ffprobe_bin" >.device/tools/ffprobe.xz

echo "pack: the models and clips $config uses"
# Every catalog model and every replay file the config names, found by the catalog's own loader.
npx tsx scripts/device/data-files.ts "$config" |
  while read -r relative; do
    mkdir -p ".device/runtime/data/$(dirname "$relative")"
    cp "$data/$relative" ".device/runtime/data/$relative"
  done

echo "pack: node_modules (runtime only, linux x64 only)"
tar -C . -cf - \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/darwin' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/win32' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/linux/arm64' \
  --exclude='node_modules/@ffmpeg-installer/linux-x64/ffmpeg' \
  --exclude='node_modules/@ffprobe-installer/linux-x64/ffprobe' \
  --exclude='node_modules/typescript' --exclude='node_modules/playwright-core' \
  --exclude='node_modules/vitest' --exclude='node_modules/@vitest' --exclude='node_modules/vite' \
  --exclude='node_modules/@rolldown' --exclude='node_modules/rolldown' --exclude='node_modules/lightningcss*' \
  --exclude='node_modules/@types' --exclude='*.map' --exclude='*.md' \
  node_modules | xz -T0 -9 >.device/runtime/node_modules.tar.xz

echo "pack: Vulkan and EGL loaders (Debian amd64 packages)"
if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p /tmp/amd64/partial
  apt_amd64=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  apt-get "${apt_amd64[@]}" update >/dev/null
  (cd .gl && apt-get "${apt_amd64[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo '/.gl/' >>.git/info/exclude

du -sh .device/tools .device/runtime .gl
