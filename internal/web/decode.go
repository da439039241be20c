package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/store"
)

// badRequest is malformed input that is not a per-field problem.
type badRequest struct{ msg string }

func (b *badRequest) Error() string { return b.msg }

// decodeJSON reads exactly one JSON object into dst (SPEC §4): member names
// match the json tags exactly (encoding/json would also take "ROLE" for "role",
// and let a repeated name win), a repeated name, an unknown name and trailing
// data are refused. It uses the JSON v2 decoder (go-json-experiment/json, the
// proposal behind encoding/json/v2), whose defaults are exactly these rules.
func decodeJSON(c *fiber.Ctx, dst any) error {
	body := c.Body()
	if ct := c.Get(fiber.HeaderContentType); ct != "" && !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return &badRequest{"Content-Type must be application/json"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return &badRequest{"request body is empty; a JSON object is expected"}
	}
	if b := bytes.TrimSpace(body); b[0] != '{' {
		return &badRequest{"a JSON object is expected"}
	}
	if err := jsonv2.Unmarshal(body, dst, jsonv2.RejectUnknownMembers(true)); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonError words a decoding error for the client: which member, what was wrong.
func jsonError(err error) error {
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName):
		return &badRequest{fmt.Sprintf("member %q appears more than once", syn.JSONPointer.LastToken())}
	case errors.As(err, &syn) && errors.Is(err, io.ErrUnexpectedEOF):
		return &badRequest{"malformed JSON: unexpected end"}
	case errors.As(err, &syn):
		return &badRequest{fmt.Sprintf("malformed JSON at byte %d", syn.ByteOffset)}
	case errors.As(err, &sem) && errors.Is(sem.Err, jsonv2.ErrUnknownName):
		return &badRequest{fmt.Sprintf("unknown field %q", sem.JSONPointer.LastToken())}
	case errors.As(err, &sem) && sem.JSONPointer != "":
		want := "of another type"
		if sem.GoType != nil {
			want = jsonKindOf(sem.GoType)
		}
		return &badRequest{fmt.Sprintf("field %q must be %s", strings.TrimPrefix(string(sem.JSONPointer), "/"), want)}
	}
	return &badRequest{"malformed JSON"}
}

// jsonKindOf names the JSON a Go type is decoded from, for error messages.
func jsonKindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Time]():
		return "an RFC 3339 time"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return "an array"
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		return "an object"
	}
	return t.String()
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
