{{/* Names, labels and the values several templates derive from. */}}

{{- define "sie.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sie.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "sie.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sie.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sie.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sie.image" -}}
{{- printf "%s:%s" .repository (toString .tag) -}}
{{- end -}}

{{/*
The engine's drain, in seconds: the longest it can take between SIGTERM and its exit. The engine waits at
most drain.releaseTimeoutSeconds for the release; past --lease-ttl the other engines reclaim the runs anyway,
so waiting max(release, lease TTL) also means a pod killed at the end has no lease left to wait out.
*/}}
{{- define "sie.engineDrainSeconds" -}}
{{- $e := .Values.engine -}}
{{- add (max (int $e.drain.releaseTimeoutSeconds) (int (ceil $e.leaseTtlSeconds))) (int $e.drain.closeMarginSeconds) -}}
{{- end -}}

{{/* terminationGracePeriodSeconds of an engine pod: the drain, or a longer value given in values. */}}
{{- define "sie.engineGraceSeconds" -}}
{{- $drain := int (include "sie.engineDrainSeconds" .) -}}
{{- $given := .Values.engine.terminationGracePeriodSeconds -}}
{{- if kindIs "invalid" $given -}}
{{- $drain -}}
{{- else if lt (int $given) $drain -}}
{{- fail (printf "engine.terminationGracePeriodSeconds: %d is shorter than the engine's drain (%d s = max(engine.drain.releaseTimeoutSeconds, engine.leaseTtlSeconds) + engine.drain.closeMarginSeconds): Kubernetes would kill engines before their runs are released" (int $given) $drain) -}}
{{- else -}}
{{- int $given -}}
{{- end -}}
{{- end -}}

{{/* The environment every sie container gets: the database URL from its Secret, never as a literal. */}}
{{- define "sie.env" -}}
- name: SIE_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret: the name of the Secret holding SIE_DATABASE_URL" .Values.database.existingSecret }}
      key: {{ required "database.secretKey: the key of the URL in that Secret" .Values.database.secretKey }}
- name: SIE_DATA_DIR
  value: {{ .Values.modelStore.mountPath | quote }}
- name: SIE_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: SIE_LOG_FORMAT
  value: json
{{- with .Values.mediaRoot }}
- name: SIE_MEDIA_ROOT
  value: {{ . | quote }}
{{- end }}
{{- include "sie.s3Env" . }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The S3 store's settings (modelStore.s3), on the API and every engine alike; nothing when url is empty.
Credentials only as secretKeyRefs: a value here would be readable by anyone who can read the Deployment. */}}
{{- define "sie.s3Env" -}}
{{- $s3 := .Values.modelStore.s3 -}}
{{- if $s3.url }}
- name: SIE_MODEL_S3_URL
  value: {{ $s3.url | quote }}
{{- with $s3.endpoint }}
- name: SIE_S3_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: SIE_S3_REGION
  value: {{ $s3.region | default "us-east-1" | quote }}
- name: SIE_S3_FORCE_PATH_STYLE
  value: {{ ternary "true" "false" (eq (toString $s3.forcePathStyle) "true") | quote }}
- name: SIE_MODEL_S3_MIN_BYTES
  value: {{ $s3.minBytes | int64 | quote }}
{{- with $s3.credentialsSecret }}
{{- if .name }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ required "modelStore.s3.credentialsSecret.accessKeyIdKey: the key of the access key id in that Secret" .accessKeyIdKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ required "modelStore.s3.credentialsSecret.secretAccessKeyKey: the key of the secret access key in that Secret" .secretAccessKeyKey }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "sie.volumes" -}}
- name: models
{{- if .Values.modelStore.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.modelStore.existingClaim }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "sie.volumeMounts" -}}
- name: models
  mountPath: {{ .Values.modelStore.mountPath }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Where an engine keeps its model cache when modelStore.existingClaim is mounted at SIE_DATA_DIR: a
directory of the pod's own (an emptyDir), never the claim, which every API and engine pod mounts. */}}
{{- define "sie.engineCacheDir" -}}
/model-cache
{{- end -}}

{{/* An engine container's mounts: with modelStore.existingClaim, the claim read-only (an engine writes
nothing to SIE_DATA_DIR but its cache; it only reads models uploaded before the database store, at
<SIE_DATA_DIR>/<file_path>) and its cache on the pod's own emptyDir (SIE_MODEL_CACHE_DIR, set in _engine.tpl):
engines sharing one cache directory would evict each other's files. Without a claim, the emptyDir at
SIE_DATA_DIR is already the pod's own. */}}
{{- define "sie.engineVolumeMounts" -}}
- name: models
  mountPath: {{ .Values.modelStore.mountPath }}
{{- if .Values.modelStore.existingClaim }}
  readOnly: true
- name: model-cache
  mountPath: {{ include "sie.engineCacheDir" . }}
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The runs the CPU pool must carry, as a condition on runs r, the same for both KEDA triggers: unfinished,
not a pending run asked to stop (it is never claimed, it only waits to be marked stopped), and asking for
no pool or for cpu. With the GPU pool, not those a live GPU engine holds: they need no CPU engine (the GPU
pool's room is subtracted below as what is left free, so counting them too would count them twice). A dead
engine's runs do count: they go back to pending when reclaimed. */}}
{{- define "sie.kedaRunsWhere" -}}
r.state NOT IN ('stopped', 'failed', 'completed') AND NOT (r.state = 'pending' AND r.stop_requested_at IS NOT NULL) AND (r.pool IS NULL OR r.pool = 'cpu')
{{- if .Values.gpu.enabled }} AND NOT EXISTS (SELECT 1 FROM engines g WHERE g.id = r.engine_id AND g.pool = 'gpu' AND g.lease_expires_at > now()){{ end }}
{{- end -}}

{{/* What a GPU engine holds (the states the engines' claim counts as held, src/io/db/sql/claimRuns.ts). */}}
{{- define "sie.kedaHeldStates" -}}
('starting', 'connecting', 'running', 'retrying', 'stopping')
{{- end -}}

{{/* The room the GPU pool has left for the runs above, as a scalar subquery: over the GPU engines alive now
(lease_expires_at ahead; a Pending, crash-looping or deleted pod has no row or a lapsed one), each engine's
free room, `free` of one engine, clamped at 0 (one can hold more than its room: an empty engine takes a run
larger than its capacity), less what pending runs asking for the GPU pool will take of it first (they can
go nowhere else). Called with a dict: free (SQL over engines e: one engine's room), pending (an aggregate
over runs p, the pending gpu runs: what they take). */}}
{{- define "sie.kedaGpuFree" -}}
(SELECT GREATEST(0, COALESCE(sum(GREATEST(0, {{ .free }})), 0) - (SELECT {{ .pending }} FROM runs p WHERE p.pool = 'gpu' AND p.state = 'pending' AND p.stop_requested_at IS NULL)) FROM engines e WHERE e.pool = 'gpu' AND e.lease_expires_at > now())
{{- end -}}

{{/* The KEDA cost trigger's load, in cost units: the summed cost of those runs, less the GPU pool's free
room in cost units (capacity_units less the cost its engine holds, run_costs). */}}
{{- define "sie.kedaCostQuery" -}}
{{- if .Values.gpu.enabled -}}
{{- $free := printf "e.capacity_units - (SELECT COALESCE(sum(h.cost), 0) FROM run_costs h WHERE h.engine_id = e.id AND h.state IN %s)" (include "sie.kedaHeldStates" .) -}}
{{- $pending := "COALESCE(sum((SELECT q.cost FROM run_costs q WHERE q.run_id = p.id)), 0)" -}}
SELECT GREATEST(0, COALESCE(sum(c.cost), 0) - {{ include "sie.kedaGpuFree" (dict "free" $free "pending" $pending) }}) FROM runs r JOIN run_costs c ON c.run_id = r.id WHERE {{ include "sie.kedaRunsWhere" . }}
{{- else -}}
SELECT COALESCE(sum(c.cost), 0) FROM runs r JOIN run_costs c ON c.run_id = r.id WHERE {{ include "sie.kedaRunsWhere" . }}
{{- end -}}
{{- end -}}

{{/* The KEDA runs trigger's load: how many of those runs there are (an engine holds at most --max-runs),
less the GPU pool's free slots (max_runs less the runs its engine holds). */}}
{{- define "sie.kedaRunsQuery" -}}
{{- if .Values.gpu.enabled -}}
{{- $free := printf "e.max_runs - (SELECT count(*) FROM runs h WHERE h.engine_id = e.id AND h.state IN %s)" (include "sie.kedaHeldStates" .) -}}
SELECT GREATEST(0, count(*) - {{ include "sie.kedaGpuFree" (dict "free" $free "pending" "count(*)") }}) FROM runs r WHERE {{ include "sie.kedaRunsWhere" . }}
{{- else -}}
SELECT count(*) FROM runs r WHERE {{ include "sie.kedaRunsWhere" . }}
{{- end -}}
{{- end -}}
