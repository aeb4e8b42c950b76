package tenant

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ExtensionAttributes are a user's onPremisesExtensionAttributes, Exchange's
// custom attributes 1-15
// (https://learn.microsoft.com/en-us/graph/api/resources/onpremisesextensionattributes);
// element i is extensionAttribute<i+1>, and "" is null. An array, not a map,
// so that copying a User copies them.
type ExtensionAttributes [15]string

// MaxExtensionAttributeLength is the documented limit: "Each attribute can
// store up to 1024 characters."
const MaxExtensionAttributeLength = 1024

// ExtensionAttributeName is the property name of element i.
func ExtensionAttributeName(i int) string { return "extensionAttribute" + strconv.Itoa(i+1) }

// ExtensionAttributeIndex is the element a property name stands for, exactly
// as Graph spells it.
func ExtensionAttributeIndex(name string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(name, "extensionAttribute"))
	if err != nil || n < 1 || n > 15 || ExtensionAttributeName(n-1) != name {
		return 0, false
	}
	return n - 1, true
}

// MarshalJSON writes the set attributes only: a snapshot stays small.
func (e ExtensionAttributes) MarshalJSON() ([]byte, error) {
	m := map[string]string{}
	for i, v := range e {
		if v != "" {
			m[ExtensionAttributeName(i)] = v
		}
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads what MarshalJSON writes; an unknown name is an error.
func (e *ExtensionAttributes) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*e = ExtensionAttributes{}
	for k, v := range m {
		i, ok := ExtensionAttributeIndex(k)
		if !ok {
			return fmt.Errorf("onPremisesExtensionAttributes: no attribute %q", k)
		}
		e[i] = v
	}
	return nil
}
