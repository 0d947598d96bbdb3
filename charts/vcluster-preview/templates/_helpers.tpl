{{/* Names and labels shared by the templates. */}}

{{- define "vcp.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "vcp.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | quote }}
{{- end -}}

{{/* Selector of one component (web, worker, redis): stable across upgrades. */}}
{{- define "vcp.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "vcp.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "vcp.githubSecretName" -}}
{{- default (printf "%s-github" (include "vcp.fullname" .)) .Values.github.existingSecret -}}
{{- end -}}

{{/* The Secret holding the status page's `user:password` (key `auth`); empty when the page is open. */}}
{{- define "vcp.statusPageSecretName" -}}
{{- $auth := .Values.statusPage.auth -}}
{{- if $auth.existingSecret -}}
{{- $auth.existingSecret -}}
{{- else if or $auth.username $auth.password -}}
{{- if not (and $auth.username $auth.password) -}}
{{- fail "statusPage.auth needs both username and password (or existingSecret)" -}}
{{- end -}}
{{- printf "%s-status-page" (include "vcp.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "vcp.redisSecretName" -}}
{{- if .Values.redis.existingSecret -}}
{{- .Values.redis.existingSecret -}}
{{- else -}}
{{- printf "%s-redis-url" (include "vcp.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "vcp.redisUrl" -}}
{{- if .Values.redis.bundled -}}
{{- printf "redis://%s-redis:6379/0" (include "vcp.fullname" .) -}}
{{- else -}}
{{- .Values.redis.url -}}
{{- end -}}
{{- end -}}

{{/* Pod and container security: non-root, read-only root file system, no privileges (restricted). */}}
{{- define "vcp.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "vcp.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* The environment web and worker share: the App, Redis, the previews. */}}
{{- /* Where the host Secrets previews may copy are read: the value, else the release's namespace. */}}
{{- define "vcp.hostSecretsNamespace" -}}
{{ .Values.hostSecrets.namespace | default .Release.Namespace }}
{{- end -}}

{{- define "vcp.env" -}}
- name: APP_ID
  value: {{ .Values.github.appId | quote }}
- name: PRIVATE_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "vcp.githubSecretName" . }}
      key: private-key
- name: WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "vcp.githubSecretName" . }}
      key: webhook-secret
{{- with .Values.github.enterpriseHost }}
- name: GHE_HOST
  value: {{ . | quote }}
{{- end }}
- name: REDIS_URL
{{- if or .Values.redis.bundled (not .Values.redis.existingSecret) }}
  value: {{ include "vcp.redisUrl" . | quote }}
{{- else }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret }}
      key: url
{{- end }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: PORT
  value: "8080"
- name: BASE_DOMAIN
  value: {{ .Values.previews.baseDomain | quote }}
- name: PREVIEW_URL_SCHEME
  value: {{ .Values.previews.urlScheme | quote }}
{{- with .Values.previews.urlPort }}
- name: PREVIEW_URL_PORT
  value: {{ . | quote }}
{{- end }}
{{- with .Values.previews.ingressClassName }}
- name: PREVIEW_INGRESS_CLASS
  value: {{ . | quote }}
{{- end }}
- name: PREVIEW_POD_SECURITY
  value: {{ .Values.previews.podSecurity | quote }}
- name: PREVIEW_POD_SECURITY_MAX
  value: {{ .Values.previews.podSecurityMax | quote }}
{{- with .Values.previews.allowedCsiDrivers }}
- name: PREVIEW_ALLOW_CSI_DRIVERS
  value: {{ join "," . | quote }}
{{- end }}
{{- with .Values.previews.storeLimitMiB }}
- name: PREVIEW_STORE_LIMIT_MIB
  value: {{ . | quote }}
{{- end }}
{{- with .Values.previews.allowedStorageClasses }}
- name: PREVIEW_ALLOW_STORAGE_CLASSES
  value: {{ join "," . | quote }}
{{- end }}
- name: VCLUSTER_PROVIDER
  value: kubernetes
{{- /* Where the service is reached: the value, else the URL the Ingress serves. */}}
{{- $publicUrl := .Values.publicUrl | default (ternary (printf "https://%s" .Values.ingress.host) "" (and .Values.ingress.enabled (ne .Values.ingress.host ""))) }}
{{- with $publicUrl }}
- name: PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.trafficMetricsUrl }}
- name: PREVIEW_TRAFFIC_METRICS_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.api.audience }}
- name: API_AUDIENCE
  value: {{ . | quote }}
{{- end }}
- name: SWEEP_INTERVAL
  value: {{ .Values.previews.sweepInterval | quote }}
{{- with .Values.previews.wakerAddress }}
- name: PREVIEW_WAKER_ADDRESS
  value: {{ . | quote }}
{{- end }}
- name: PREVIEW_WAKE_TIMEOUT
  value: {{ .Values.previews.wakeTimeout | quote }}
{{- if gt (int .Values.previews.maxPreviews) 0 }}
- name: MAX_PREVIEWS
  value: {{ .Values.previews.maxPreviews | quote }}
{{- end }}
{{- if gt (int .Values.previews.maxPreviewsPerInstallation) 0 }}
- name: MAX_PREVIEWS_PER_INSTALLATION
  value: {{ .Values.previews.maxPreviewsPerInstallation | quote }}
{{- end }}
{{- with .Values.hostSecrets.allow }}
- name: PREVIEW_HOST_SECRETS
  value: {{ toJson . | quote }}
- name: PREVIEW_HOST_SECRETS_NAMESPACE
  value: {{ include "vcp.hostSecretsNamespace" $ | quote }}
{{- end }}
- name: VCLUSTER_VALUES_FILE
  value: /etc/vcluster-preview/vcluster-values.yaml
# Temporary files (helm's values files, kubeconfigs) and helm's cache on the emptyDir: the root
# file system is read-only.
- name: TMPDIR
  value: /tmp
- name: HOME
  value: /tmp
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "vcp.volumes" -}}
- name: tmp
  emptyDir: {}
- name: settings
  configMap:
    name: {{ include "vcp.fullname" . }}
{{- end -}}

{{- define "vcp.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: settings
  mountPath: /etc/vcluster-preview
  readOnly: true
{{- end -}}
