package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/store"
)

// badRequest is malformed input that is not a per-field problem.
type badRequest struct{ msg string }

func (b *badRequest) Error() string { return b.msg }

// decodeJSON reads exactly one JSON object into dst, refusing unknown fields and
// trailing data (SPEC §4).
func decodeJSON(c *fiber.Ctx, dst any) error {
	body := c.Body()
	if ct := c.Get(fiber.HeaderContentType); ct != "" && !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return &badRequest{"Content-Type must be application/json"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return &badRequest{"request body is empty; a JSON object is expected"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return &badRequest{fmt.Sprintf("malformed JSON at byte %d", se.Offset)}
		case errors.As(err, &te):
			return &badRequest{fmt.Sprintf("field %q must be %s", te.Field, te.Type)}
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return &badRequest{strings.TrimPrefix(err.Error(), "json: ")}
		case errors.Is(err, io.ErrUnexpectedEOF):
			return &badRequest{"malformed JSON: unexpected end"}
		}
		return &badRequest{"malformed JSON: " + err.Error()}
	}
	if dec.More() {
		return &badRequest{"exactly one JSON object is expected"}
	}
	return nil
}

// idParam parses a positive integer path parameter; anything else is not found.
func idParam(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fiber.ErrNotFound
	}
	return id, nil
}

// pageParams reads limit (default 50, max 200) and page (from 1).
func pageParams(c *fiber.Ctx) (store.Page, int, error) {
	limit, page := 50, 1
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return store.Page{}, 0, &badRequest{"limit must be between 1 and 200"}
		}
		limit = n
	}
	if v := c.Query("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			return store.Page{}, 0, &badRequest{"page must be a positive number"}
		}
		page = n
	}
	// Ask for one more than shown to know whether there is a next page.
	return store.Page{Limit: limit + 1, Offset: (page - 1) * limit}, page, nil
}

// listResponse is the shape of every paginated JSON list.
type listResponse[T any] struct {
	Items   []T  `json:"items"`
	Page    int  `json:"page"`
	Limit   int  `json:"limit"`
	HasMore bool `json:"has_more"`
}

func paginate[T any](items []T, p store.Page, page int) listResponse[T] {
	limit := p.Limit - 1
	more := len(items) > limit
	if more {
		items = items[:limit]
	}
	return listResponse[T]{Items: items, Page: page, Limit: limit, HasMore: more}
}
