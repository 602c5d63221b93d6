#!/usr/bin/env bash
# make demo: a simulated camera on the plaza clip, and one annotated run on it, in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SIE_SHARED:-../shared}"
CAM_PORT="${SIE_CAMERA_PORT:-8555}"
OUT_PORT="${SIE_RTSP_PORT:-8554}"

cam_log=$(mktemp -t sie-camera.XXXXXX.log)
./bin/sie camera "$SHARED/media/plaza-pedestrians.mp4" --port "$CAM_PORT" --mount cam >"$cam_log" 2>&1 &
cam_pid=$!
trap 'kill $cam_pid 2>/dev/null; wait $cam_pid 2>/dev/null; rm -f "$cam_log"' EXIT
for _ in $(seq 1 50); do grep -q '^camera:' "$cam_log" && break; sleep 0.1; done
grep '^camera:' "$cam_log" || { cat "$cam_log"; exit 1; }

cat <<MSG

  Annotated stream: rtsp://127.0.0.1:$OUT_PORT/live
  Watch it with:    ffplay -rtsp_transport tcp rtsp://127.0.0.1:$OUT_PORT/live
  Stop with Ctrl-C.

MSG
./bin/sie run "rtsp://127.0.0.1:$CAM_PORT/cam" \
  --model "$SHARED/models/yolox_nano.onnx" --labels "$SHARED/models/coco_classes.txt" \
  --port "$OUT_PORT" --mount live "$@"
