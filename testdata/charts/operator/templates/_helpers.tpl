{{- define "operator.image" -}}
{{- $tag := default $.Chart.AppVersion .image.tag -}}
{{- printf "%s/%s:%s" .image.registry .image.repository $tag -}}
{{- end -}}
