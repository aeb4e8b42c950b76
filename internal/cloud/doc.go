// Package cloud is the operator's view of Microsoft Entra ID: the few objects
// and calls that matching needs, and the error classes that reconcilers act on.
//
// It exists so that controllers and decision functions never see
// msgraph-sdk-go: the Graph implementation lives in internal/graph, and this
// package stays small enough to compile in a second.
package cloud
