package emulator

import "github.com/entramatch/entra-match-operator/internal/emulator/dirsync"

// The sync service's types, as package dirsync defines them.
type (
	// SyncOptions tunes the emulated sync service where Microsoft's pages
	// leave a choice. The zero value is the least forgiving reading.
	SyncOptions = dirsync.SyncOptions
	// SyncObject is one object of an export, as POST /_emulator/sync takes it.
	SyncObject = dirsync.SyncObject
	// SyncRequest is the body of POST /_emulator/sync.
	SyncRequest = dirsync.SyncRequest
	// SyncOutcome is what happened to one object.
	SyncOutcome = dirsync.SyncOutcome
	// SyncResult is the result for one object.
	SyncResult = dirsync.SyncResult
	// SyncError is an export error, with the code Entra reports.
	SyncError = dirsync.SyncError
	// SyncResponse lists one result per exported object, in request order,
	// followed by the full sync's deletions.
	SyncResponse = dirsync.SyncResponse
)

// Sync outcomes, as package dirsync names them.
const (
	OutcomeHardMatch     = dirsync.OutcomeHardMatch
	OutcomeSoftMatchSMTP = dirsync.OutcomeSoftMatchSMTP
	OutcomeSoftMatchUPN  = dirsync.OutcomeSoftMatchUPN
	OutcomeCreated       = dirsync.OutcomeCreated
	OutcomeUpdated       = dirsync.OutcomeUpdated
	OutcomeDeleted       = dirsync.OutcomeDeleted
	OutcomeError         = dirsync.OutcomeError
)

// CodeDeletionThresholdExceeded is reported for every deletion a full sync
// holds back because it exceeds the accidental deletion threshold.
const CodeDeletionThresholdExceeded = dirsync.CodeDeletionThresholdExceeded

// Sync plays one export run. The whole run holds the store's write lock,
// so Graph sees it as one atomic change. The error is reserved for a
// request that cannot be run at all; per-object failures are results.
func (s *Server) Sync(req SyncRequest) (SyncResponse, error) { return s.sync.Sync(req) }

// ReleaseQuarantined runs the duplicate attribute resiliency timer task now,
// whatever its schedule: every quarantined UPN or proxy address whose
// conflict is gone is given back to its object and its provisioning error is
// cleared. It returns how many values were released.
func (s *Server) ReleaseQuarantined() int { return s.sync.ReleaseQuarantined() }

// releaseIfDue runs the sync service's timer task when it is due, before
// Graph answers or the state is dumped: the service's own timer tasks run
// whatever the client does.
func (s *Server) releaseIfDue() { s.sync.ReleaseIfDue() }
