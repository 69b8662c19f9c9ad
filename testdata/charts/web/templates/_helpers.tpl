{{- define "web.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "web.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/*
web.image renders an image map as Bitnami's common.images.image does:
registry (global.imageRegistry wins), repository, then @digest if set,
else :tag (the chart's appVersion by default).
*/}}
{{- define "web.image" -}}
{{- $image := index . 0 -}}
{{- $root := index . 1 -}}
{{- $registry := default $image.registry $root.Values.global.imageRegistry -}}
{{- $tag := default $root.Chart.AppVersion (toString $image.tag) -}}
{{- if $image.digest -}}
{{- printf "%s/%s:%s@%s" $registry $image.repository $tag $image.digest -}}
{{- else -}}
{{- printf "%s/%s:%s" $registry $image.repository $tag -}}
{{- end -}}
{{- end -}}
