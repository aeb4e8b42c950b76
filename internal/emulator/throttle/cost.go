package throttle

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// baseCosts are the documented base resource-unit costs of identity and access requests
// (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits,
// microsoft-graph-docs-contrib concepts/throttling-limits.md, "Identity and access service
// limits").
// Paths are lower-case, without the version segment; "{id}" matches one segment. Requests on
// me/... cost the same as on users/{id}/..., so me is rewritten before lookup. Anything not
// listed costs 1. Listed POSTs are reads: they cost no write.
var baseCosts = map[string]int{
	"GET applications":                              2,
	"GET applications/{id}/extensionproperties":     2,
	"GET contracts":                                 3,
	"POST directoryobjects/getbyids":                5,
	"GET domains/{id}/domainnamereferences":         4,
	"POST getobjectsbyid":                           5,
	"GET groups/{id}/members":                       3,
	"GET groups/{id}/transitivemembers":             5,
	"POST ismemberof":                               4,
	"POST users/{id}/checkmembergroups":             4,
	"POST users/{id}/checkmemberobjects":            4,
	"POST users/{id}/getmembergroups":               2,
	"POST users/{id}/getmemberobjects":              2,
	"GET users/{id}/licensedetails":                 2,
	"GET users/{id}/memberof":                       2,
	"GET users/{id}/ownedobjects":                   2,
	"GET users/{id}/transitivememberof":             2,
	"GET oauth2permissiongrants":                    2,
	"GET oauth2permissiongrants/{id}":               2,
	"GET serviceprincipals/{id}/approleassignments": 2,
	"GET subscribedskus":                            3,
	"GET users":                                     2,
	// The page does not price delta; a users delta request reads the user
	// collection, so it costs what GET users does.
	"GET users/delta": 2,
}

// Cost returns the resource units a request consumes and whether it also counts against the
// write quota. Query options adjust the base cost: $select −1, $expand +1, $top below 20 −1,
// never below 1. The "$" prefix is optional, as Graph accepts both spellings.
func Cost(method string, u *url.URL) (ru int, write bool) {
	method = strings.ToUpper(method)
	segs := pathSegments(u)
	key := method + " " + pattern(segs)
	ru, listed := baseCosts[key]
	if !listed {
		ru = 1
	}
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		write = !listed
	}
	if u != nil {
		for k, vs := range u.Query() {
			switch strings.ToLower(strings.TrimPrefix(k, "$")) {
			case "select":
				if selectFlat[key] {
					// "Using $select for directoryObjects/getByIds and
					// getObjectsById results in 2 ResourceUnits."
					ru = 2 + (ru - baseCosts[key])
					continue
				}
				ru--
			case "expand":
				ru++
			case "top":
				if len(vs) > 0 {
					if n, err := strconv.Atoi(vs[0]); err == nil && n < 20 {
						ru--
					}
				}
			}
		}
	}
	return max(ru, 1), write
}

// selectFlat lists the requests that $select brings to 2 resource units instead of lowering
// their cost by 1.
var selectFlat = map[string]bool{"POST directoryobjects/getbyids": true, "POST getobjectsbyid": true}

// pathSegments splits the path, dropping empty segments and the API version.
func pathSegments(u *url.URL) []string {
	if u == nil {
		return nil
	}
	var segs []string
	for _, s := range strings.Split(u.Path, "/") {
		if s != "" {
			segs = append(segs, strings.ToLower(s))
		}
	}
	if len(segs) > 0 && (segs[0] == "v1.0" || segs[0] == "beta") {
		segs = segs[1:]
	}
	if len(segs) > 0 && segs[0] == "me" {
		segs = append([]string{"users", "{id}"}, segs[1:]...)
	}
	return segs
}

// pattern replaces the key segments (every second segment after a collection) with {id};
// a function bound to the collection keeps its (short) name.
func pattern(segs []string) string {
	out := make([]string, len(segs))
	for i, s := range segs {
		if i%2 == 1 && collections[segs[i-1]] {
			if f, ok := functions[s]; ok {
				s = f
			} else {
				s = "{id}"
			}
		}
		out[i] = s
	}
	return strings.Join(out, "/")
}

// functions are the spellings of collection-bound functions in the cost table: the short name,
// the fully qualified one, each with or without the call's parentheses.
var functions = map[string]string{
	"delta": "delta", "delta()": "delta", "microsoft.graph.delta": "delta", "microsoft.graph.delta()": "delta",
}

// collections are the segments followed by an object key in the listed cost paths.
var collections = map[string]bool{
	"applications": true, "domains": true, "groups": true, "users": true,
	"oauth2permissiongrants": true, "serviceprincipals": true,
}

// isBatch reports whether the request is the $batch envelope, whose items are counted one by one.
func isBatch(u *url.URL) bool {
	segs := pathSegments(u)
	return len(segs) == 1 && segs[0] == "$batch"
}
