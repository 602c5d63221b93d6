#!/usr/bin/env bash
# make demo: PostgreSQL, a simulated camera on the plaza clip, `sie serve` (API + engine), then the shared
# model, a config with rules (scripts/demo-rules.json: a counting line across the walkway, a dwell zone at
# the meeting point, one on the parking) and a run created through the API — the way another service would
# do it. The run's events are printed as they happen, read from the API's SSE stream.
#
# Ctrl-C stops things in order: the run first (POST /stop, waited for until it is `stopped`), then `sie serve`
# (SIGTERM), then the camera. The camera and `sie serve` run in sessions of their own (setsid) so that the
# terminal's SIGINT reaches only this script: otherwise it would hit `sie serve` at the same moment as the
# stop request, and the engine would release the run (`running → pending`) before stopping it.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SIE_SHARED:-../shared}"
CAM_PORT="${SIE_CAMERA_PORT:-8555}"
RTSP_PORT="${SIE_RTSP_PORT:-8554}"
API_PORT="${SIE_API_PORT:-8000}"
API="http://127.0.0.1:$API_PORT"
export SIE_DATABASE_URL="${SIE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/sie}"
export SIE_DATA_DIR="${SIE_DATA_DIR:-$PWD/.sie}"

# Prints field $1 of the JSON on stdin; nothing (and status 1) when it is not JSON (the API did not answer).
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v;try{v=JSON.parse(s)}catch{process.exit(1)}console.log(process.argv[1].split(".").reduce((o,k)=>o?.[k],v)??"")})' "$1"; }
say() { echo "demo: $*"; }

./bin/sie db create >/dev/null
logs=$(mktemp -d -t sie-demo.XXXXXX)
camera_pid=""
serve_pid=""
events_pid=""
run_id=""

# Waits up to $2 tenths of a second for process $1 to end; true when it did.
ended() { for _ in $(seq 1 "$2"); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; ! kill -0 "$1" 2>/dev/null; }

cleanup() {
  trap '' INT TERM # a second Ctrl-C must not cut the clean-up short (it takes a few seconds)
  echo
  if [ -n "$events_pid" ]; then kill "$events_pid" 2>/dev/null || true; fi
  if [ -n "$run_id" ] && [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
    say "stopping run $run_id (POST /v1/runs/$run_id/stop)"
    curl -s -X POST "$API/v1/runs/$run_id/stop" >/dev/null 2>&1 || true
    state=""
    for _ in $(seq 1 100); do
      state=$(curl -sf "$API/v1/runs/$run_id" 2>/dev/null | json state || true)
      case "$state" in stopped | failed | completed) break ;; esac
      sleep 0.1
    done
    say "run $run_id is ${state:-unknown}"
  fi
  if [ -n "$serve_pid" ]; then
    say "stopping sie serve (SIGTERM)"
    kill -TERM "$serve_pid" 2>/dev/null || true
    ended "$serve_pid" 300 || { say "sie serve still draining after 30 s: SIGKILL"; kill -KILL "$serve_pid" 2>/dev/null || true; }
  fi
  if [ -n "$camera_pid" ]; then
    kill -TERM "$camera_pid" 2>/dev/null || true
    ended "$camera_pid" 50 || kill -KILL "$camera_pid" 2>/dev/null || true
  fi
  say "stopped (logs are in $logs)"
}
trap cleanup EXIT
trap 'exit 0' INT TERM
# A step that fails (the API refusing the model, say) ends the demo: say which one, and where the logs are.
trap 'say "failed: $BASH_COMMAND (line $LINENO; logs in $logs)"' ERR

setsid ./bin/sie camera "$SHARED/media/plaza-pedestrians.mp4" --port "$CAM_PORT" --mount cam >"$logs/camera.log" 2>&1 &
camera_pid=$!
setsid ./bin/sie serve --port "$API_PORT" --rtsp-port "$RTSP_PORT" >"$logs/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 100); do curl -sf "$API/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -sf "$API/readyz" >/dev/null || { say "sie serve did not start:"; tail -20 "$logs/serve.log"; exit 1; }

# Runs of an earlier demo must not hold the 'live' mount.
for id in $(curl -sf "$API/v1/runs?client_id=demo" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const r of JSON.parse(s).runs??JSON.parse(s))if(!["stopped","failed","completed"].includes(r.state))console.log(r.id)})'); do
  curl -sf -X POST "$API/v1/runs/$id/stop" >/dev/null || true
done
sleep 1

model_id=$(curl -sf -F "file=@$SHARED/models/yolox_nano.onnx" -F "labels=@$SHARED/models/coco_classes.txt" \
  -F name=yolox-nano -F format=yolox "$API/v1/models" | json id)
# The rules file is a config document as `sie replay --config` reads it; the API wants the model too.
config=$(node -e 'const c=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(JSON.stringify({...c,model_id:process.argv[2]}))' \
  scripts/demo-rules.json "$model_id")
config_id=$(curl -sf -H 'content-type: application/json' "$API/v1/configs" -d "$config" | json id)
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

  run $run_id is $state: the plaza camera with three rules (scripts/demo-rules.json)
    walkway        a counting line across the walkway: people crossing it, "in" right to left, "out" left to right
    meeting-point  a dwell zone around the "meeting point" sign: a person staying 5 s
    parked         a dwell zone on the parking: a vehicle staying 5 s
  The annotated stream draws the line with its in/out totals and each zone with its live count.

  Watch it:   ffplay -rtsp_transport tcp $output_url
              vlc $output_url        (or VLC: Media > Open Network Stream)
  Record it:  ffmpeg -rtsp_transport tcp -i $output_url -c copy -t 60 plaza-demo.mp4
  Events:     curl -N $API/v1/runs/$run_id/events/stream     (SSE; also GET $API/v1/runs/$run_id/events)
  Run:        curl $API/v1/runs/$run_id
  API docs:   $API/docs
  Stop:       Ctrl-C (stops the run, then sie serve, then the camera)

  Events as they happen (time, rule, event, object):
MSG
node scripts/demo-events.js "$API" "$run_id" &
events_pid=$!
# Until Ctrl-C, or until sie serve ends by itself (then its log says why).
while kill -0 "$serve_pid" 2>/dev/null; do sleep 0.5; done
say "sie serve exited; the end of its log:"
tail -20 "$logs/serve.log"
exit 1
