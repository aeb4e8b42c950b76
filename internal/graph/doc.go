// Package graph implements cloud.Client on Microsoft Graph v1.0 with
// msgraph-sdk-go and azidentity.
//
// It is the only package of the operator that imports the Graph SDK: the SDK
// is large and slow to compile, and keeping it here lets every controller and
// decision function depend on the small internal/cloud contract instead.
//
// Deliberate choices, each explained where it is made:
//   - one *http.Client per Client, trusting the system roots plus an optional
//     extra CA, shared by the token credential and the Graph adapter;
//   - kiota's middleware kept, in a fixed order, but for request compression
//     (bodies go plain, with their length), with a retry policy that never
//     retries 429 (the reconciler requeues after Retry-After) and retries
//     503/504 at most twice for idempotent methods only (transport.go);
//   - errors classified once, in classify.go, into cloud.Error;
//   - the two PATCH bodies that must be exact on the wire (onPremisesImmutableId
//     and the sync features) are written as explicit JSON rather than through
//     the SDK models, whose backing store sends only changed properties.
package graph
