{{/* The prefix of every object's name: the release name, with the chart's
name added unless the release already carries it. */}}
{{- define "emo.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "emo.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "emo.labels" -}}
{{ include "emo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "emo.serviceAccountName" -}}
{{ include "emo.fullname" . }}-controller-manager
{{- end -}}

{{- define "emo.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* The namespaces the manager reads Secrets from: its own first, then the
extra ones (its own is where the key sealing recorded roles lives). */}}
{{- define "emo.secretNamespaces" -}}
{{- $out := list .Release.Namespace -}}
{{- range .Values.secretNamespaces -}}
{{- if ne . $.Release.Namespace -}}{{- $out = append $out . -}}{{- end -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{/* The rules controller-gen wrote for the manager (config/rbac/role.yaml,
copied into files/ by `make manifests`): the ClusterRole's with "cluster",
the namespaced Role's with "namespace". */}}
{{- define "emo.generatedRules" -}}
{{- $want := ternary "ClusterRole" "Role" (eq .scope "cluster") -}}
{{- range $doc := splitList "\n---\n" (.root.Files.Get "files/manager-role.yaml") -}}
{{- $obj := fromYaml $doc -}}
{{- if eq $obj.kind $want -}}
{{- toYaml $obj.rules -}}
{{- end -}}
{{- end -}}
{{- end -}}
