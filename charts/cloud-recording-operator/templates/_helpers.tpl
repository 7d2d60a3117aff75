{{/* Common names and labels. */}}
{{- define "cro.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cro.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "cro.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "cro.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "cro.operator.selector" -}}
app.kubernetes.io/name: {{ include "cro.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "cro.recorder.selector" -}}
app.kubernetes.io/name: {{ include "cro.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: recorder
{{- end -}}

{{- define "cro.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (printf "%s-operator" (include "cro.fullname" .)) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "cro.image" -}}
{{- printf "%s:%s" .image.repository (default .chart.AppVersion .image.tag) -}}
{{- end -}}

{{- define "cro.recorder.secretName" -}}
{{- default (printf "%s-recorder-config" (include "cro.fullname" .)) .Values.recorder.existingSecret -}}
{{- end -}}

{{/* The rules the operator needs on namespaced resources (Role or ClusterRole). */}}
{{- define "cro.operator.namespacedRules" -}}
- apiGroups: ["cloudrecording.io"]
  resources: ["cloudrecordings"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["cloudrecording.io"]
  resources: ["cloudrecordings/status"]
  verbs: ["get", "patch"]
- apiGroups: ["cloudrecording.io"]
  resources: ["recordingbackends"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get"]  # a backend's manifestPublicKeyRef of kind ConfigMap
- apiGroups: ["", "events.k8s.io"]
  resources: ["events"]
  verbs: ["create"]
- apiGroups: ["kopf.dev"]
  resources: ["kopfpeerings"]
  verbs: ["get", "list", "watch", "patch"]
{{- end -}}

{{/* kopf discovers the resources it serves by watching CRDs (and namespaces, for patterns). */}}
{{- define "cro.operator.discoveryRules" -}}
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["list", "watch"]
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get", "list", "watch"]  # get: allowedNamespaces of ClusterRecordingBackends
{{- end -}}

{{/* The Secret holding the key that signs the operator's tracking annotation. */}}
{{- define "cro.operator.stateKeySecret" -}}
{{- .Values.operator.stateKey.existingSecret | default (printf "%s-state-key" (include "cro.fullname" .)) -}}
{{- end -}}
