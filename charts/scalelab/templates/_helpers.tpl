{{/*
Prefix of every object name: "scalelab" unless fullnameOverride. Names carry no release prefix, so
they match what the ScaleLab desktop app's Kubernetes runtime creates (one stack per namespace).
*/}}
{{- define "scalelab.fullname" -}}
{{- default .Chart.Name .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- end }}

{{/* The stack name: the release name, as the app's stack name S. */}}
{{- define "scalelab.stack" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels (a component label follows them at each use). */}}
{{- define "scalelab.selectorLabels" -}}
app.kubernetes.io/name: scalelab
app.kubernetes.io/instance: {{ include "scalelab.stack" . }}
{{- end }}

{{/* Pod template labels: the selector labels, the ownership mark and part-of. */}}
{{- define "scalelab.podLabels" -}}
{{ include "scalelab.selectorLabels" . }}
app.kubernetes.io/part-of: scalelab
scalelab.stack: {{ include "scalelab.stack" . }}
{{- end }}

{{/* Labels of every object; scalelab.stack is the mark chaos and cleanup look for. */}}
{{- define "scalelab.labels" -}}
{{ include "scalelab.podLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The api and worker image. */}}
{{- define "scalelab.serviceImage" -}}
{{- default (printf "scalelab/service:%s" .Chart.AppVersion) .Values.images.service }}
{{- end }}

{{/* Name of the Secret holding the password, the token and the stores' URLs. */}}
{{- define "scalelab.secretName" -}}
{{- printf "%s-secrets" (include "scalelab.fullname" .) }}
{{- end }}

{{/* env entries of the api and worker: the stores' URLs, from the Secret. */}}
{{- define "scalelab.secretEnv" -}}
{{- $secret := include "scalelab.secretName" . -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: DATABASE_URL
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: REDIS_URL
{{- end }}

{{/* env entries of the api and worker: the data-layer patterns. */}}
{{- define "scalelab.dataEnv" -}}
- name: USERS_PARTITIONS
  value: {{ .Values.data.partitions | toString | quote }}
- name: EVENTS
  value: {{ .Values.data.events | toString | quote }}
{{- if .Values.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.tracing.otlpEndpoint | quote }}
{{- end }}
{{- end }}

{{/*
Resources of the api or worker container, given (list <resources> <cpu>): a cpu (the app's
resources.<service>.cpu) is both the request and the limit, so the kubelet enforces it and the
HPA divides by it; the memory settings stay. An empty cpu keeps <resources> as they are.
*/}}
{{- define "scalelab.resources" -}}
{{- $resources := index . 0 -}}
{{- $cpu := index . 1 -}}
{{- if $cpu }}
requests:
  cpu: {{ $cpu | toString | quote }}
  {{- with $resources.requests }}{{ with .memory }}
  memory: {{ . | toString | quote }}
  {{- end }}{{ end }}
limits:
  cpu: {{ $cpu | toString | quote }}
  {{- with $resources.limits }}{{ with .memory }}
  memory: {{ . | toString | quote }}
  {{- end }}{{ end }}
{{- else }}
{{ toYaml $resources }}
{{- end }}
{{- end }}
