// Package controllers reconciles the identity.entramatch.io kinds. Each
// reconciler reads both sides (Kubernetes, Active Directory, Entra ID),
// hands the observations to a pure decision function, and makes the smallest
// write the decision asks for. Clients to the outside are built by injected
// factories, so tests run the same code against the emulator and Samba.
package controllers
