{{/*
Shared names and labels. The release name is the virtual cluster's name.
*/}}

{{- define "vcluster.name" -}}
{{- .Release.Name -}}
{{- end -}}

{{/* Labels every object of the chart carries. */}}
{{- define "vcluster.labels" -}}
app: vcluster
release: {{ .Release.Name | quote }}
app.kubernetes.io/name: vcluster
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
app.kubernetes.io/part-of: vcluster-preview
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | quote }}
{{- end -}}

{{/* The control plane pod's selector: stable across upgrades (selectors are immutable). */}}
{{- define "vcluster.selectorLabels" -}}
app: vcluster
release: {{ .Release.Name | quote }}
{{- end -}}

{{/* Host pods of this virtual cluster's workloads carry this label (set by the syncer). */}}
{{- define "vcluster.workloadSelector" -}}
vcluster.loft.sh/managed-by: {{ .Release.Name | quote }}
{{- end -}}

{{- define "vcluster.serviceAccountName" -}}
{{- printf "vc-%s" .Release.Name -}}
{{- end -}}

{{- define "vcluster.workloadServiceAccountName" -}}
{{- printf "vc-workload-%s" .Release.Name -}}
{{- end -}}

{{/* Secret the syncer writes the users' kubeconfig to (not created by the chart). */}}
{{- define "vcluster.kubeconfigSecretName" -}}
{{- printf "vc-%s" .Release.Name -}}
{{- end -}}

{{/* Secret the pki init container keeps the certificates and keys in (not created by the chart). */}}
{{- define "vcluster.pkiSecretName" -}}
{{- printf "vc-%s-pki" .Release.Name -}}
{{- end -}}

{{- define "vcluster.corednsConfigMapName" -}}
{{- printf "%s-coredns" .Release.Name -}}
{{- end -}}

{{/* Cluster-scoped names must not collide between releases of the same name in two namespaces. */}}
{{- define "vcluster.clusterRoleName" -}}
{{- printf "vc-%s-v-%s" .Release.Name .Release.Namespace | trunc 253 -}}
{{- end -}}

{{- define "vcluster.syncerImage" -}}
{{- printf "%s:%s" .Values.syncer.image.repository (.Values.syncer.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "vcluster.image" -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}

{{/*
Names and addresses in the API server's serving certificate, comma-separated (pki --hosts).
The Service's ClusterIP is added at run time by the pki command (--service).
*/}}
{{- define "vcluster.certificateHosts" -}}
{{- $name := .Release.Name -}}
{{- $ns := .Release.Namespace -}}
{{- $hosts := list $name (printf "%s.%s" $name $ns) (printf "%s.%s.svc" $name $ns) (printf "%s.%s.svc.cluster.local" $name $ns) (printf "%s-headless" $name) (printf "%s-headless.%s" $name $ns) (printf "%s-headless.%s.svc" $name $ns) "localhost" "127.0.0.1" "kubernetes" "kubernetes.default" "kubernetes.default.svc" "kubernetes.default.svc.cluster.local" -}}
{{- if and .Values.exposure.ingress.enabled .Values.exposure.ingress.host -}}
{{- $hosts = append $hosts .Values.exposure.ingress.host -}}
{{- end -}}
{{- $hosts = concat $hosts .Values.pki.extraSANs | uniq -}}
{{- join "," $hosts -}}
{{- end -}}

{{/* Checks of combinations the schema cannot express, with messages that say what to do. */}}
{{- define "vcluster.validate" -}}
{{- if gt (len .Release.Name) 53 -}}
{{- fail (printf "release name %q is %d characters long: a virtual cluster's name may have at most 53 (Service %s-headless must fit in 63)" .Release.Name (len .Release.Name) .Release.Name) -}}
{{- end -}}
{{- if not (regexMatch "^[a-z]([a-z0-9-]*[a-z0-9])?$" .Release.Name) -}}
{{- fail (printf "release name %q must be a DNS-1035 label (lower case letters, digits and '-', starting with a letter): it names Services" .Release.Name) -}}
{{- end -}}
{{- if and .Values.exposure.ingress.enabled (not .Values.exposure.ingress.host) -}}
{{- fail "exposure.ingress.enabled is true but exposure.ingress.host is empty: set the API server's host name, e.g. --set exposure.ingress.host=api.pr-42.preview.example.com" -}}
{{- end -}}
{{- if and (not (kindIs "invalid" .Values.exposure.nodePort)) (ne .Values.exposure.type "NodePort") -}}
{{- fail (printf "exposure.nodePort is set but exposure.type is %s: node ports only apply to exposure.type=NodePort" .Values.exposure.type) -}}
{{- end -}}
{{- end -}}
