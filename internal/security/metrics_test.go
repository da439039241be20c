package security_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// The attack: c.Method() is a view into fasthttp's request buffer, and it was
// kept as a Prometheus label. After requests of other methods on the same
// keep-alive connection the stored label read "POS" or "GETT", and /metrics
// answered 500 (duplicate or invalid series) until a restart.
func TestMetricsLabelsSurviveMixedMethodsOnOneConnection(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND", "GET"}
	paths := []string{"/healthz", "/api/v1/forum", "/login", "/nie-ma-takiej-strony", "/api/v1/threads/1"}
	for i := 0; i < 300; i++ {
		m, p := methods[i%len(methods)], paths[i%len(paths)]
		fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\n\r\n", m, p, u.Host)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(br, &http.Request{Method: m})
		if err != nil {
			t.Fatalf("request %d (%s %s): %v", i, m, p, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	label := regexp.MustCompile(`method="([^"]*)"`)
	allowed := map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true,
		"PATCH": true, "OPTIONS": true, "CONNECT": true, "TRACE": true, "other": true}
	for scrape := 0; scrape < 3; scrape++ {
		r := env.Anonymous().Get("/metrics")
		if r.Status != http.StatusOK {
			t.Fatalf("scrape %d: /metrics = %d %s", scrape, r.Status, r.Body)
		}
		for _, m := range label.FindAllStringSubmatch(r.String(), -1) {
			if !allowed[m[1]] {
				t.Fatalf("scrape %d: corrupt method label %q", scrape, m[1])
			}
		}
		if !strings.Contains(r.String(), `forumjst_http_requests_total{method="PATCH"`) {
			t.Errorf("no PATCH series in /metrics")
		}
		// More traffic of other methods between scrapes.
		env.Anonymous().Do("DELETE", "/api/v1/forum", nil, nil)
	}
}

// /metrics answers only to loopback (a request that came through a proxy is
// not loopback, whatever its socket says) or to FORUM_METRICS_TOKEN.
func TestMetricsOnlyForLoopbackOrToken(t *testing.T) {
	const token = "tajny-token-metryk-0123456789abcdef"
	get := func(env *testkit.Env, h map[string]string) *testkit.Response {
		return env.Anonymous().Do("GET", "/metrics", nil, h)
	}

	t.Run("no proxies configured", func(t *testing.T) {
		env := testkit.Start(t, dbURL)
		if r := get(env, nil); r.Status != http.StatusOK {
			t.Errorf("loopback scrape = %d, want 200", r.Status)
		}
		// A proxy on this host that is not configured as trusted: its requests
		// come from 127.0.0.1, but they are not ours to answer.
		for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip"} {
			if r := get(env, map[string]string{h: "203.0.113.7"}); r.Status != http.StatusNotFound {
				t.Errorf("proxied scrape (%s) = %d, want 404", h, r.Status)
			}
		}
	})

	t.Run("behind a trusted proxy", func(t *testing.T) {
		env := testkit.Start(t, dbURL, func(c *config.Config) {
			c.TrustedProxies = []string{"127.0.0.1"}
			c.MetricsToken = token
		})
		xff := map[string]string{"X-Forwarded-For": "203.0.113.7"}
		if r := get(env, xff); r.Status != http.StatusUnauthorized || strings.Contains(r.String(), "go_goroutines") {
			t.Errorf("remote scrape without token = %d, want 401 and no metrics", r.Status)
		}
		bad := map[string]string{"X-Forwarded-For": "203.0.113.7", "Authorization": "Bearer " + token[:len(token)-1] + "x"}
		if r := get(env, bad); r.Status != http.StatusUnauthorized {
			t.Errorf("remote scrape with a wrong token = %d, want 401", r.Status)
		}
		good := map[string]string{"X-Forwarded-For": "203.0.113.7", "Authorization": "Bearer " + token}
		if r := get(env, good); r.Status != http.StatusOK || !strings.Contains(r.String(), "go_goroutines") {
			t.Errorf("remote scrape with the token = %d, want 200 with metrics", r.Status)
		}
		if r := env.Anonymous().Get("/metrics?token=" + token); r.Status == http.StatusOK {
			t.Errorf("token in the query string accepted")
		}
	})
}
