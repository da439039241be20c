package accounts

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/store"
)

// rfcSecret is RFC 6238's SHA-1 test key "12345678901234567890" in base32.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// The RFC 6238 appendix B vectors (last six of the eight digits), at their
// own step and one step either side; two steps away is refused.
func TestMatchTOTP(t *testing.T) {
	for _, tc := range []struct {
		unix int64
		code string
	}{
		{59, "287082"}, {1111111109, "081804"}, {1234567890, "005924"}, {2000000000, "279037"},
	} {
		at := time.Unix(tc.unix, 0)
		want := tc.unix / 30
		for _, skew := range []int64{-1, 0, 1} {
			step, ok := matchTOTP(rfcSecret, tc.code, at.Add(time.Duration(skew)*30*time.Second))
			if !ok || step != want {
				t.Errorf("code %s at %d%+d steps: step %d, %v; want step %d", tc.code, tc.unix, skew, step, ok, want)
			}
		}
		for _, skew := range []int64{-2, 2} {
			if tc.unix+skew*30 < 0 {
				continue // before 1970
			}
			if _, ok := matchTOTP(rfcSecret, tc.code, at.Add(time.Duration(skew)*30*time.Second)); ok {
				t.Errorf("code %s accepted %d steps away", tc.code, skew)
			}
		}
		// People type spaces.
		if _, ok := matchTOTP(rfcSecret, tc.code[:3]+" "+tc.code[3:], at); !ok {
			t.Errorf("code %q with a space refused", tc.code)
		}
	}
	for _, bad := range []string{"", "28708", "2870822", "28708a", "２８７０８２", "287082\x00"} {
		if _, ok := matchTOTP(rfcSecret, bad, time.Unix(59, 0)); ok {
			t.Errorf("malformed code %q accepted", bad)
		}
	}
}

func TestNewTOTPSecret(t *testing.T) {
	a, b := newTOTPSecret(), newTOTPSecret()
	if len(a) != 32 || strings.Trim(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Fatalf("secret %q: want 32 base32 characters (160 bits)", a)
	}
	if a == b {
		t.Fatal("two secrets are equal")
	}
	u, err := totpURL(a, "anna@gmina.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"otpauth://totp/", "secret=" + a, "issuer=Forum", "digits=6", "period=30", "algorithm=SHA1", "anna@gmina.example"} {
		if !strings.Contains(u, want) {
			t.Errorf("otpauth url %q lacks %q", u, want)
		}
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, hashes := newRecoveryCodes()
	if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
		t.Fatalf("%d codes, %d hashes", len(codes), len(hashes))
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 27 || strings.Count(c, "-") != 3 {
			t.Errorf("code %q: want four groups of six", c)
		}
		if seen[c] {
			t.Errorf("duplicate code %q", c)
		}
		seen[c] = true
		n, ok := normalizeRecoveryCode(c)
		if !ok || !bytes.Equal(hashRecoveryCode(n), hashes[i]) {
			t.Errorf("code %q does not hash to its stored hash", c)
		}
		// What people type: lower case, spaces, O for 0 and l/I for 1.
		typed := strings.ToLower(strings.ReplaceAll(c, "-", " "))
		typed = strings.NewReplacer("0", "o", "1", "l").Replace(typed)
		if m, ok := normalizeRecoveryCode(typed); !ok || m != n {
			t.Errorf("typed %q normalises to %q, want %q", typed, m, n)
		}
	}
	for _, bad := range []string{"", "ABCDEF", strings.Repeat("A", 23), strings.Repeat("A", 25), strings.Repeat("U", 24), strings.Repeat("Ą", 24)} {
		if _, ok := normalizeRecoveryCode(bad); ok {
			t.Errorf("malformed recovery code %q accepted", bad)
		}
	}
}

func TestQRPNG(t *testing.T) {
	u, err := totpURL(newTOTPSecret(), "moderator@forum-jst.example")
	if err != nil {
		t.Fatal(err)
	}
	b, err := qrPNG(u)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r := img.Bounds()
	if r.Dx() != r.Dy() || r.Dx()%6 != 0 || r.Dx() < 200 {
		t.Fatalf("QR image %v: want a square of whole 6-pixel modules", r)
	}
	// The quiet zone (four modules) is white all round.
	for i := 0; i < r.Dx(); i++ {
		for _, p := range [][2]int{{i, 0}, {0, i}, {i, 23}, {23, i}, {i, r.Dx() - 1}, {r.Dx() - 1, i}} {
			if c, _, _, _ := img.At(p[0], p[1]).RGBA(); c != 0xffff {
				t.Fatalf("pixel %v of the quiet zone is not white", p)
			}
		}
	}
	// The finder pattern's corner module is black.
	if c, _, _, _ := img.At(24, 24).RGBA(); c != 0 {
		t.Fatal("the top-left finder pattern is missing")
	}
}

func TestTwoFactorSetupRequired(t *testing.T) {
	now := time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	for _, tc := range []struct {
		st   store.TwoFactorState
		want bool
	}{
		{store.TwoFactorState{}, false},
		{store.TwoFactorState{Deadline: &future}, false},
		{store.TwoFactorState{Deadline: &past}, true},
		{store.TwoFactorState{Deadline: &now}, true},
		{store.TwoFactorState{Enabled: true, Deadline: &past}, false},
	} {
		if got := twoFactorSetupRequired(tc.st, now); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.st, got, tc.want)
		}
	}
}
