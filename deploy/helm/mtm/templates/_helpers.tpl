{{/*
The five services, in a fixed order (the keys of .Values.services).
*/}}
{{- define "mtm.serviceNames" -}}
gateway identity-svc tenancy-svc rbac-svc rooms-svc
{{- end -}}

{{/* Backends: every service but the gateway. */}}
{{- define "mtm.isBackend" -}}
{{- if ne . "gateway" }}true{{ end -}}
{{- end -}}

{{/* Labels shared by every object. */}}
{{- define "mtm.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mtm
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Labels of one service's objects. Call with (dict "root" $ "name" $name). */}}
{{- define "mtm.labels" -}}
{{ include "mtm.commonLabels" .root }}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* Selector labels of one service's pods. Call with (dict "root" $ "name" $name). */}}
{{- define "mtm.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* spiffe://<trustDomain>/<service>. Call with (dict "root" $ "name" $name). */}}
{{- define "mtm.spiffeId" -}}
spiffe://{{ .root.Values.trustDomain }}/{{ .name }}
{{- end -}}

{{/* The environment variable that carries a backend's URL: identity-svc -> MTM_IDENTITY_URL. */}}
{{- define "mtm.urlVar" -}}
MTM_{{ . | trimSuffix "-svc" | upper | replace "-" "_" }}_URL
{{- end -}}

{{/* https://<service>:<port>: the host is a DNS name in the service's certificate. */}}
{{- define "mtm.url" -}}
{{- $svc := index .root.Values.services .name -}}
https://{{ .name }}:{{ $svc.port }}
{{- end -}}

{{/* The image of a service. Call with (dict "root" $ "name" $name). */}}
{{- define "mtm.image" -}}
{{- $img := .root.Values.image -}}
{{- if $img.digest -}}
{{ $img.repository }}/{{ .name }}@{{ $img.digest }}
{{- else -}}
{{ $img.repository }}/{{ .name }}:{{ default .root.Chart.AppVersion $img.tag }}
{{- end -}}
{{- end -}}

{{/* The path of the CA file the services trust (MTM_TLS_CA). */}}
{{- define "mtm.caPath" -}}
{{- if .Values.tls.trustBundle.configMapName -}}
/etc/mtm/trust/{{ .Values.tls.trustBundle.key }}
{{- else -}}
{{ .Values.tls.mountPath }}/ca.crt
{{- end -}}
{{- end -}}

{{/* The Issuer reference for the service certificates. */}}
{{- define "mtm.issuerRef" -}}
{{- $cm := .Values.certManager -}}
{{- if eq $cm.issuerMode "external" -}}
name: {{ $cm.issuerRef.name }}
kind: {{ $cm.issuerRef.kind }}
group: {{ $cm.issuerRef.group }}
{{- else -}}
name: mtm-ca
kind: Issuer
group: cert-manager.io
{{- end -}}
{{- end -}}

{{/* The Secret and key holding a stateful service's database URL (or rooms-svc's template). */}}
{{- define "mtm.databaseSecret" -}}
{{- $svc := index .root.Values.services .name -}}
{{- $db := ternary $svc.stores $svc.database (eq .name "rooms-svc") -}}
{{- if $db.existingSecret -}}
name: {{ $db.existingSecret }}
key: {{ $db.existingSecretKey }}
{{- else -}}
name: {{ .name }}-database
key: {{ ternary "url-template" "url" (eq .name "rooms-svc") }}
{{- end -}}
{{- end -}}

{{/* How many replicas a service runs (for the spread constraints and the PDB). */}}
{{- define "mtm.replicas" -}}
{{- $svc := index .root.Values.services .name -}}
{{- if and $svc.autoscaling $svc.autoscaling.enabled -}}
{{ $svc.autoscaling.minReplicas }}
{{- else -}}
{{ $svc.replicas }}
{{- end -}}
{{- end -}}

{{/*
Checks the call graph: every service's `callers` and `upstreams` are those of callgraph.json (the
mtm-callgraph table the binaries enforce per method, written by its tests), and a service that
calls another must be on that service's allow-list (MTM_ALLOWED_PEERS and the NetworkPolicy are
both derived from `callers`).
*/}}
{{- define "mtm.checkCallGraph" -}}
{{- $root := . -}}
{{- $graph := (.Files.Get "callgraph.json" | fromJson).services -}}
{{- if not $graph }}
{{- fail "callgraph.json is missing from the chart (cargo test -p mtm-callgraph writes it)" }}
{{- end }}
{{- range $name := splitList " " (include "mtm.serviceNames" $root) }}
{{- $svc := index $root.Values.services $name }}
{{- $edges := index $graph $name }}
{{- if ne (sortAlpha $svc.callers | join ",") (sortAlpha $edges.callers | join ",") }}
{{- fail (printf "services.%s.callers is %v, but the call graph (callgraph.json) has %v" $name $svc.callers $edges.callers) }}
{{- end }}
{{- if ne (sortAlpha $svc.upstreams | join ",") (sortAlpha $edges.upstreams | join ",") }}
{{- fail (printf "services.%s.upstreams is %v, but the call graph (callgraph.json) has %v" $name $svc.upstreams $edges.upstreams) }}
{{- end }}
{{- range $up := $svc.upstreams }}
{{- if not (hasKey $root.Values.services $up) }}
{{- fail (printf "services.%s.upstreams names %q, which is not a service" $name $up) }}
{{- end }}
{{- if eq $up "gateway" }}
{{- fail (printf "services.%s.upstreams: the gateway is not a backend" $name) }}
{{- end }}
{{- if not (has $name (index $root.Values.services $up).callers) }}
{{- fail (printf "services.%s calls %s, but services.%s.callers does not list %s" $name $up $up $name) }}
{{- end }}
{{- end }}
{{- range $caller := $svc.callers }}
{{- if not (hasKey $root.Values.services $caller) }}
{{- fail (printf "services.%s.callers names %q, which is not a service" $name $caller) }}
{{- end }}
{{- end }}
{{- if and (eq $name "gateway") $svc.callers }}
{{- fail "services.gateway.callers must be empty: the gateway is the public entry point" }}
{{- end }}
{{- end }}
{{- end -}}
