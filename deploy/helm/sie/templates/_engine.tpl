{{/*
One engine pool's Deployment. Called with a dict: root (the chart's context), pool ("cpu" or "gpu"),
replicas (nil: the count is KEDA's), maxRuns, capacityUnits, inferenceWorkers, executionProvider, image, resources,
nodeSelector, tolerations, affinity, podAnnotations, extraArgs, gpus (0: no nvidia.com/gpu limit).
*/}}
{{- define "sie.engineDeployment" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $e := $v.engine -}}
{{- $name := printf "%s-engine-%s" (include "sie.fullname" $root) .pool -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "sie.labels" $root | nindent 4 }}
    app.kubernetes.io/component: engine
    sie.dev/pool: {{ .pool }}
spec:
  {{- if not (kindIs "invalid" .replicas) }}
  replicas: {{ .replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "sie.selectorLabels" $root | nindent 6 }}
      app.kubernetes.io/component: engine
      sie.dev/pool: {{ .pool }}
  # A new engine is ready (registered, lease held) before an old one drains: capacity never drops.
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: {{ $e.rollout.maxSurge }}
  template:
    metadata:
      labels:
        {{- include "sie.selectorLabels" $root | nindent 8 }}
        app.kubernetes.io/component: engine
        sie.dev/pool: {{ .pool }}
      annotations:
        sie.dev/drain-seconds: {{ include "sie.engineDrainSeconds" $root | quote }}
        {{- with .podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "sie.serviceAccountName" $root }}
      # No token in the engine container, which parses untrusted video: the pod-deletion-cost sidecar, the
      # only one that calls the Kubernetes API, gets its own (kube-api-access, with podDeletionCost.enabled).
      automountServiceAccountToken: false
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      # SIGTERM starts the drain (runs released to pending, see values engine.drain); Kubernetes waits this
      # long before SIGKILL.
      terminationGracePeriodSeconds: {{ include "sie.engineGraceSeconds" $root }}
      securityContext:
        {{- toYaml $v.podSecurityContext | nindent 8 }}
      {{- with .nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "sie.selectorLabels" $root | nindent 14 }}
              app.kubernetes.io/component: engine
              sie.dev/pool: {{ .pool }}
      containers:
        - name: engine
          image: {{ .image | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          securityContext:
            {{- toYaml $v.containerSecurityContext | nindent 12 }}
          args:
            - engine
            - --max-runs={{ .maxRuns }}
            - --capacity={{ .capacityUnits | int64 }}
            - --pool={{ .pool }}
            - --poll-interval={{ $e.pollIntervalSeconds }}
            - --lease-ttl={{ $e.leaseTtlSeconds }}
            - --stall-timeout={{ $e.stallTimeoutSeconds }}
            - --rtsp-host=0.0.0.0
            - --rtsp-port={{ $e.rtspPort }}
            - --rtsp-max-connections={{ $e.rtspMaxConnections }}
            - --metrics-host=0.0.0.0
            - --metrics-port={{ $e.metricsPort }}
            # The pod's own address: where another engine's RTSP redirect sends a reader of a run held here (runs' output_url names the Service).
            - --advertise-host=$(POD_IP)
            - --inference-workers={{ .inferenceWorkers }}
            - --intra-op-threads={{ $e.intraOpThreads }}
            - --execution-provider={{ .executionProvider }}
            {{- with .extraArgs }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          env:
            - name: POD_IP
              valueFrom: { fieldRef: { fieldPath: status.podIP } }
            - name: POD_NAME
              valueFrom: { fieldRef: { fieldPath: metadata.name } }
            - name: POD_NAMESPACE
              valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
            {{- if $v.modelStore.existingClaim }}
            # The cache on the pod's own emptyDir, not on the shared claim (before sie.env: extraEnv may override it).
            - name: SIE_MODEL_CACHE_DIR
              value: {{ include "sie.engineCacheDir" $root | quote }}
            {{- end }}
            {{- include "sie.env" $root | nindent 12 }}
          ports:
            - name: rtsp
              containerPort: {{ $e.rtspPort }}
              protocol: TCP
            - name: metrics
              containerPort: {{ $e.metricsPort }}
              protocol: TCP
          startupProbe:
            httpGet: { path: /startupz, port: metrics }
            {{- toYaml $e.probes.startup | nindent 12 }}
          livenessProbe:
            httpGet: { path: /healthz, port: metrics }
            {{- toYaml $e.probes.liveness | nindent 12 }}
          readinessProbe:
            httpGet: { path: /readyz, port: metrics }
            {{- toYaml $e.probes.readiness | nindent 12 }}
          resources:
            {{- $res := deepCopy (default dict .resources) }}
            {{- if gt (int .gpus) 0 }}
            {{- $limits := merge (dict "nvidia.com/gpu" (int .gpus)) (default dict $res.limits) }}
            {{- $_ := set $res "limits" $limits }}
            {{- end }}
            {{- toYaml $res | nindent 12 }}
          volumeMounts:
            {{- include "sie.engineVolumeMounts" $root | nindent 12 }}
        {{- if $v.podDeletionCost.enabled }}
        # Keeps controller.kubernetes.io/pod-deletion-cost equal to the runs the engine holds.
        - name: pod-deletion-cost
          image: {{ .image | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          securityContext:
            {{- toYaml $v.containerSecurityContext | nindent 12 }}
          command: [node, /opt/sie/pod-deletion-cost.mjs]
          env:
            - name: POD_NAME
              valueFrom: { fieldRef: { fieldPath: metadata.name } }
            - name: POD_NAMESPACE
              valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
            - name: SIE_METRICS_URL
              value: "http://127.0.0.1:{{ $e.metricsPort }}/metrics"
            - name: SIE_COST_INTERVAL_S
              value: {{ $v.podDeletionCost.intervalSeconds | quote }}
            - name: NODE_EXTRA_CA_CERTS
              value: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
          resources:
            {{- toYaml $v.podDeletionCost.resources | nindent 12 }}
          volumeMounts:
            - name: pod-deletion-cost
              mountPath: /opt/sie
              readOnly: true
            # Where the script (and NODE_EXTRA_CA_CERTS above) read the token and the CA, as an automounted
            # token would be; mounted in this container only.
            - name: kube-api-access
              mountPath: /var/run/secrets/kubernetes.io/serviceaccount
              readOnly: true
        {{- end }}
      volumes:
        {{- include "sie.volumes" $root | nindent 8 }}
        {{- if $v.modelStore.existingClaim }}
        - name: model-cache
          emptyDir: {}
        {{- end }}
        {{- if $v.podDeletionCost.enabled }}
        - name: pod-deletion-cost
          configMap:
            name: {{ include "sie.fullname" $root }}-pod-deletion-cost
        # What automountServiceAccountToken would mount in every container: a bound token the kubelet
        # rotates (the script re-reads it at every patch), the cluster CA, the namespace.
        - name: kube-api-access
          projected:
            defaultMode: 0444
            sources:
              - serviceAccountToken:
                  path: token
                  expirationSeconds: 3600
              - configMap:
                  name: kube-root-ca.crt
                  items:
                    - key: ca.crt
                      path: ca.crt
              - downwardAPI:
                  items:
                    - path: namespace
                      fieldRef:
                        fieldPath: metadata.namespace
        {{- end }}
{{- end -}}
