// Package syncfeatures decides what a TenantSyncFeatures asks of a tenant's
// directory synchronization flags. Given the spec, what earlier passes kept
// in status, the tenant's flags as read now and the time, it says which flags
// to change, which differences remain, where each matching window is in its
// life, and when to look again.
//
// It does no I/O, so that every rule (a window opening and closing at the
// exact instant, a partial spec leaving the other flags alone, the original
// values recorded once) is table-tested without a server. The
// TenantSyncFeatures reconciler reads the tenant, calls Decide, and makes the
// one read-modify-write the plan asks for.
package syncfeatures
