#!/usr/bin/env bash
# make demo: PostgreSQL, a simulated camera on the plaza clip, `sie serve` (API + engine), then the shared
# model, a config and a run created through the API — the way another service would do it.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SIE_SHARED:-../shared}"
CAM_PORT="${SIE_CAMERA_PORT:-8555}"
RTSP_PORT="${SIE_RTSP_PORT:-8554}"
API_PORT="${SIE_API_PORT:-8000}"
API="http://127.0.0.1:$API_PORT"
export SIE_DATABASE_URL="${SIE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/sie}"
export SIE_DATA_DIR="${SIE_DATA_DIR:-$PWD/.sie}"

json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(process.argv[1].split(".").reduce((o,k)=>o?.[k],v)??"")})' "$1"; }

./bin/sie db create >/dev/null
logs=$(mktemp -d -t sie-demo.XXXXXX)
pids=()
cleanup() {
  [ -n "${run_id:-}" ] && curl -s -X POST "$API/v1/runs/$run_id/stop" >/dev/null 2>&1 || true
  sleep 1
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo stopped (logs were in $logs)"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

./bin/sie camera "$SHARED/media/plaza-pedestrians.mp4" --port "$CAM_PORT" --mount cam >"$logs/camera.log" 2>&1 &
pids+=($!)
./bin/sie serve --port "$API_PORT" --rtsp-port "$RTSP_PORT" >"$logs/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "$API/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -sf "$API/readyz" >/dev/null || { echo "sie serve did not start:"; tail -20 "$logs/serve.log"; exit 1; }

# Runs of an earlier demo must not hold the 'live' mount.
for id in $(curl -sf "$API/v1/runs?client_id=demo" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const r of JSON.parse(s).runs??JSON.parse(s))if(!["stopped","failed","completed"].includes(r.state))console.log(r.id)})'); do
  curl -sf -X POST "$API/v1/runs/$id/stop" >/dev/null || true
done
sleep 1

model_id=$(curl -sf -F "file=@$SHARED/models/yolox_nano.onnx" -F "labels=@$SHARED/models/coco_classes.txt" \
  -F name=yolox-nano -F format=yolox "$API/v1/models" | json id)
config_id=$(curl -sf -H 'content-type: application/json' "$API/v1/configs" \
  -d "{\"name\":\"plaza\",\"client_id\":\"demo\",\"model_id\":\"$model_id\",\"inference\":{\"confidence\":0.35}}" | json id)
run_id=$(curl -sf -H 'content-type: application/json' "$API/v1/runs" \
  -d "{\"client_id\":\"demo\",\"config_id\":\"$config_id\",\"source_url\":\"rtsp://127.0.0.1:$CAM_PORT/cam\",\"output\":{\"mount\":\"live\"}}" | json id)

state=""
for _ in $(seq 1 100); do
  state=$(curl -sf "$API/v1/runs/$run_id" | json state)
  [ "$state" = running ] && break
  [ "$state" = failed ] && { curl -s "$API/v1/runs/$run_id"; echo; exit 1; }
  sleep 0.2
done
output_url=$(curl -sf "$API/v1/runs/$run_id" | json output_url)
cat <<MSG

  run $run_id is $state
  Annotated stream: $output_url
  Watch it with:    ffplay -rtsp_transport tcp $output_url
  API docs:         $API/docs
  Run status:       curl $API/v1/runs/$run_id
  Stop the demo:    Ctrl-C

MSG
wait "${pids[1]}"
