package seal

import "testing"

func TestSealVerifies(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(k)
	if err != nil {
		t.Fatal(err)
	}
	sig := s.Seal("uid", "user", "Assignment|62e9|/")
	if !s.Verify(sig, "uid", "user", "Assignment|62e9|/") {
		t.Fatal("a seal does not verify its own record")
	}
	for name, fields := range map[string][]string{
		"another user":        {"uid", "attacker", "Assignment|62e9|/"},
		"another role":        {"uid", "user", "Assignment|ffff|/"},
		"a role added":        {"uid", "user", "Assignment|62e9|/", "Assignment|ffff|/"},
		"fields run together": {"uiduser", "", "Assignment|62e9|/"},
	} {
		if s.Verify(sig, fields...) {
			t.Errorf("%s: a changed record verified", name)
		}
	}
	other, _ := New(make([]byte, KeySize))
	if other.Verify(sig, "uid", "user", "Assignment|62e9|/") {
		t.Error("a seal verified under another key")
	}
	if !other.Verify(other.Seal()) {
		t.Error("an empty record does not verify")
	}
	if _, err := New([]byte("short")); err == nil {
		t.Error("a short key was accepted")
	}
}
