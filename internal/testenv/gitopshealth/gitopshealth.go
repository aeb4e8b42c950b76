// Package gitopshealth reads the health of the operator's objects as Argo
// CD reads it (the Lua scripts of config/argocd, run in gopher-lua, the
// interpreter Argo CD embeds), for tests that compare it with kstatus, the
// reading Flux uses.
package gitopshealth

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const keyPrefix = "resource.customizations.health.identity.entramatch.io_"

// Scripts reads config/argocd/argocd-cm.yaml under root and returns each
// kind's health script; every one must be config/argocd/health.lua.
func Scripts(root string) (map[string]string, error) {
	want, err := os.ReadFile(filepath.Join(root, "config", "argocd", "health.lua"))
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(root, "config", "argocd", "argocd-cm.yaml"))
	if err != nil {
		return nil, err
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		return nil, err
	}
	out := map[string]string{}
	var differ []string
	for k, v := range cm.Data {
		kind, ok := strings.CutPrefix(k, keyPrefix)
		if !ok {
			continue
		}
		if v != string(want) {
			differ = append(differ, k)
		}
		out[kind] = v
	}
	if len(differ) > 0 {
		return out, fmt.Errorf("%v differ from config/argocd/health.lua", differ)
	}
	return out, nil
}

// Argo runs a health script as Argo CD does: the object as the global obj,
// the returned table's status and message.
func Argo(script string, obj map[string]any) (status, message string, err error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: false})
	defer L.Close()
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		return "", "", fmt.Errorf("health script: %w", err)
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("health script returned %v, want a table", L.Get(-1))
	}
	return ret.RawGetString("status").String(), ret.RawGetString("message").String(), nil
}

func toLua(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case string:
		return lua.LString(x)
	case bool:
		return lua.LBool(x)
	case int64:
		return lua.LNumber(x)
	case float64:
		return lua.LNumber(x)
	case map[string]any:
		tb := L.NewTable()
		for k, e := range x {
			tb.RawSetString(k, toLua(L, e))
		}
		return tb
	case []any:
		tb := L.NewTable()
		for _, e := range x {
			tb.Append(toLua(L, e))
		}
		return tb
	}
	return lua.LString("")
}
