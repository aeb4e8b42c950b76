package batch

import (
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"requests":[{"id":"1","method":"GET","url":"/users"}]}`,
		`{"requests":[{"id":"1","method":"POST","url":"/users","headers":{"Content-Type":"application/json"},"body":{"a":[1,2]}},{"id":"2","method":"GET","url":"users/1","dependsOn":["1"]}]}`,
		`{"requests":[{"id":"a","method":"GET","url":"/u","dependsOn":["b"]},{"id":"b","method":"GET","url":"/u","dependsOn":["a"]}]}`,
		`{"requests":null}`, `[]`, `{}`, `{"requests":[{}]}`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		reqs, err := Parse(data)
		if err != nil {
			if reqs != nil {
				t.Fatalf("requests returned with error %v", err)
			}
			return
		}
		if len(reqs) == 0 || len(reqs) > MaxRequests {
			t.Fatalf("accepted %d requests", len(reqs))
		}
		pos := map[string]int{}
		order, err := Order(reqs)
		if err != nil || len(order) != len(reqs) {
			t.Fatalf("accepted batch has no full order: %v %v", order, err)
		}
		for n, i := range order {
			pos[strings.ToLower(reqs[i].ID)] = n
		}
		if len(pos) != len(reqs) {
			t.Fatalf("ids not unique: %v", reqs)
		}
		for _, r := range reqs {
			if r.ID == "" || !validMethod(r.Method) || checkURL(r.URL) != nil {
				t.Fatalf("invalid item accepted: %+v", r)
			}
			for _, d := range r.DependsOn {
				p, ok := pos[strings.ToLower(d)]
				if !ok || p >= pos[strings.ToLower(r.ID)] {
					t.Fatalf("dependency %q of %q not ordered before it", d, r.ID)
				}
			}
		}
	})
}
