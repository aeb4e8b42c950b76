package fakead

import (
	"time"

	"github.com/entramatch/entra-match-operator/internal/selfsigned"
)

// newAuthority makes the directory's throwaway CA and server certificate.
func newAuthority(hosts []string) (*selfsigned.Authority, error) {
	return selfsigned.New("fakead", hosts, time.Now(), selfsigned.Lifetimes{CA: 365 * 24 * time.Hour, Server: 365 * 24 * time.Hour})
}
