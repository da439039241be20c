package web

import (
	"context"
	"sync"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/valyala/fasthttp"

	"github.com/gwd-jst/forumjst/internal/access"
)

const (
	localWSActor   = "ws.actor"
	localWSToken   = "ws.token"
	localWSRequest = "ws.request" // fasthttp's request context, see releaseRequest
)

// wsRoutes mounts GET /ws (SPEC §5). Authentication and the Origin check run in
// wsGate before the upgrade; the contrib middleware's allow-every-origin default
// is replaced by the same single origin as a second line.
func (s *server) wsRoutes() []route {
	upgrade := websocket.New(s.serveWS, websocket.Config{
		Origins: []string{s.Config.Origin()},
		// Small buffers and a shared write-buffer pool keep an idle
		// connection's memory low; frames larger than a buffer still work.
		// The socket reads through fasthttp's request reader (8 KiB, kept by
		// the hijacked connection), so the websocket's own read buffer only
		// has to hold a frame header or a control frame (125 bytes): a
		// larger one would buffer the same bytes twice.
		ReadBufferSize:  wsReadBuffer,
		WriteBufferSize: 1024,
		WriteBufferPool: &sync.Pool{},
	})
	ws := get("/ws", s.wsGate, upgrade)
	ws.socket = true
	return []route{ws}
}

// wsGate refuses what must not become a websocket: plain HTTP requests (426),
// other origins (403: no cross-site websocket hijacking) and visitors without a
// session (401). It copies what the connection needs out of the request.
func (s *server) wsGate(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
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
	c.Locals(localWSRequest, c.Context())
	return c.Next()
}

func (s *server) serveWS(conn *websocket.Conn) {
	a, _ := conn.Locals(localWSActor).(*access.Actor)
	token, _ := conn.Locals(localWSToken).(string)
	if rc, ok := conn.Locals(localWSRequest).(*fasthttp.RequestCtx); ok {
		releaseRequest(conn, rc)
	}
	s.Live.Serve(conn.Conn, a, func(ctx context.Context) (*access.Actor, error) {
		p, err := s.Accounts.Check(ctx, token)
		if err != nil {
			return nil, err
		}
		return p.Actor, nil
	})
}

// wsReadBuffer is the websocket's own read buffer: 128 bytes, just above
// the smallest the library accepts (a control frame's 125-byte payload).
const wsReadBuffer = 128

// releaseRequest lets go of what the socket no longer needs of its HTTP
// request but would hold for its whole life: the contrib middleware runs the
// socket inside fasthttp's hijack handler, and fasthttp recycles the request
// context only when that returns (issue 16). That is the parsed request and
// response headers (argument arrays, raw header bytes, the written answer)
// and the request's locals — its deadline context, session, request ID —
// both in the context and in the middleware's copies (cleared to nil: it has
// no delete). By the time the handler runs, the 101 answer has been written
// and what the connection needs was read (serveWS), and fasthttp does not
// touch the context again until it resets it for reuse. Zero headers are
// what a new context starts with; the server sets their per-request options
// again for every request it reads. No local on this route is an io.Closer
// (ResetUserValues would close it now instead of at the socket's end).
func releaseRequest(conn *websocket.Conn, rc *fasthttp.RequestCtx) {
	rc.VisitUserValues(func(key []byte, _ any) { conn.Locals(string(key), nil) })
	rc.ResetUserValues()
	rc.Request.Header = fasthttp.RequestHeader{}
	rc.Response.Header = fasthttp.ResponseHeader{}
}
