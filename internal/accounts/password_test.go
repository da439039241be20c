package accounts

import (
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/apperr"
)

func TestHashAndVerify(t *testing.T) {
	h, err := HashPassword("Wspólna-nauka-2026", DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string with the required cost", h)
	}
	for pw, want := range map[string]bool{"Wspólna-nauka-2026": true, "wspólna-nauka-2026": false, "": false} {
		ok, err := VerifyPassword(pw, h)
		if err != nil || ok != want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	h2, _ := HashPassword("Wspólna-nauka-2026", DefaultArgon2)
	if h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if _, err := VerifyPassword("x", "$2a$10$notargon"); err == nil {
		t.Error("a non-argon2id hash was accepted")
	}
}

func TestPasswordPolicy(t *testing.T) {
	pp := passwordPolicy{common: commonPasswords()}
	cases := map[string]string{
		"short":                       "err.password_short",
		"1234567":                     "err.password_short",
		strings.Repeat("a", 1025):     "err.password_long",
		"haslo123":                    "err.password_common",
		"Password1":                   "err.password_common",
		"QWERTYUIOP":                  "err.password_common",
		"długie hasło bez reguł":      "",
		strings.Repeat("ż", 1024):     "",
		"zupelnie-niepopularne-haslo": "",
	}
	for pw, want := range cases {
		err := pp.check("password", pw)
		var got string
		if v, ok := err.(*apperr.Validation); ok {
			got = v.Fields["password"]
		}
		if got != want {
			t.Errorf("check(%.20q) = %q, want %q", pw, got, want)
		}
	}
}
