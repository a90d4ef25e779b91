node bin/panoptes.js run configs/dashcam.yaml --no-realtime --max-frames 150 --events out/perf.jsonl --port 8097 2>&1 | tail -1; python3 - <<'PY'
import json, statistics
recs=[json.loads(l) for l in open('/work/main/out/perf.jsonl')][10:]
keys=recs[0]['timings'].keys()
print({k: round(statistics.median(r['timings'][k] for r in recs),1) for k in keys}, 'latency p50', statistics.median(r['latencyMs'] for r in recs))
PY
