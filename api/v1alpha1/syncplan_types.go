package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ObjectKind is a kind of directory object sync exports.
// +kubebuilder:validation:Enum=user;group;contact
type ObjectKind string

// The kinds of exported objects.
const (
	ObjectUser    ObjectKind = "user"
	ObjectGroup   ObjectKind = "group"
	ObjectContact ObjectKind = "contact"
)

// SyncPlanSpec names a directory, a tenant and a scope: the operator
// predicts, object by object, what the next sync will do. It writes nothing
// outside Kubernetes.
type SyncPlanSpec struct {
	// TenantRef names the EntraTenant to plan against.
	// +required
	TenantRef TenantReference `json:"tenantRef"`

	// DirectoryRef names the ActiveDirectory whose objects are exported.
	// +required
	DirectoryRef DirectoryReference `json:"directoryRef"`

	// Scope selects the exported objects. Without it, every user, group and
	// contact under the ActiveDirectory's baseDN.
	// +optional
	Scope *PlanScope `json:"scope,omitempty"`

	// Interval is how often the plan is computed again (and whenever the
	// spec changes). Default 1h; from 5m to 168h.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('5m') && duration(self) <= duration('168h')",message="interval must be between 5m and 168h, e.g. 1h"
	Interval *metav1.Duration `json:"interval,omitempty"`
}

// PlanScope selects the objects sync would export.
type PlanScope struct {
	// BaseDNs are the organizational units in sync scope, each under the
	// ActiveDirectory's baseDN, e.g. OU=Staff,DC=contoso,DC=local. Empty
	// means the baseDN itself.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.all(d, d.contains('='))",message="every scope.baseDNs entry must be a DN such as OU=Staff,DC=contoso,DC=local"
	BaseDNs []string `json:"baseDNs,omitempty"`

	// Filter is an LDAP filter ANDed with the object filter, e.g.
	// (!(extensionAttribute15=NoSync)).
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.startsWith('(') && self.endsWith(')')",message="scope.filter must be an LDAP filter in parentheses, e.g. (!(extensionAttribute15=NoSync))"
	Filter string `json:"filter,omitempty"`

	// Kinds limits the plan to these kinds; all three when empty.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=3
	Kinds []ObjectKind `json:"kinds,omitempty"`
}

// PlanCount is how many objects get one outcome, with one code.
type PlanCount struct {
	// Outcome is HardMatch, SoftMatchSMTP, SoftMatchUPN, Updated, Created
	// or Refused (docs/plan.md).
	Outcome string `json:"outcome"`
	// Code says why, when there is a why (e.g. InvalidHardMatch,
	// ExistingAdminRoleConflict).
	// +optional
	Code string `json:"code,omitempty"`
	// Count of objects.
	Count int32 `json:"count"`
}

// RuleCount is how many objects break one attribute rule.
type RuleCount struct {
	// Rule is the rule's name (docs/plan.md).
	Rule string `json:"rule"`
	// Count of objects.
	Count int32 `json:"count"`
}

// PlanEntry is the prediction for one object.
type PlanEntry struct {
	// Object is the AD object's distinguishedName.
	// +kubebuilder:validation:MaxLength=2048
	Object string `json:"object"`
	// Kind of the object.
	Kind ObjectKind `json:"kind"`
	// Outcome as in PlanCount.
	Outcome string `json:"outcome"`
	// Code as in PlanCount.
	// +optional
	Code string `json:"code,omitempty"`
	// CloudObject is the cloud object matched or refused, if any.
	// +optional
	CloudObject string `json:"cloudObject,omitempty"`
	// Message says it in a sentence, with the values quarantined.
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message"`
}

// PlanProblem is one attribute rule an object breaks.
type PlanProblem struct {
	// Object is the AD object's distinguishedName.
	// +kubebuilder:validation:MaxLength=2048
	Object string `json:"object"`
	// Rule is the rule's name.
	Rule string `json:"rule"`
	// Message says what is wrong.
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message"`
}

// SyncPlanStatus is the last plan.
type SyncPlanStatus struct {
	// Conditions: Ready, Synced, Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the spec generation the plan was computed for.
	// +optional
	// +kubebuilder:default=0
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// LastPlanTime is when the plan was computed.
	// +optional
	LastPlanTime *metav1.Time `json:"lastPlanTime,omitempty"`

	// Objects is how many objects are in scope.
	// +optional
	Objects int32 `json:"objects"`
	// Matched objects will join an existing cloud object (hard or soft
	// match, or an update of an already synced one).
	// +optional
	Matched int32 `json:"matched"`
	// Created objects will get a new cloud object.
	// +optional
	Created int32 `json:"created"`
	// Refused objects will fail to export.
	// +optional
	Refused int32 `json:"refused"`
	// SoftMatchAfterAlignment is how many objects will soft-match only once
	// the SignInNameAlignments of this tenant and directory have renamed
	// them (the report's afterAlignment column says which).
	// +optional
	SoftMatchAfterAlignment int32 `json:"softMatchAfterAlignment"`
	// Problems is how many objects break at least one attribute rule.
	// +optional
	Problems int32 `json:"problems"`

	// Outcomes counts the objects per outcome and code.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Outcomes []PlanCount `json:"outcomes,omitempty"`

	// ProblemCounts counts the objects per broken rule.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	ProblemCounts []RuleCount `json:"problemCounts,omitempty"`

	// Attention lists the first objects whose outcome needs a person: a
	// refusal, a match Entra will not make, a quarantined value (at most 50).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=50
	Attention []PlanEntry `json:"attention,omitempty"`

	// FirstProblems lists the first broken rules (at most 50).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=50
	FirstProblems []PlanProblem `json:"firstProblems,omitempty"`

	// Report names the ConfigMaps (namespace/name, in the manager's
	// namespace) that hold the whole per-object report as CSV, in order:
	// object, kind, outcome, code, cloudObject, problems, message,
	// afterAlignment.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=200
	Report []string `json:"report,omitempty"`
}

// SyncPlan predicts, object by object, what the next directory sync will do
// against the tenant as it is now (hard match, soft match, a new object, a
// refusal) and which attribute rules the objects break, before anything is
// synced.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=sp,categories=entramatch
// +kubebuilder:printcolumn:name="Objects",type=integer,JSONPath=`.status.objects`
// +kubebuilder:printcolumn:name="Matched",type=integer,JSONPath=`.status.matched`
// +kubebuilder:printcolumn:name="Created",type=integer,JSONPath=`.status.created`
// +kubebuilder:printcolumn:name="Refused",type=integer,JSONPath=`.status.refused`
// +kubebuilder:printcolumn:name="Problems",type=integer,JSONPath=`.status.problems`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Planned",type=date,JSONPath=`.status.lastPlanTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SyncPlan struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is what to plan.
	// +required
	Spec SyncPlanSpec `json:"spec"`

	// Status is the last plan.
	// +optional
	// Until the operator first reports, it is {observedGeneration: 0},
	// which GitOps tools (kstatus, Flux, Argo CD) read as in progress.
	// +kubebuilder:default={}
	Status SyncPlanStatus `json:"status,omitempty"`
}

// SyncPlanList is a list of SyncPlan.
//
// +kubebuilder:object:root=true
type SyncPlanList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SyncPlan `json:"items"`
}

func init() {
	SchemeBuilder.Register(&SyncPlan{}, &SyncPlanList{})
}
