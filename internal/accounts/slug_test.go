package accounts

import "testing"

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Gminy miejskie – kohorta 2":             "gminy-miejskie-kohorta-2",
		"GWD gmin wiejskich i miejsko-wiejskich": "gwd-gmin-wiejskich-i-miejsko-wiejskich",
		"Łódź, Śrem, Żagań i Gręboszów":          "lodz-srem-zagan-i-greboszow",
		"ZAŻÓŁĆ GĘŚLĄ JAŹŃ":                      "zazolc-gesla-jazn",
		"Lo\u0301dz\u0301 (NFD)":                 "lodz-nfd",
		"  --Powiaty!!  ":                        "powiaty",
		"„Forum” ogólne…":                        "forum-ogolne",
		"–":                                      "",
	} {
		if got := Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
		if got := Slugify(in); got != "" && !slugPattern.MatchString(got) {
			t.Errorf("Slugify(%q) = %q does not pass the slug rule", in, got)
		}
	}
}
