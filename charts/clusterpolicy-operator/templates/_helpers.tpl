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

{{/* The operator's ServiceAccount: clusterpolicyOperator.serviceAccount.name or the full name. */}}
{{- define "cpo.serviceAccountName" -}}
{{- .Values.clusterpolicyOperator.serviceAccount.name | default (include "cpo.fullname" .) -}}
{{- end -}}

{{/* Labels that select the operator's pods. */}}
{{- define "cpo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cpo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
Labels of every object the chart creates: the chart's own, then operator.labels (as in
NVIDIA's chart). A user label never replaces one of the chart's.
*/}}
{{- define "cpo.labels" -}}
{{- $labels := dict
      "helm.sh/chart" (printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-")
      "app.kubernetes.io/name" (include "cpo.name" .)
      "app.kubernetes.io/instance" .Release.Name
      "app.kubernetes.io/version" .Chart.AppVersion
      "app.kubernetes.io/managed-by" .Release.Service
      "app.kubernetes.io/component" "operator" -}}
{{- toYaml (merge $labels (.Values.operator.labels | default dict)) -}}
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
Copies into .to each key of .keys that is truthy in .from (a non-empty string, list or
map; true), the way NVIDIA's chart writes a key only `if` it is set.
*/}}
{{- define "cpo.copySet" -}}
{{- $from := .from | default dict -}}
{{- $to := .to -}}
{{- range $key := .keys -}}
{{- $value := index $from $key -}}
{{- if $value -}}
{{- $_ := set $to $key $value -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
spec.devicePlugin or spec.gfd from its values, as NVIDIA's chart writes them: enabled
always; repository, image, version, imagePullPolicy, imagePullSecrets, resources, env
and args when set. Arguments: .values (the section) and .out (the dict to fill).
*/}}
{{- define "cpo.componentSpec" -}}
{{- $values := .values | default dict -}}
{{- $_ := set .out "enabled" (ternary $values.enabled true (kindIs "bool" $values.enabled)) -}}
{{- $_ := include "cpo.copySet" (dict "from" $values "to" .out "keys" (list "repository" "image" "imagePullPolicy" "imagePullSecrets" "resources" "env" "args")) -}}
{{- if $values.version -}}
{{- $_ := set .out "version" ($values.version | toString) -}}
{{- end -}}
{{- end -}}

{{/*
Fails on the keys this chart's operator Deployment had under `operator:` before they
moved to `clusterpolicyOperator:` (NVIDIA's chart has none of them), so that an old
values file is not silently ignored.
*/}}
{{- define "cpo.checkMovedKeys" -}}
{{- $moved := dict
      "createClusterPolicy" "clusterPolicy.deployCR"
      "replicas" "clusterpolicyOperator.replicas"
      "logFormat" "clusterpolicyOperator.logFormat"
      "rolloutDeadline" "clusterpolicyOperator.rolloutDeadline"
      "devicePluginImage" "clusterpolicyOperator.devicePluginImage"
      "gfdImage" "clusterpolicyOperator.gfdImage"
      "serviceAccount" "clusterpolicyOperator.serviceAccount"
      "podLabels" "clusterpolicyOperator.podLabels"
      "podAnnotations" "clusterpolicyOperator.podAnnotations" -}}
{{- range $key := keys $moved | sortAlpha -}}
{{- if hasKey $.Values.operator $key -}}
{{- fail (printf "operator.%s is not a key of this chart any more: use %s (operator: holds NVIDIA's ClusterPolicy spec.operator keys)" $key (index $moved $key)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
