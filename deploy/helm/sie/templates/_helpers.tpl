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

{{/* The runs the CPU pool must carry, as a condition on runs r, the same for both KEDA triggers: unfinished,
not a pending run asked to stop (it is never claimed, it only waits to be marked stopped), and asking for
no pool or for cpu. */}}
{{- define "sie.kedaRunsWhere" -}}
r.state NOT IN ('stopped', 'failed', 'completed') AND NOT (r.state = 'pending' AND r.stop_requested_at IS NOT NULL) AND (r.pool IS NULL OR r.pool = 'cpu')
{{- end -}}

{{/* The KEDA cost trigger's load, in cost units: the summed cost of those runs, less the GPU pool's fixed
capacity. */}}
{{- define "sie.kedaCostQuery" -}}
{{- $gpuCapacity := 0 -}}
{{- if .Values.gpu.enabled -}}{{- $gpuCapacity = mul (int .Values.gpu.replicas) (int .Values.gpu.capacityUnits) -}}{{- end -}}
SELECT GREATEST(0, COALESCE(sum(c.cost), 0) - {{ $gpuCapacity }}) FROM runs r JOIN run_costs c ON c.run_id = r.id WHERE {{ include "sie.kedaRunsWhere" . }}
{{- end -}}

{{/* The KEDA runs trigger's load: how many of those runs there are (an engine holds at most --max-runs). */}}
{{- define "sie.kedaRunsQuery" -}}
SELECT count(*) FROM runs r WHERE {{ include "sie.kedaRunsWhere" . }}
{{- end -}}
