package web

import (
	"crypto/subtle"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forumjst_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "forumjst_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// observe counts a request. Labels are kept for the life of the process, so
// none may be a view into fasthttp's reused request buffer (c.Method() is one:
// kept as is, it read "POS" or "GETT" a few requests later and broke /metrics).
// The method is mapped to a constant; route is the router's own pattern string.
func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
}

// methodLabel returns a constant string for a standard method and "other" for
// the rest, which also bounds the label's cardinality.
func methodLabel(m string) string {
	for _, known := range []string{fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch,
		fiber.MethodDelete, fiber.MethodOptions, fiber.MethodConnect, fiber.MethodTrace} {
		if m == known {
			return known
		}
	}
	return "other"
}

// metricsHandler serves /metrics to loopback scrapers and, when
// FORUM_METRICS_TOKEN is set, to anyone who sends it as a bearer token.
// Others get 404 (or 401 when a token could have let them in).
func (s *server) metricsHandler() fiber.Handler {
	serve := adaptor.HTTPHandler(promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Registry: s.Registry}))
	return func(c *fiber.Ctx) error {
		if s.metricsAllowed(c) {
			return serve(c)
		}
		if s.Config.MetricsToken != "" {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
			return c.Status(fiber.StatusUnauthorized).SendString("metrics need a bearer token\n")
		}
		return fiber.ErrNotFound
	}
}

func (s *server) metricsAllowed(c *fiber.Ctx) bool {
	if tok := s.Config.MetricsToken; tok != "" {
		sent, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(sent), []byte(tok)) == 1 {
			return true
		}
	}
	// A proxy on this host forwards everyone's requests from 127.0.0.1: a
	// request that names an original client came through one, trusted or not.
	h := &c.Request().Header
	if len(h.Peek(fiber.HeaderXForwardedFor)) > 0 || len(h.Peek("Forwarded")) > 0 || len(h.Peek("X-Real-Ip")) > 0 {
		return false
	}
	ip := net.ParseIP(c.IP())
	return ip != nil && ip.IsLoopback()
}
