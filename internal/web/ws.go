package web

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/gwd-jst/forumjst/internal/access"
)

const (
	localWSActor = "ws.actor"
	localWSToken = "ws.token"
)

// wsRoutes mounts GET /ws (SPEC §5). Authentication and the Origin check run in
// wsGate before the upgrade; the upgrader checks the same single origin as a
// second line (never an allow-every-origin default).
//
// The upgrade is done here rather than by the contrib middleware, so that an
// idle connection keeps nothing of the HTTP request (issue 16): that
// middleware runs the whole connection inside fasthttp's hijack handler, which
// holds the request context (request and response headers, arguments) and
// the server's 8 KiB request reader until the socket closes, plus copies of
// every header, cookie and local. Here the hijack handler only writes the 101
// answer on the bare TCP connection and hands it to the hub; fasthttp then
// returns its context and reader to its pools (KeepHijackedConns: the
// connection is the hub's to close).
func (s *server) wsRoutes() []route {
	origin := s.Config.Origin()
	s.wsUpgrader = &websocket.Upgrader{
		// Small buffers and a shared write-buffer pool keep an idle
		// connection's memory low; frames larger than a buffer still work.
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		WriteBufferPool:  &sync.Pool{},
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin:      func(r *http.Request) bool { return r.Header.Get("Origin") == origin },
	}
	ws := get("/ws", s.wsGate, s.upgradeWS)
	ws.socket = true
	return []route{ws}
}

// wsGate refuses what must not become a websocket: plain HTTP requests (426),
// other origins (403: no cross-site websocket hijacking) and visitors without a
// session (401). It copies what the connection needs out of the request.
func (s *server) wsGate(c *fiber.Ctx) error {
	if !websocket.FastHTTPIsWebSocketUpgrade(c.Context()) {
		return c.Status(fiber.StatusUpgradeRequired).JSON(fiber.Map{"error": apiError{Code: "upgrade_required", Message: "GET /ws is a websocket endpoint"}})
	}
	if c.Get(fiber.HeaderOrigin) != s.Config.Origin() {
		return c.Status(fiber.StatusForbidden).JSON(fiber.Map{"error": apiError{Code: "cross_origin", Message: "websocket origin refused"}})
	}
	p := principal(c)
	if p == nil {
		return c.Status(fiber.StatusUnauthorized).JSON(fiber.Map{"error": apiError{Code: "unauthenticated", Message: "log in first"}})
	}
	c.Locals(localWSActor, p.Actor)
	c.Locals(localWSToken, utils.CopyString(c.Cookies(s.cookieName())))
	return c.Next()
}

// wsHandshakeHeaders are the request headers the upgrader reads.
var wsHandshakeHeaders = []string{"Connection", "Upgrade", "Sec-Websocket-Version", "Sec-Websocket-Key", "Origin"}

// upgradeWS answers the handshake and hands the socket to the hub. What the
// connection needs is copied out first: fasthttp reuses the request once the
// hijack handler returns.
func (s *server) upgradeWS(c *fiber.Ctx) error {
	if c.Get("Sec-Websocket-Version") != "13" {
		c.Set("Sec-Websocket-Version", "13")
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": apiError{Code: "bad_request", Message: "websocket version 13 only"}})
	}
	if len(c.Get("Sec-Websocket-Key")) != 24 { // base64 of 16 bytes
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": apiError{Code: "bad_request", Message: "Sec-WebSocket-Key is missing or malformed"}})
	}
	a, _ := c.Locals(localWSActor).(*access.Actor)
	token, _ := c.Locals(localWSToken).(string)
	req := &http.Request{Method: http.MethodGet, Header: make(http.Header, len(wsHandshakeHeaders))}
	for _, h := range wsHandshakeHeaders {
		if v := c.Get(h); v != "" {
			req.Header.Set(h, strings.Clone(v))
		}
	}
	session := func(ctx context.Context) (*access.Actor, error) {
		p, err := s.Accounts.Check(ctx, token)
		if err != nil {
			return nil, err
		}
		return p.Actor, nil
	}
	c.Status(fiber.StatusSwitchingProtocols) // for the access log: the upgrader writes the answer
	c.Context().HijackSetNoResponse(true)
	c.Context().Hijack(func(hijacked net.Conn) {
		nc := hijacked
		if u, ok := hijacked.(interface{ UnsafeConn() net.Conn }); ok {
			// The bare connection: reading through fasthttp's wrapper would
			// keep its request reader. A client sends nothing before the 101
			// (RFC 6455 §4.1), so that reader holds nothing unread.
			nc = u.UnsafeConn()
		}
		w := &hijackWriter{conn: nc}
		ws, err := s.wsUpgrader.Upgrade(w, req, nil)
		if err != nil {
			w.fail()
			return
		}
		go s.Live.Serve(ws, a, session)
	})
	return nil
}

// hijackWriter is the http.ResponseWriter the upgrader expects: it hijacks to
// the bare connection. Only a refused handshake writes through it.
type hijackWriter struct {
	conn   net.Conn
	header http.Header
	status int
	body   []byte
}

func (w *hijackWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *hijackWriter) WriteHeader(status int) { w.status = status }

func (w *hijackWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body = append(w.body, b...)
	return len(b), nil
}

// Hijack hands over the connection with buffers of the smallest size: the
// upgrader allocates its own (ReadBufferSize) and only uses the writer's for
// the 101 answer.
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.conn, bufio.NewReadWriter(bufio.NewReaderSize(w.conn, 16), bufio.NewWriterSize(w.conn, 16)), nil
}

// fail writes a refused handshake's answer, if the upgrader made one, and
// closes the connection (it is ours since the hijack).
func (w *hijackWriter) fail() {
	if w.status != 0 {
		_ = w.conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = fmt.Fprintf(w.conn, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			w.status, http.StatusText(w.status), len(w.body), w.body)
	}
	_ = w.conn.Close()
}
