package web

import (
	"context"
	"sync"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/gwd-jst/forumjst/internal/access"
)

const (
	localWSActor = "ws.actor"
	localWSToken = "ws.token"
)

// wsRoutes mounts GET /ws (SPEC §5). Authentication and the Origin check run in
// wsGate before the upgrade; the contrib middleware's allow-every-origin default
// is replaced by the same single origin as a second line.
func (s *server) wsRoutes() []route {
	upgrade := websocket.New(s.serveWS, websocket.Config{
		Origins: []string{s.Config.Origin()},
		// Small buffers and a shared write-buffer pool keep an idle
		// connection's memory low; frames larger than a buffer still work.
		ReadBufferSize:  1024,
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
	return c.Next()
}

func (s *server) serveWS(conn *websocket.Conn) {
	a, _ := conn.Locals(localWSActor).(*access.Actor)
	token, _ := conn.Locals(localWSToken).(string)
	s.Live.Serve(conn.Conn, a, func(ctx context.Context) (*access.Actor, error) {
		p, err := s.Accounts.Check(ctx, token)
		if err != nil {
			return nil, err
		}
		return p.Actor, nil
	})
}
