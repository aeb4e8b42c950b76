// Package match holds the rules of a hard match: given what was read from
// Active Directory and Entra ID, it decides whether the operator may write the
// anchor onto the cloud user, must refuse, or has nothing to do.
//
// It does no I/O so that every rule is table-tested without servers; the
// UserMatch reconciler gathers the Observation and carries out the Plan.
package match
