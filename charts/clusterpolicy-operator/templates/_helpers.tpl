{{/* Chart name, at most 63 characters. */}}
{{- define "cpo.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Name of the operator's namespaced objects: the release name, or release-chart when the
release name does not already contain the chart name.
*/}}
{{- define "cpo.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of the cluster-scoped RBAC objects: unique per release namespace. */}}
{{- define "cpo.clusterName" -}}
{{- printf "%s-%s" (include "cpo.fullname" .) .Release.Namespace | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cpo.serviceAccountName" -}}
{{- .Values.operator.serviceAccount.name | default (include "cpo.fullname" .) -}}
{{- end -}}

{{/* Labels that select the operator's pods. */}}
{{- define "cpo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cpo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object the chart creates. */}}
{{- define "cpo.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cpo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: operator
{{- end -}}

{{/*
Image reference from a repository/image/version triple, the way the operator builds it:
repository/image:version, repository/image@version for a sha256: digest, or image alone
when repository and version are empty. Argument: a dict with those three keys.
*/}}
{{- define "cpo.imagePath" -}}
{{- $repository := .repository | default "" -}}
{{- $image := .image | default "" -}}
{{- $version := .version | default "" | toString -}}
{{- if and (not $repository) (not $version) -}}
{{- $image -}}
{{- else if hasPrefix "sha256:" $version -}}
{{- printf "%s/%s@%s" $repository $image $version -}}
{{- else -}}
{{- printf "%s/%s:%s" $repository $image $version -}}
{{- end -}}
{{- end -}}

{{/*
Copies the non-empty keys of .from (a values map) named in .keys into .to. Booleans are
copied whenever they are set, false included.
*/}}
{{- define "cpo.copyNonEmpty" -}}
{{- $from := .from -}}
{{- $to := .to -}}
{{- range $key := .keys -}}
{{- if hasKey $from $key -}}
{{- $value := index $from $key -}}
{{- if kindIs "bool" $value -}}
{{- $_ := set $to $key $value -}}
{{- else if not (empty $value) -}}
{{- $_ := set $to $key $value -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
